/**
 * Small deterministic primitives shared by the simulator's data modules. Amounts are BigInt counts
 * of 1e-8 units ("e8"), so every decimal string the simulator sends is exact.
 */

export const E8 = 100_000_000n;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** mulberry32: a tiny, well-mixed 32-bit PRNG. Not cryptographic; only makes data repeatable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, to derive a per-account seed from the simulator seed and the API key. */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Fixed 8-decimal form, as Binance sends price, qty and commission. */
export function fmt8(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / E8}.${(a % E8).toString().padStart(8, '0')}`;
}

/** Trailing zeros trimmed, as in the docs' quoteQty example ("48.000012") and deposit amounts. */
export function fmtTrim(v: bigint): string {
  return fmt8(v).replace(/0+$/, '').replace(/\.$/, '');
}

/** `n` random lowercase hex digits. */
export function hex(rnd: () => number, n: number): string {
  let s = '';
  while (s.length < n)
    s += Math.floor(rnd() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, n);
}
