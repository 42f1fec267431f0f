import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  metricsFromEquity,
  metricsFromPnl,
  metricsFromReturns,
} from '../../../src/aggregates/series.js';
import {
  annualReturn,
  annualVolatility,
  calmarRatio,
  conditionalValueAtRisk,
  cumReturnsFinal,
  downsideRisk,
  maxDrawdown,
  omegaRatio,
  percentile,
  select,
  sharpe,
  sharpeRatio,
  sortinoRatio,
  stabilityOfTimeseries,
  stdev,
  tailRatio,
  valueAtRisk,
} from '../../../src/aggregates/stats.js';
import { MetricsError } from '../../../src/aggregates/errors.js';

interface Case {
  fn: string;
  series?: string;
  input?: number[];
  kwargs: Record<string, unknown>;
  expected: number | null | string;
  actual_debian: number | null | string;
  decimals: number;
}
const V = JSON.parse(
  readFileSync(new URL('../../vectors/metrics/empyrical_vectors.json', import.meta.url), 'utf8'),
) as {
  annualization: Record<string, number>;
  series: Record<string, (number | null)[]>;
  cases: Case[];
};

/** empyrical's series with its missing values (JSON null) as NaN. */
const series = (name: string): Float64Array =>
  Float64Array.from(V.series[name]!, (x) => (x === null ? NaN : x));
const perPeriod = (v: unknown): number | Float64Array =>
  typeof v === 'string' ? series(v) : ((v as number | undefined) ?? 0);

/** Our single-metric function for a vector case, and the fused series-level value when comparable. */
function evaluate(c: Case): { single: number | null; fused?: number | null } {
  const r = c.series ? series(c.series) : Float64Array.from(c.input!);
  const N = V.annualization[(c.kwargs['period'] as string | undefined) ?? 'daily']!;
  const fused = () => metricsFromReturns(r, N);
  switch (c.fn) {
    case 'cum_returns_final': {
      const sv = (c.kwargs['starting_value'] as number | undefined) ?? 0;
      return { single: cumReturnsFinal(r, sv), ...(sv === 0 && { fused: fused().total_return }) };
    }
    case 'max_drawdown':
      return { single: maxDrawdown(r), fused: fused().max_drawdown };
    case 'annual_return':
      return { single: annualReturn(r, N), fused: fused().cagr };
    case 'annual_volatility':
      return { single: annualVolatility(r, N), fused: fused().volatility };
    case 'calmar_ratio':
      return { single: calmarRatio(r, N), fused: fused().calmar };
    case 'omega_ratio':
      return {
        single: omegaRatio(
          r,
          c.kwargs['risk_free'] as number,
          c.kwargs['required_return'] as number,
        ),
      };
    case 'sharpe_ratio': {
      const rf = perPeriod(c.kwargs['risk_free']);
      return { single: sharpeRatio(r, N, rf), ...(rf === 0 && { fused: fused().sharpe }) };
    }
    case 'downside_risk': {
      const mar = perPeriod(c.kwargs['required_return']);
      return {
        single: downsideRisk(r, N, mar),
        ...(mar === 0 && { fused: fused().downside_risk }),
      };
    }
    case 'sortino_ratio': {
      const mar = perPeriod(c.kwargs['required_return']);
      return { single: sortinoRatio(r, N, mar), ...(mar === 0 && { fused: fused().sortino }) };
    }
    case 'stability_of_timeseries':
      return { single: stabilityOfTimeseries(r), fused: fused().stability };
    case 'tail_ratio':
      return { single: tailRatio(r), fused: fused().tail_ratio };
    case 'value_at_risk': {
      const cutoff = c.kwargs['cutoff'] as number;
      return {
        single: valueAtRisk(r, cutoff),
        ...(cutoff === 0.05 && { fused: fused().value_at_risk }),
      };
    }
    default:
      throw new Error(`no implementation for ${c.fn}`);
  }
}

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

