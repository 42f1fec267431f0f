/**
 * Return-series statistics with the conventions of quantopian/empyrical 0.5.5 (empyrical/stats.py
 * at 40f61b4), checked against its test vectors (test/vectors/metrics). Inputs are simple,
 * non-cumulative periodic returns; `NaN` marks a missing period and is handled exactly as
 * empyrical does (skipped by means and deviations, counted as a period by `annualReturn`,
 * a zero return in drawdowns). Where empyrical answers ±inf or NaN, these answer `null`
 * (docs/methodology.md, "undefined values"); a number is always finite.
 *
 * Floats only: money is exact elsewhere (fixed.ts); these are statistics of it.
 */

/** A per-period value: a number applied to every period, or one value per period. */
export type PerPeriod = number | ArrayLike<number>;

const at = (v: PerPeriod, i: number): number => (typeof v === 'number' ? v : v[i]!);
const fin = (x: number): number | null => (Number.isFinite(x) ? x + 0 : null);

/** Arithmetic mean of the non-missing values; null when there are none. */
export function mean(xs: ArrayLike<number>): number | null {
  let s = 0;
  let c = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (x !== x) continue;
    const t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s; // Neumaier compensation
    s = t;
    n++;
  }
  return n === 0 ? null : (s + c) / n;
}

/** Sample standard deviation (ddof = 1) of the non-missing values, two-pass; null below 2. */
export function stdev(xs: ArrayLike<number>): number | null {
  const m = mean(xs);
  if (m === null) return null;
  let ss = 0;
  let n = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (x !== x) continue;
    const d = x - m;
    ss += d * d;
    n++;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (n < 2) return null;
  // A constant series has zero dispersion exactly, whatever rounding did to its mean.
  return lo === hi ? 0 : Math.sqrt(ss / (n - 1));
}

function adjusted(r: ArrayLike<number>, by: PerPeriod): ArrayLike<number> {
  if (by === 0) return r;
  const out = new Float64Array(r.length);
  for (let i = 0; i < r.length; i++) out[i] = r[i]! - at(by, i);
  return out;
}

/**
 * Annualized Sharpe ratio: mean(r − rf) / std(r − rf, ddof=1) · √N, rf per period.
 * Null with fewer than two periods or zero dispersion (empyrical: NaN / ±inf).
 *
 * @example
 * sharpeRatio([0.01, 0.02, -0.01], 365) // 6.64…
 */
export function sharpeRatio(r: ArrayLike<number>, annualization: number, riskFree: PerPeriod = 0) {
  if (r.length < 2) return null;
  const adj = adjusted(r, riskFree);
  const m = mean(adj);
  const s = stdev(adj);
  if (m === null || s === null || s === 0) return null;
  return fin((m / s) * Math.sqrt(annualization));
}

/** Legacy name of `sharpeRatio` with rf = 0 (v1 callers). */
export function sharpe(xs: ArrayLike<number>, periodsPerYear: number): number | null {
  return sharpeRatio(xs, periodsPerYear);
}

/** Annualized volatility: std(r, ddof=1) · √N; null below two periods. */
export function annualVolatility(r: ArrayLike<number>, annualization: number): number | null {
  if (r.length < 2) return null;
  const s = stdev(r);
  return s === null ? null : fin(s * Math.sqrt(annualization));
}

/**
 * Downside risk: √(mean(min(r − MAR, 0)²)) · √N over every non-missing period (ddof = 0).
 * Null on an empty series.
 */
export function downsideRisk(
  r: ArrayLike<number>,
  annualization: number,
  requiredReturn: PerPeriod = 0,
): number | null {
  let s = 0;
  let n = 0;
  for (let i = 0; i < r.length; i++) {
    const d = r[i]! - at(requiredReturn, i);
    if (d !== d) continue;
    if (d < 0) s += d * d;
    n++;
  }
  if (n === 0) return null;
  return fin(Math.sqrt(s / n) * Math.sqrt(annualization));
}

/**
 * Sortino ratio: mean(r − MAR) · N / downsideRisk. Null below two periods or when there is
 * no downside at all (empyrical: ±inf / NaN).
 */
