/** Sample statistics with the conventions of empyrical (ddof = 1). Undefined results are null. */

export function mean(xs: ArrayLike<number>): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** Sample standard deviation (ddof = 1), by Welford's method for numerical stability. */
export function stdev(xs: ArrayLike<number>): number | null {
  if (xs.length < 2) return null;
  let m = 0;
  let m2 = 0;
  for (let i = 0; i < xs.length; i++) {
    const d = xs[i]! - m;
    m += d / (i + 1);
    m2 += d * (xs[i]! - m);
  }
  return Math.sqrt(m2 / (xs.length - 1));
}

/** Annualized Sharpe ratio, rf = 0: mean / std(ddof=1) · √N. Null with < 2 points or zero dispersion. */
export function sharpe(xs: ArrayLike<number>, periodsPerYear: number): number | null {
  const m = mean(xs);
  const s = stdev(xs);
  if (m === null || s === null || s === 0 || !Number.isFinite(s)) return null;
  return (m / s) * Math.sqrt(periodsPerYear);
}