describe('empyrical vectors (test/vectors/metrics/empyrical_vectors.json)', () => {
  it('the file holds the 57 cases metrics.md describes', () => {
    assert.equal(V.cases.length, 57);
  });

  for (const c of V.cases) {
    const label = `${c.fn}(${c.series ?? JSON.stringify(c.input)}, ${JSON.stringify(c.kwargs)})`;
    it(`${label} → ${String(c.expected)} to ${c.decimals} decimals; ±inf/NaN → null`, () => {
      const { single, fused } = evaluate(c);
      for (const got of fused === undefined ? [single] : [single, fused]) {
        if (!isNumber(c.expected)) {
          assert.equal(
            got,
            null,
            `${label}: empyrical ${String(c.expected)} must be null, got ${got}`,
          );
          continue;
        }
        assert.ok(isNumber(got), `${label}: got ${got}`);
        // numpy.testing.assert_almost_equal: |actual − desired| < 1.5 · 10^−decimal
        assert.ok(
          Math.abs(got - c.expected) < 1.5 * 10 ** -c.decimals,
          `${label}: ${got} vs ${c.expected}`,
        );
        // and the value empyrical really computes on Debian 12, to 1e-12 relative
        const deb = c.actual_debian as number;
        assert.ok(
          Math.abs(got - deb) <= 1e-12 * Math.max(1, Math.abs(deb)),
          `${label}: ${got} vs empyrical's own ${deb}`,
        );
      }
    });
  }

  it('tail_ratio(mixed_returns) is the true 0.9556962025316452, not the 1-decimal test value', () => {
    assert.equal(tailRatio(series('mixed_returns')), 0.9556962025316452);
  });

  it('annual_return counts the NaN row as a period (9 periods); dropping it gives 2.3302927973…', () => {
    const r = series('mixed_returns');
    assert.ok(Math.abs(annualReturn(r, 252)! - 1.9135925373194231) < 1e-12);
    assert.ok(Math.abs(annualReturn(r.subarray(1), 252)! - 2.330292797300439) < 1e-12);
    assert.ok(Math.abs(calmarRatio(r.subarray(1), 252)! - 23.3029279730044) < 1e-10);
  });

  it('Sharpe and Sortino are the same with or without the NaN', () => {
    const r = series('mixed_returns');
    assert.equal(sharpeRatio(r, 252), sharpeRatio(r.subarray(1), 252));
    assert.equal(sortinoRatio(r, 252), sortinoRatio(r.subarray(1), 252));
  });

  it('omega(mixed_returns, rr=0) equals the per-period profit factor 1.357142857142857', () => {
    assert.ok(Math.abs(omegaRatio(series('mixed_returns'))! - 1.357142857142857) < 1e-12);
    assert.ok(
      Math.abs(metricsFromReturns(series('mixed_returns'), 252).omega! - 1.357142857142857) < 1e-12,
    );
  });
});

describe('undefined values are null, never 0 or ±inf', () => {
  it('fewer than two returns: sharpe, sortino, volatility, omega, stability are null', () => {
    const m = metricsFromReturns([0.01], 365);
    for (const k of ['sharpe', 'sortino', 'volatility', 'omega', 'stability'] as const)
      assert.equal(m[k], null, k);
    assert.equal(m.max_drawdown, 0);
    assert.equal(m.calmar, null);
    assert.equal(stdev([1]), null);
    assert.equal(sharpe([0.01], 365), null);
  });

  it('an empty series: every ratio null', () => {
    const m = metricsFromReturns([], 365);
    for (const [k, v] of Object.entries(m))
      if (k !== 'periods' && k !== 'annualization') assert.equal(v, null, k);
  });

  it('a flat series: sharpe null (zero dispersion), sortino null (no downside), calmar null (no drawdown)', () => {
    const m = metricsFromReturns(series('flat_line_1'), 252);
    assert.equal(m.sharpe, null);
    assert.equal(m.sortino, null);
    assert.equal(m.calmar, null);
    assert.equal(m.max_drawdown, 0);
    assert.ok(m.cagr! > 0);
  });

  it('all zero returns: stability is 0 (scipy: R = 0 on a flat line), tail ratio null', () => {
    const m = metricsFromReturns(new Float64Array(10), 365);
    assert.equal(m.stability, 0);
    assert.equal(m.tail_ratio, null);
    assert.equal(m.sharpe, null);
  });

  it('a return of −100% or worse: stability null (log of zero wealth); cagr −1 at exactly zero wealth', () => {
    assert.equal(stabilityOfTimeseries([0.1, -1, 0.2]), null);
    assert.equal(metricsFromReturns([0.1, -1], 365).cagr, -1);
    assert.equal(metricsFromReturns([0.1, -1.5], 365).cagr, null); // negative wealth
  });

  it('omega: required return ≤ −1 or nothing below the threshold → null', () => {
    assert.equal(omegaRatio([0.01, 0.02], 0, -1), null);
    assert.equal(omegaRatio([0.01, 0.02]), null);
  });

  it('rejects a non-positive annualization with ERR_METRICS_OPTION', () => {
    assert.throws(
      () => metricsFromReturns([0.1], 0),
      (e: unknown) => e instanceof MetricsError && e.code === 'ERR_METRICS_OPTION',
    );
  });
});