export function sortinoRatio(
  r: ArrayLike<number>,
  annualization: number,
  requiredReturn: PerPeriod = 0,
): number | null {
  if (r.length < 2) return null;
  const m = mean(adjusted(r, requiredReturn));
  const dr = downsideRisk(r, annualization, requiredReturn);
  if (m === null || dr === null || dr === 0) return null;
  return fin((m * annualization) / dr);
}

/** Π(1 + r) over non-missing periods, minus 1 (or times `startingValue` when it is not 0). */
export function cumReturnsFinal(r: ArrayLike<number>, startingValue = 0): number | null {
  if (r.length === 0) return null;
  const g = growth(r);
  return fin(startingValue === 0 ? g - 1 : g * startingValue);
}

/** Π(1 + r) skipping missing values. */
function growth(r: ArrayLike<number>): number {
  let p = 1;
  for (let i = 0; i < r.length; i++) {
    const x = r[i]!;
    if (x === x) p *= 1 + x;
  }
  return p;
}

/**
 * CAGR (empyrical `annual_return`): (Π(1+r))^(N / n) − 1, where n counts every period,
 * missing ones included. Null when empty or when the growth is negative.
 */
export function annualReturn(r: ArrayLike<number>, annualization: number): number | null {
  if (r.length === 0) return null;
  return fin(growth(r) ** (1 / (r.length / annualization)) - 1);
}

/**
 * Maximum drawdown as a negative fraction (0 when the curve never falls), on the wealth curve
 * 1, 1·(1+r₁), … so a loss in the first period counts. Missing periods are zero returns.
 */
export function maxDrawdown(r: ArrayLike<number>): number | null {
  if (r.length === 0) return null;
  let w = 1;
  let peak = 1;
  let mdd = 0;
  for (let i = 0; i < r.length; i++) {
    const x = r[i]!;
    if (x === x) w *= 1 + x;
    if (w > peak) peak = w;
    const dd = (w - peak) / peak;
    if (dd < mdd) mdd = dd;
  }
  return fin(mdd);
}

/** Calmar ratio: CAGR / |max drawdown|; null when there is no drawdown (empyrical: NaN). */
export function calmarRatio(r: ArrayLike<number>, annualization: number): number | null {
  const mdd = maxDrawdown(r);
  if (mdd === null || !(mdd < 0)) return null;
  const cagr = annualReturn(r, annualization);
  return cagr === null ? null : fin(cagr / -mdd);
}

/**
 * Omega ratio: Σ(x⁺) / Σ(−x⁻) with x = r − rf − threshold, threshold = (1 + requiredReturn)^(1/N) − 1
 * (requiredReturn is annual; per period when N = 1). Null below two periods, for
 * requiredReturn ≤ −1, or when nothing falls below the threshold.
 */
export function omegaRatio(
  r: ArrayLike<number>,
  riskFree = 0,
  requiredReturn = 0,
  annualization = 252,
): number | null {
  if (r.length < 2) return null;
  let thr: number;
  if (annualization === 1) thr = requiredReturn;
  else if (requiredReturn <= -1) return null;
  else thr = (1 + requiredReturn) ** (1 / annualization) - 1;
  let up = 0;
  let down = 0;
  for (let i = 0; i < r.length; i++) {
    const x = r[i]! - riskFree - thr;
    if (x > 0) up += x;
    else if (x < 0) down -= x;
  }
  return down > 0 ? fin(up / down) : null;
}

// ── order statistics ──────────────────────────────────────────────────────────────────────

/** The non-missing values, copied. */
function present(r: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < r.length; i++) if (r[i] === r[i]) n++;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < r.length; i++) {
    const x = r[i]!;
    if (x === x) out[j++] = x;
  }
  return out;
}

/**
 * Rearranges a[lo..hi] so that a[k] is the value a sort would put there, smaller-or-equal values
 * before it and larger-or-equal after (Hoare's quickselect, median-of-three pivots). O(n).
 */
