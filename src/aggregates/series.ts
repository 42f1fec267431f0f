/**
 * Series-level metrics: one call from a return, equity or PnL series to every ratio the payload
 * carries. Same definitions as stats.ts (empyrical conventions, null for undefined), fused into
 * three passes over a Float64Array plus exact tail quantiles from a sampled bracket, so 1M
 * returns take tens of milliseconds.
 */
import { MetricsError } from './errors.js';
import { percentileInPlace, select } from './stats.js';

/** The return-based metrics, named as in the signed payload. */
export interface ReturnMetrics {
  /** number of returns (periods) the ratios were computed from */
  periods: number;
  annualization: number;
  /** Π(1 + r) − 1: the time-weighted return over the series */
  total_return: number | null;
  /** (Π(1 + r))^(N / periods) − 1 (empyrical `annual_return`) */
  cagr: number | null;
  /** std(r, ddof=1) · √N */
  volatility: number | null;
  /** mean(r) / std(r, ddof=1) · √N, rf = 0 */
  sharpe: number | null;
  /** mean(r) · N / downside_risk, MAR = 0 */
  sortino: number | null;
  /** √(mean(min(r, 0)²)) · √N */
  downside_risk: number | null;
  /** most negative (W / running max W − 1) on W = 1, Π(1 + r)…; 0 if never below a peak */
  max_drawdown: number | null;
  /** cagr / |max_drawdown| */
  calmar: number | null;
  /** Σ r⁺ / Σ r⁻ (threshold 0) */
  omega: number | null;
  /** |p95| / |p5| */
  tail_ratio: number | null;
  /** R² of cumsum(log1p r) against time */
  stability: number | null;
  /** 5th percentile of r (historical, linear interpolation) */
  value_at_risk: number | null;
  /** mean of the ⌊(n−1)·0.05⌋+1 smallest returns */
  conditional_value_at_risk: number | null;
}

const fin = (x: number): number | null => (Number.isFinite(x) ? x + 0 : null);
const P500 = 2 ** 500;
const SLACK = 2 ** -30; // far above the ~1e-16 rounding of g / peak, so no low is ever missed
const M500 = 2 ** -500;

function checkAnnualization(n: number): void {
  if (!(Number.isFinite(n) && n > 0)) throw new MetricsError('ERR_METRICS_OPTION');
}

/**
 * Every return metric of a series of simple periodic returns. `NaN` entries are missing periods,
 * treated exactly as the single-metric functions in stats.ts treat them.
 *
 * @example
 * metricsFromReturns(Float64Array.from([0.01, -0.02, 0.015]), 365).sharpe // 4.1…
 */