describe('the fused metricsFromReturns agrees with the single-metric functions', () => {
  const ret = fc.oneof(
    fc.double({ min: -0.5, max: 0.5, noNaN: true }),
    fc.constant(NaN),
    fc.constant(0),
  );
  it('on random series with missing values (1e-12 relative)', () => {
    fc.assert(
      fc.property(fc.array(ret, { maxLength: 60 }), fc.constantFrom(1, 12, 252, 365), (xs, N) => {
        const r = Float64Array.from(xs);
        const m = metricsFromReturns(r, N);
        const pairs: [string, number | null, number | null][] = [
          ['total_return', m.total_return, cumReturnsFinal(r)],
          ['cagr', m.cagr, annualReturn(r, N)],
          ['volatility', m.volatility, annualVolatility(r, N)],
          ['sharpe', m.sharpe, sharpeRatio(r, N)],
          ['sortino', m.sortino, sortinoRatio(r, N)],
          ['downside_risk', m.downside_risk, downsideRisk(r, N)],
          ['max_drawdown', m.max_drawdown, maxDrawdown(r)],
          ['calmar', m.calmar, calmarRatio(r, N)],
          ['omega', m.omega, omegaRatio(r, 0, 0, N)],
          ['tail_ratio', m.tail_ratio, tailRatio(r)],
          ['stability', m.stability, stabilityOfTimeseries(r)],
          ['value_at_risk', m.value_at_risk, valueAtRisk(r)],
          ['conditional_value_at_risk', m.conditional_value_at_risk, conditionalValueAtRisk(r)],
        ];
        for (const [k, a, b] of pairs) {
          if (a === null || b === null) {
            assert.equal(a, b, `${k}: ${a} vs ${b}`);
            continue;
          }
          assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${k}: ${a} vs ${b}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('selection-based percentiles equal a full sort with NumPy linear interpolation', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 80 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (xs, q) => {
          const s = [...xs].sort((a, b) => a - b);
          const h = (s.length - 1) * (q / 100);
          const k = Math.floor(h);
          const t = h - k;
          const a = s[k]!;
          const b = s[Math.min(k + 1, s.length - 1)]!;
          const want = t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
          assert.equal(percentile(xs, q), want + 0);
          const arr = Float64Array.from(xs);
          const kk = Math.floor(Math.random() * arr.length);
          assert.equal(select(arr, kk), s[kk]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('on long series (the sampled-bracket path for the tails) percentiles and shortfall are exact', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const shapes: ((i: number) => number)[] = [
      () => (rnd() - 0.5) * 0.1,
      (i) => (i % 10 === 0 ? 0 : i % 97 === 0 ? NaN : (rnd() - 0.45) * 0.02), // ties and gaps
      (i) => i / 1e7 - 0.01, // sorted input
      (i) => (i % 2 ? 0.01 : -0.01), // two values only
    ];
    for (const shape of shapes) {
      const r = Float64Array.from({ length: 200_003 }, (_, i) => shape(i));
      const m = metricsFromReturns(r, 365);
      assert.equal(m.value_at_risk, percentile(r, 5));
      const p95 = percentile(r, 95)!;
      const p5 = percentile(r, 5)!;
      assert.equal(m.tail_ratio, p5 === 0 ? null : Math.abs(p95) / Math.abs(p5));
      const cvar = conditionalValueAtRisk(r)!;
      assert.ok(Math.abs(m.conditional_value_at_risk! - cvar) <= 1e-12 * Math.abs(cvar));
    }
  });

  it('survives 100k periods of +1% without overflow (growth kept in range by exact rescaling)', () => {
    const r = new Float64Array(100_000).fill(0.01);
    const m = metricsFromReturns(r, 365);
    assert.ok(Math.abs(m.cagr! - (1.01 ** 365 - 1)) < 1e-9 * 1.01 ** 365);
    assert.equal(m.total_return, null); // 1.01^100000 is beyond a double: undefined, not inf
    assert.equal(m.max_drawdown, 0);
  });
});

describe('metricsFromEquity / metricsFromPnl', () => {
  it('an equity curve with a 500 deposit at end of day: the deposit is not performance', () => {
    // E: 1000 → 1010 (+1%) → 1611 (= 1010·1.1 + 500 deposited)
    const m = metricsFromEquity([1000, 1010, 1611], 365, { flows: [0, 0, 500] });
    assert.ok(Math.abs(m.total_return! - (1.01 * 1.1 - 1)) < 1e-15);
    assert.ok(Math.abs(m.pnl - 111) < 1e-12);
    // start timing: the deposit is in the base from the start of the day
    const s = metricsFromEquity([1000, 1010, 1611], 365, {
      flows: [0, 0, 500],
      flowTiming: 'start',
    });
    assert.ok(Math.abs(s.total_return! - (1.01 * (1611 / 1510) - 1)) < 1e-15);
  });

  it('periods starting from a non-positive equity have no return and are counted as skipped', () => {
    const m = metricsFromEquity([0, 100, 110], 365, { flows: [0, 100, 0] });
    assert.equal(m.periods, 1);
    assert.equal(m.skipped_periods, 1);
    assert.ok(Math.abs(m.total_return! - 0.1) < 1e-15);
  });

  it('pnl series: equity = start + cumsum(pnl), one return per entry', () => {
    const m = metricsFromPnl([10, -5, 20], 1000, 365);
    assert.equal(m.periods, 3);
    assert.ok(Math.abs(m.total_return! - 0.025) < 1e-15);
    assert.equal(m.pnl, 25);
    assert.equal(m.end_equity, 1025);
    const r = [10 / 1000, -5 / 1010, 20 / 1005];
    assert.ok(Math.abs(m.sharpe! - sharpeRatio(r, 365)!) < 1e-12);
  });
});