export function select(a: Float64Array, k: number, lo = 0, hi = a.length - 1): number {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as pivot, moved to a[lo]
    let x = a[lo]!;
    let y = a[mid]!;
    let z = a[hi]!;
    if (x > y) [x, y] = [y, x];
    if (y > z) [y, z] = [z, y];
    if (x > y) [x, y] = [y, x];
    const pivot = y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Smallest of a[from..]. */
function minFrom(a: Float64Array, from: number): number {
  let m = Infinity;
  for (let i = from; i < a.length; i++) if (a[i]! < m) m = a[i]!;
  return m;
}

/** NumPy 1.24's `_lerp`, bit for bit (it switches form at t = ½). */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/**
 * The q-th percentile (0..100) of `a` by NumPy's default linear interpolation, reordering `a`
 * in place with selections (no full sort). `a` holds no NaN and is not empty. Percentiles are
 * cheapest asked in increasing order: each selection narrows to the part left unsorted.
 */
export function percentileInPlace(a: Float64Array, q: number, from = 0): number {
  const h = (a.length - 1) * (q / 100);
  const k = Math.floor(h);
  const lo = select(a, k, from);
  if (k + 1 >= a.length) return lo;
  const hiV = minFrom(a, k + 1);
  return lerp(lo, hiV, h - k);
}

/** np.percentile(r, q) over the non-missing values; null when there are none. */
export function percentile(r: ArrayLike<number>, q: number): number | null {
  const a = present(r);
  return a.length === 0 ? null : fin(percentileInPlace(a, q));
}

/**
 * Tail ratio: |95th percentile| / |5th percentile| of the non-missing returns. Null when empty
 * or when the 5th percentile is 0 (empyrical: inf / NaN).
 */
export function tailRatio(r: ArrayLike<number>): number | null {
  const a = present(r);
  if (a.length === 0) return null;
  const p5 = percentileInPlace(a, 5);
  const p95 = percentileInPlace(a, 95, Math.floor((a.length - 1) * 0.05));
  return p5 === 0 ? null : fin(Math.abs(p95) / Math.abs(p5));
}

/**
 * Historical value at risk: the `cutoff` quantile of the returns (np.percentile, linear).
 * Missing values are dropped (empyrical propagates NaN instead); null when none remain.
 */
export function valueAtRisk(r: ArrayLike<number>, cutoff = 0.05): number | null {
  return percentile(r, 100 * cutoff);
}

/**
 * Conditional value at risk (expected shortfall): the mean of the ⌊(n−1)·cutoff⌋+1 smallest
 * returns, as empyrical. Missing values are dropped; null when none remain.
 */
export function conditionalValueAtRisk(r: ArrayLike<number>, cutoff = 0.05): number | null {
  const a = present(r);
  if (a.length === 0) return null;
  const k = Math.floor((a.length - 1) * cutoff);
  select(a, k);
  let s = 0;
  for (let i = 0; i <= k; i++) s += a[i]!;
  return fin(s / (k + 1));
}

/**
 * Stability: R² of a least-squares line through cumsum(log1p(r)) against time, over the
 * non-missing returns (scipy linregress; R = 0 when the cumulative log return is flat).
 * Null below two returns or when a return is ≤ −1 (log of a non-positive wealth).
 */
export function stabilityOfTimeseries(r: ArrayLike<number>): number | null {
  const a = present(r);
  const n = a.length;
  if (n < 2) return null;
  let y = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    y += Math.log1p(a[i]!);
    a[i] = y;
    sy += y;
  }
  if (!Number.isFinite(sy)) return null;
  return linregressR2(a, sy / n);
}

/** R² of y against 0..n−1, given mean(y). */
function linregressR2(y: Float64Array, my: number): number | null {
  const n = y.length;
  const mx = (n - 1) / 2;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dy = y[i]! - my;
    sxy += (i - mx) * dy;
    syy += dy * dy;
  }
  const sxx = (n * (n * n - 1)) / 12; // Σ(i − mx)² in closed form
  const den = Math.sqrt(sxx * syy);
  if (den === 0) return 0;
  let rv = sxy / den;
  if (rv > 1) rv = 1;
  else if (rv < -1) rv = -1;
  return fin(rv * rv);
}