export function metricsFromReturns(returns: ArrayLike<number>, annualization = 365): ReturnMetrics {
  checkAnnualization(annualization);
  const n = returns.length;
  const nulls: ReturnMetrics = {
    periods: n,
    annualization,
    total_return: null,
    cagr: null,
    volatility: null,
    sharpe: null,
    sortino: null,
    downside_risk: null,
    max_drawdown: null,
    calmar: null,
    omega: null,
    tail_ratio: null,
    stability: null,
    value_at_risk: null,
    conditional_value_at_risk: null,
  };
  if (n === 0) return nulls;

  // Pass 1: count, compensated sum, extremes, growth (rescaled by exact powers of two so a
  // million periods neither overflow nor underflow), drawdown on the same scaled wealth,
  // downside and omega sums, cumulative log returns (kept for the regression).
  const ys = new Float64Array(n);
  let m = 0;
  let s = 0;
  let comp = 0;
  let lo = Infinity;
  let hi = -Infinity;
  let g = 1; // wealth / 2^gExp
  let gExp = 0;
  let peak = 1; // running max of the same scaled wealth
  let mdd = 0;
  let guard = 1 + SLACK; // peak·(1 + mdd + 2^-30): only below it can a new low be found
  let down2 = 0;
  let up = 0;
  let dn = 0;
  let y = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    const x = returns[i]!;
    if (x !== x) continue; // missing: no change to anything (a zero return for the drawdown)
    const t = s + x;
    comp += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s; // Neumaier
    s = t;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    g *= 1 + x;
    if (g > peak) {
      peak = g;
      guard = peak * (1 + mdd + SLACK);
    } else if (g < guard) {
      // only near a new low is the exact drawdown worth a division
      const dd = (g - peak) / peak; // as empyrical: (wealth − running max) / running max
      if (dd < mdd) {
        mdd = dd;
        guard = peak * (1 + mdd + SLACK);
      }
    }
    if (!(g < P500 && g > M500)) {
      if (g > P500) {
        g *= M500;
        peak *= M500;
        guard *= M500;
        gExp += 500;
      } else if (g > 0 && g < M500) {
        g *= P500;
        peak *= P500;
        guard *= P500;
        gExp -= 500;
      }
    }
    if (x < 0) {
      down2 += x * x;
      dn -= x;
    } else up += x;
    m++;
  }
  // only missing periods: empyrical's empty products give growth 1 (total 0, CAGR 0), no drawdown
  if (m === 0) return { ...nulls, total_return: 0, cagr: 0, max_drawdown: 0 };
  const mean = (s + comp) / m;

  // Pass 2 (its own loop: a libm call inside the loop above costs 3x): squared deviations from
  // the mean, cumulative log returns y and Σy.
  let ss = 0;
  for (let i = 0, j = 0; i < n; i++) {
    const x = returns[i]!;
    if (x !== x) continue;
    const d = x - mean;
    ss += d * d;
    y += Math.log1p(x);
    ys[j] = y;
    sy += y;
    j++;
  }
  // Pass 3, over the m cumulative logs only: the centred regression sums.
  const my = sy / m;
  const mx = (m - 1) / 2;
  let sxy = 0;
  let syy = 0;
  for (let j = 0; j < m; j++) {
    const dy = ys[j]! - my;
    sxy += (j - mx) * dy;
    syy += dy * dy;
  }
  const sd = m < 2 ? NaN : lo === hi ? 0 : Math.sqrt(ss / (m - 1));
  const rootN = Math.sqrt(annualization);

  const growth = gExp === 0 ? g : g * 2 ** gExp;
  const cagr =
    gExp === 0
      ? growth ** (annualization / n) - 1
      : g > 0
        ? Math.exp((Math.log(g) + gExp * Math.LN2) * (annualization / n)) - 1
        : NaN;
  const downsideRisk = Math.sqrt(down2 / m) * rootN;

  let stability: number | null = null;
  if (m >= 2 && Number.isFinite(sy)) {
    const den = Math.sqrt(((m * (m * m - 1)) / 12) * syy);
    let rv = den === 0 ? 0 : sxy / den;
    if (rv > 1) rv = 1;
    else if (rv < -1) rv = -1;
    stability = fin(rv * rv);
  }

  // Order statistics (5th and 95th percentiles, expected shortfall), exact.
  const q = tails(returns, m, ys);

  return {
    periods: n,
    annualization,
    total_return: fin(growth - 1),
    cagr: fin(cagr),
    volatility: fin(sd * rootN),
    sharpe: sd > 0 && m >= 2 && n >= 2 ? fin((mean / sd) * rootN) : null,
    sortino: n >= 2 && downsideRisk > 0 ? fin((mean * annualization) / downsideRisk) : null,
    downside_risk: fin(downsideRisk),
    max_drawdown: fin(mdd + 0),
    calmar: mdd < 0 && Number.isFinite(cagr) ? fin(cagr / -mdd) : null,
    omega: n >= 2 && dn > 0 ? fin(up / dn) : null,
    tail_ratio: q.p5 === 0 ? null : fin(Math.abs(q.p95) / Math.abs(q.p5)),
    stability,
    // value at risk at cutoff 0.05 is exactly the 5th percentile (100·0.05 = 5 in doubles)
    value_at_risk: fin(q.p5),
    conditional_value_at_risk: fin(q.cvar),
  };
}

/** Smallest of a[from..]. */
function minFrom(a: Float64Array, from: number): number {
  let v = Infinity;
  for (let i = from; i < a.length; i++) if (a[i]! < v) v = a[i]!;
  return v;
}

