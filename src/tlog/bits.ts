/**
 * Integer helpers for tree sizes and indices up to 2^53 - 1. JavaScript's bit operators work on 32
 * bits only, so every helper splits a value into its high and low 32-bit words. Internal module.
 */
const TWO32 = 4294967296;

/** True for a safe, non-negative integer: the domain of every tree size and index here. */
export function isIndex(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Number of bits needed to write `n` (0 for 0), like Go's bits.Len64. */
export function bitLength(n: number): number {
  if (n < TWO32) return 32 - Math.clz32(n);
  return 64 - Math.clz32(Math.floor(n / TWO32));
}

/** Number of trailing zero bits of `n` > 0, like Go's bits.TrailingZeros64. */
export function trailingZeros(n: number): number {
  const lo = n >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(n / TWO32);
  return 32 + (31 - Math.clz32(hi & -hi));
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Number of set bits of `n`. */
export function popcount(n: number): number {
  return popcount32(n >>> 0) + popcount32(Math.floor(n / TWO32));
}

/** Bitwise XOR of two safe non-negative integers. */
export function xor(a: number, b: number): number {
  return (Math.floor(a / TWO32) ^ Math.floor(b / TWO32)) * TWO32 + ((a ^ b) >>> 0);
}

/** floor(n / 2^k). */
export function shr(n: number, k: number): number {
  return k < 31 ? (n < TWO32 ? n >>> k : Math.floor(n / (1 << k))) : Math.floor(n / 2 ** k);
}
