/**
 * Exact fixed-point money: every amount is an integer count of ticks, 1 tick = 1e-8 of a unit
 * (the exchanges' own smallest unit). A tick count is a JS `number` while it is a safe integer
 * (|x| ≤ 2^53 − 1, about ±90 million units) and a `bigint` beyond, so the common case runs on
 * doubles with no allocation and large books stay exact. Every function here returns the same
 * integer whatever representation its inputs had; property tests check the two paths agree.
 *
 * Sums are exact. The only rounding is in `mulDiv` (a·b/c, half to even), used for values
 * (amount × price), pro-rata cost splits and fee splits: each call errs by at most ½ tick.
 *
 * Pure and browser-safe.
 */

/** An exact amount in ticks (1e-8 units): a safe-integer `number`, or a `bigint` beyond that. */
export type Tick = number | bigint;

/** Ticks per unit. */
export const SCALE = 100_000_000;
/** Decimal places of a tick. */
export const SCALE_DIGITS = 8;

const MAX = Number.MAX_SAFE_INTEGER; // 2^53 − 1
const MAXB = BigInt(MAX);
const P52 = 2 ** 52;
const P50 = 2 ** 50;
const P100 = 2 ** 100;
const SPLIT = 134_217_729; // 2^27 + 1, Veltkamp's splitter
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i); // exact up to 1e22
const POW10B = Array.from({ length: 80 }, (_, i) => 10n ** BigInt(i));

/** Back to a `number` when it fits; keeps one canonical representation per value. */
export function norm(x: bigint): Tick {
  return x >= -MAXB && x <= MAXB ? Number(x) : x;
}

const big = (x: Tick): bigint => (typeof x === 'number' ? BigInt(x) : x);

export function add(a: Tick, b: Tick): Tick {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a + b;
    // Both operands are safe integers, so the sum is exact unless its magnitude passes 2^53.
    if (s <= MAX && s >= -MAX) return s;
  }
  return norm(big(a) + big(b));
}

export function sub(a: Tick, b: Tick): Tick {
  if (typeof a === 'number' && typeof b === 'number') {
    const s = a - b;
    if (s <= MAX && s >= -MAX) return s;
  }
  return norm(big(a) - big(b));
}

export function neg(a: Tick): Tick {
  return typeof a === 'number' ? -a + 0 : norm(-a);
}

export function sign(a: Tick): -1 | 0 | 1 {
  return a > 0 ? 1 : a < 0 ? -1 : 0;
}

export function abs(a: Tick): Tick {
  return a < 0 ? neg(a) : a;
}

/** -1, 0 or 1 as a < b, a = b, a > b (mixed representations compare exactly). */
export function cmp(a: Tick, b: Tick): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function isZero(a: Tick): boolean {
  return a === 0 || a === 0n;
}

/** The float value in units (for statistics and JSON output; the error is ≤ ½ ulp). */
export function toNumber(a: Tick): number {
  return typeof a === 'number' ? a / SCALE : Number(a) / SCALE;
}

/** Exact decimal string in units, with 8 decimals: `-12.50000000`. */
export function toDecimal(a: Tick): string {
  const b = big(a);
  const neg_ = b < 0n;
  const s = (neg_ ? -b : b).toString().padStart(SCALE_DIGITS + 1, '0');
  const cut = s.length - SCALE_DIGITS;
  return `${neg_ ? '-' : ''}${s.slice(0, cut)}.${s.slice(cut)}`;
}

/** Ticks from a float number of units (test and CLI helper; rounds to the nearest tick). */
export function fromNumber(x: number): Tick {
  const t = Math.round(x * SCALE);
  if (Number.isSafeInteger(t)) return t + 0;
  return norm(BigInt(t));
}

// ── mulDiv ────────────────────────────────────────────────────────────────────────────────

/**
 * a·b/c for non-negative safe integers with c in (0, 2^50], rounded half to even, computed
 * exactly in doubles; NaN when the fast path cannot guarantee exactness (the caller then
 * uses BigInt). a·b is carried exactly as p + e (Dekker's TwoProduct, Veltkamp splitting: no
 * FMA needed), the quotient estimate is fixed up with the exact remainder a·b − q·c.
 */