/** NumPy 1.24's `_lerp`, bit for bit. */
function lerp(a: number, b: number, t: number): number {
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

const SAMPLE = 8192;
const BAND = 96; // ≈ 5 standard deviations of a sample rank at the 5% quantile

/**
 * p5, p95 (NumPy linear) and the mean of the ⌊(m−1)·0.05⌋+1 smallest values of the m non-missing
 * returns. Small series: copy and select. Large ones: a strided sample brackets each target rank
 * between two values; one pass counts what lies below the bracket and keeps what lies inside
 * (a few percent), which is then sorted. Exact either way: a bracket that misses its rank (a
 * freak sample) falls back to selection. `scratch` (length ≥ m) may be overwritten.
 */
function tails(
  r: ArrayLike<number>,
  m: number,
  scratch: Float64Array,
): { p5: number; p95: number; cvar: number } {
  const h5 = (m - 1) * 0.05;
  const h95 = (m - 1) * 0.95;
  const k5 = Math.floor(h5);
  const k95 = Math.floor(h95);
  const n = r.length;
  if (m > 8 * SAMPLE) {
    const sample = new Float64Array(SAMPLE);
    let c = 0;
    for (let j = 0; j < SAMPLE; j++) {
      const x = r[Math.floor((j * n) / SAMPLE)]!;
      if (x === x) sample[c++] = x;
    }
    const sm = sample.subarray(0, c).sort();
    const at = (k: number, off: number): number =>
      sm[Math.min(c - 1, Math.max(0, Math.floor((k / m) * c) + off))]!;
    const lo5 = k5 < BAND ? -Infinity : at(k5, -BAND);
    const hi5 = at(k5 + 1, BAND);
    const lo95 = at(k95, -BAND);
    const hi95 = k95 + 1 + BAND >= m ? Infinity : at(k95 + 1, BAND);
    const band5: number[] = [];
    const band95: number[] = [];
    let below5 = 0;
    let sumBelow5 = 0;
    let below95 = 0;
    for (let i = 0; i < n; i++) {
      const x = r[i]!;
      if (x < lo5) {
        below5++;
        sumBelow5 += x;
        below95++;
        continue;
      }
      if (x <= hi5) band5.push(x);
      if (x < lo95) below95++;
      else if (x <= hi95) band95.push(x);
    }
    const in5 = k5 >= below5 && k5 + 1 < below5 + band5.length;
    const in95 = k95 >= below95 && Math.min(k95 + 1, m - 1) < below95 + band95.length;
    if (in5 && in95) {
      // the target ranks inside each band, by selection (no sort)
      const b5 = Float64Array.from(band5);
      const j5 = k5 - below5;
      const v5 = select(b5, j5);
      let tail = sumBelow5;
      for (let i = 0; i <= j5; i++) tail += b5[i]!; // select left the j5+1 smallest in front
      const b95 = Float64Array.from(band95);
      const j95 = k95 - below95;
      const v95 = select(b95, j95);
      return {
        p5: lerp(v5, minFrom(b5, j5 + 1), h5 - k5),
        p95: k95 + 1 >= m ? v95 : lerp(v95, minFrom(b95, j95 + 1), h95 - k95),
        cvar: tail / (k5 + 1),
      };
    }
  }
  let c = 0;
  for (let i = 0; i < n; i++) {
    const x = r[i]!;
    if (x === x) scratch[c++] = x;
  }
  const a = scratch.subarray(0, m);
  const p5 = percentileInPlace(a, 5);
  let tail = 0;
  for (let i = 0; i <= k5; i++) tail += a[i]!; // selection left the k5+1 smallest in front
  const p95 = percentileInPlace(a, 95, k5);
  return { p5, p95, cvar: tail / (k5 + 1) };
}

/** Equity-series options: external flows per period, and when within the period they happen. */
export interface EquityOptions {
  /** flows[t] entered (> 0) or left (< 0) the account during period t; flows[0] is ignored */
  flows?: ArrayLike<number>;
  /** 'end' (default): r = (E_t − F_t)/E_{t−1} − 1; 'start': r = E_t/(E_{t−1} + F_t) − 1 */
  flowTiming?: 'end' | 'start';
}

/** Series metrics plus the money figures an equity or PnL series carries. */
export interface SeriesMetrics extends ReturnMetrics {
  /** E_last − E_first − Σ flows */
  pnl: number;
  start_equity: number;
  end_equity: number;
  /** periods left out because the equity they start from (flow-adjusted) is not positive */
  skipped_periods: number;
}

/**
 * Metrics of an equity curve E_0..E_n (one mark per period end; E_0 the opening value). Periods
 * whose base (E_{t−1}, or E_{t−1} + F_t with start timing) is ≤ 0 have no return and are left out.
 *
 * @example
 * metricsFromEquity([100, 101, 99.99], 365).total_return // −0.0001
 */
export function metricsFromEquity(
  equity: ArrayLike<number>,
  annualization = 365,
  options: EquityOptions = {},
): SeriesMetrics {
  checkAnnualization(annualization);
  const { flows, flowTiming = 'end' } = options;
  const n = equity.length;
  if (flows && flows.length !== n) throw new MetricsError('ERR_METRICS_OPTION');
  const r = new Float64Array(Math.max(0, n - 1));
  let k = 0;
  let flowSum = 0;
  for (let t = 1; t < n; t++) {
    const f = flows ? flows[t]! : 0;
    flowSum += f;
    const prev = equity[t - 1]!;
    const base = flowTiming === 'start' ? prev + f : prev;
    if (!(base > 0)) continue;
    r[k++] = flowTiming === 'start' ? (equity[t]! - base) / base : (equity[t]! - f - prev) / prev;
  }
  const first = n > 0 ? equity[0]! : 0;
  const last = n > 0 ? equity[n - 1]! : 0;
  return {
    ...metricsFromReturns(r.subarray(0, k), annualization),
    pnl: last - first - flowSum,
    start_equity: first,
    end_equity: last,
    skipped_periods: Math.max(0, n - 1) - k,
  };
}

/**
 * Metrics of a PnL series: equity E_0 = startEquity, E_t = E_{t−1} + pnl_t, then as
 * `metricsFromEquity` (one return per PnL entry).
 *
 * @example
 * metricsFromPnl([1, -2, 3], 100, 365).total_return // ≈ 0.02
 */
export function metricsFromPnl(
  pnl: ArrayLike<number>,
  startEquity: number,
  annualization = 365,
): SeriesMetrics {
  if (!Number.isFinite(startEquity)) throw new MetricsError('ERR_METRICS_OPTION');
  const e = new Float64Array(pnl.length + 1);
  e[0] = startEquity;
  for (let i = 0; i < pnl.length; i++) e[i + 1] = e[i]! + pnl[i]!;
  return metricsFromEquity(e, annualization);
}