function mulDivFloat(a: number, b: number, c: number): number {
  const p = a * b;
  if (!(p < P100) || c > P50) return NaN;
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const e = ah * bh - p + ah * bl + al * bh + al * bl; // a·b = p + e exactly
  let q = Math.floor(p / c);
  if (q > P52) return NaN;
  const p2 = q * c;
  t = SPLIT * q;
  const qh = t - (t - q);
  const ql = q - qh;
  t = SPLIT * c;
  const ch = t - (t - c);
  const cl = c - ch;
  const e2 = qh * ch - p2 + qh * cl + ql * ch + ql * cl; // q·c = p2 + e2 exactly
  // p and p2 are within a factor of 2 of each other (Sterbenz) unless q = 0, where p2 = 0;
  // e and e2 are integers below 2^48 here, so every term below is an exact integer.
  let r = p - p2 + (e - e2);
  if (!(r < P52 && r > -P52)) return NaN;
  while (r < 0) {
    q -= 1;
    r += c;
  }
  while (r >= c) {
    q += 1;
    r -= c;
  }
  const twice = 2 * r;
  if (twice > c || (twice === c && q % 2 === 1)) q += 1;
  return q;
}

/**
 * `mulDiv` for safe-integer numbers only: the exact result, or NaN when it needs BigInt (an
 * intermediate or the result past the double fast path). Allocation-free, for hot loops.
 */
export function mulDivNum(a: number, b: number, c: number): number {
  const s = (a < 0 ? -1 : 1) * (b < 0 ? -1 : 1) * (c < 0 ? -1 : 1);
  const q = mulDivFloat(a < 0 ? -a : a, b < 0 ? -b : b, c < 0 ? -c : c);
  return s * q + 0;
}

function mulDivBig(a: bigint, b: bigint, c: bigint): bigint {
  const n = a * b;
  const negative = n < 0n !== c < 0n;
  const an = n < 0n ? -n : n;
  const ac = c < 0n ? -c : c;
  let q = an / ac;
  const r2 = (an % ac) * 2n;
  if (r2 > ac || (r2 === ac && q % 2n === 1n)) q += 1n;
  return negative ? -q : q;
}

/**
 * round_half_even(a·b / c), exactly. `c` must not be zero.
 *
 * @example
 * mulDiv(1000_00000000, 1, 3) // 333_33333333 (a third of 1000 units, to the tick)
 */
export function mulDiv(a: Tick, b: Tick, c: Tick): Tick {
  if (typeof a === 'number' && typeof b === 'number' && typeof c === 'number') {
    const q = mulDivNum(a, b, c);
    if (q === q) return q;
  }
  return norm(mulDivBig(big(a), big(b), big(c)));
}

// ── parsing ───────────────────────────────────────────────────────────────────────────────

/** Counters a parse reports into: amounts that had more than 8 decimals and were rounded. */
export interface ParseStats {
  rounded: number;
}

/**
 * Ticks from an exchange decimal string (`-0.00100000`, `12`, `1e-7`, `+3.5`). Digits past the
 * 8th decimal are rounded half to even and counted in `stats.rounded`. Returns `undefined` for
 * anything that is not a finite decimal (attacker-controlled input: parsed defensively, never
 * thrown on).
 */
/**
 * Parses three amounts with `parseNum` into out[0..2] (raw doubles: nothing is boxed or
 * allocated); false as soon as one needs the general parser.
 */
export function parseNum3(a: string, b: string, c: string, out: Float64Array): boolean {
  const x = parseNum(a);
  if (x !== x) return false;
  const y = parseNum(b);
  if (y !== y) return false;
  const z = parseNum(c);
  if (z !== z) return false;
  out[0] = x;
  out[1] = y;
  out[2] = z;
  return true;
}

/** `mulDivNum` into out[i] (no boxing); false when the result needs BigInt. */
export function mulDivInto(a: number, b: number, c: number, out: Float64Array, i: number): boolean {
  const q = mulDivNum(a, b, c);
  out[i] = q;
  return q === q;
}

export function parseTicks(s: string, stats?: ParseStats): Tick | undefined {
  const t = parseNum(s);
  return t === t ? t : parseSlow(s, stats);
}

/**
 * `parseTicks`' fast path alone: `[-+]?digits[.digits]` with at most 15 digits and 8 decimals,
 * as a safe-integer tick count; NaN for every other string (which `parseTicks` hands to the
 * exact BigInt parser). Allocation-free, for hot loops.
 */
export function parseNum(s: string): number {
  const n = s.length;
  if (n === 0 || n > 17) return NaN;
  let i = 0;
  const c = s.charCodeAt(0);
  const negative = c === 45;
  if (negative || c === 43) i = 1;
  const intStart = i;
  let m = 0;
  let d = 0;
  for (; i < n; i++) {
    d = s.charCodeAt(i) - 48;
    if (d >>> 0 > 9) break;
    m = m * 10 + d;
  }
  const intDigits = i - intStart;
  if (intDigits === 0) return NaN;
  let frac = 0;
  if (i < n) {
    if (d !== -2) return NaN; // not a '.'
    const fracStart = ++i;
    for (; i < n; i++) {
      d = s.charCodeAt(i) - 48;
      if (d >>> 0 > 9) return NaN;
      m = m * 10 + d;
    }
    frac = n - fracStart;
    if (frac === 0 || frac > SCALE_DIGITS) return NaN;
  }
  if (intDigits + frac > 15) return NaN; // m might not be exact
  const t = m * POW10[SCALE_DIGITS - frac]!;
  if (t > MAX) return NaN;
  return negative ? -t + 0 : t;
}

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,4}))?$/;

function parseSlow(s: string, stats?: ParseStats): Tick | undefined {
  if (s.length > 200) return undefined;
  const m = DECIMAL.exec(s);
  if (!m) return undefined;
  const intPart = m[2]!;
  const fracPart = m[3] ?? '';
  const exp = Number(m[4] ?? '0');
  // value = digits · 10^(exp − frac.length); ticks = value · 10^8
  const digits = BigInt(intPart + fracPart);
  const shift = exp - fracPart.length + SCALE_DIGITS;
  let t: bigint;
  if (shift >= 0) {
    if (shift >= POW10B.length) return digits === 0n ? 0 : undefined;
    t = digits * POW10B[shift]!;
  } else {
    const k = -shift;
    if (k >= POW10B.length) {
      if (digits !== 0n && stats) stats.rounded++;
      return 0;
    }
    t = mulDivBig(digits, 1n, POW10B[k]!);
    if (stats && t * POW10B[k]! !== digits) stats.rounded++;
  }
  if (m[1] === '-') t = -t;
  return norm(t);
}

/**
 * A price as an exact decimal fraction `num / den` (den a power of ten), for `value()`. Parsed
 * once per oracle answer; `undefined` for anything that is not a finite, non-negative decimal.
 */
export interface Price {
  num: Tick;
  den: Tick;
}

export function parsePrice(s: string): Price | undefined {
  // fast path: plain digits with an optional point, at most 15 significant digits
  const n = s.length;
  if (n > 0 && n <= 16) {
    let m = 0;
    let frac = -1;
    let ok = true;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === 46 && frac < 0 && i > 0 && i < n - 1) frac = 0;
      else if (c >= 48 && c <= 57) {
        m = m * 10 + (c - 48);
        if (frac >= 0) frac++;
      } else {
        ok = false;
        break;
      }
    }
    if (ok && m <= MAX) return { num: m, den: POW10[frac < 0 ? 0 : frac]! };
  }
  const m = DECIMAL.exec(s);
  if (!m || m[1] === '-' || s.length > 80) return undefined;
  const fracPart = m[3] ?? '';
  const exp = Number(m[4] ?? '0');
  const digits = BigInt(m[2]! + fracPart);
  const k = fracPart.length - exp; // value = digits / 10^k
  if (k <= 0) {
    if (-k >= POW10B.length) return undefined;
    return { num: norm(digits * POW10B[-k]!), den: 1 };
  }
  if (k >= POW10B.length) return undefined;
  return { num: norm(digits), den: k <= 15 ? POW10[k]! : POW10B[k]! };
}

/** The price of exactly one unit (a par asset). */
export const ONE: Price = { num: 1, den: 1 };

/** amount × price in ticks, rounded half to even to the tick (at most ½ tick off). */
export function value(amount: Tick, p: Price): Tick {
  if (p.den === 1) {
    if (p.num === 1) return amount;
    if (typeof amount === 'number' && typeof p.num === 'number') {
      const v = amount * p.num;
      if (v <= MAX && v >= -MAX) return v + 0;
    }
    return norm(big(amount) * big(p.num));
  }
  return mulDiv(amount, p.num, p.den);
}

// ── accumulators ──────────────────────────────────────────────────────────────────────────

/**
 * An exact running sum that stays on doubles: the low part absorbs additions while it is below
 * 2^52 and spills into a bigint high part otherwise. Cheaper than `add` once totals pass 2^53.
 */
export class Acc {
  private lo = 0;
  private hi = 0n;

  add(x: Tick): void {
    if (typeof x === 'number') {
      const s = this.lo + x;
      if (s < P52 && s > -P52) {
        this.lo = s;
        return;
      }
      this.hi += BigInt(this.lo) + BigInt(x);
      this.lo = 0;
      return;
    }
    this.hi += x;
  }

  get value(): Tick {
    return this.hi === 0n ? this.lo + 0 : norm(this.hi + BigInt(this.lo));
  }
}
