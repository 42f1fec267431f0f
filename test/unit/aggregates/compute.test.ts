import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { computeMetrics } from '../../../src/aggregates/compute.js';
import type { Fill } from '../../../src/aggregates/fill.js';
import { sharpe, stdev } from '../../../src/aggregates/stats.js';

const empyrical = JSON.parse(
  readFileSync(new URL('../../vectors/metrics/empyrical_vectors.json', import.meta.url), 'utf8'),
);
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

function fill(p: Partial<Fill> & Pick<Fill, 'side' | 'price' | 'qty' | 'ts'>): Fill {
  const quoteQty = String(Number(p.price) * Number(p.qty));
  return {
    exchange: 'binance',
    symbol: 'BTC/USDT',
    base: 'BTC',
    quote: 'USDT',
    id: String(p.ts),
    orderId: '1',
    quoteQty,
    fee: '0',
    feeAsset: 'USDT',
    maker: false,
    ...p,
  };
}

describe('stats', () => {
  it('sharpe reproduces empyrical sharpe_ratio (rf = 0); undefined cases are null', () => {
    const cases = (
      empyrical.cases as {
        fn: string;
        series: string;
        kwargs: Record<string, unknown>;
        expected: number | null | string;
        decimals: number;
      }[]
    ).filter((c) => c.fn === 'sharpe_ratio' && (c.kwargs['risk_free'] ?? 0) === 0);
    assert.ok(cases.length >= 3);
    for (const c of cases) {
      const series = (empyrical.series[c.series] as (number | null)[]).filter(
        (x): x is number => x !== null,
      );
      const n = empyrical.annualization[(c.kwargs['period'] as string) ?? 'daily'] as number;
      const got = sharpe(series, n);
      if (typeof c.expected !== 'number' || !Number.isFinite(c.expected))
        assert.equal(got, null, c.series);
      else
        assert.ok(
          Math.abs(got! - c.expected) < 10 ** -c.decimals,
          `${c.series}: ${got} vs ${c.expected}`,
        );
    }
  });

  it('stdev is null below two points', () => {
    assert.equal(stdev([1]), null);
    assert.equal(sharpe([0.01], 365), null);
  });
});

describe('computeMetrics', () => {
  it('a hand-built ledger: buy 1 @100, buy 1 @200 (avg 150), sell 1 @180 → realized 30; mark 180 → unrealized 30', () => {
    // fees: 0.1 USDT, then 0.001 BTC @200 = 0.2 USDT, then 0.1 USDT → 0.4 USDT
    const fills = [
      fill({ side: 'buy', price: '100', qty: '1', ts: T0 + 1000, fee: '0.1' }),
      fill({
        side: 'buy',
        price: '200',
        qty: '1',
        ts: T0 + DAY + 1000,
        fee: '0.001',
        feeAsset: 'BTC',
      }),
      fill({ side: 'sell', price: '180', qty: '1', ts: T0 + 2 * DAY + 1000, fee: '0.1' }),
    ];
    const m = computeMetrics(fills, { from: T0, to: T0 + 3 * DAY - 1 });
    assert.equal(m.realized_pnl, 30);
    assert.equal(m.unrealized_pnl, 30);
    assert.equal(m.fees, 0.4);
    assert.equal(m.pnl, 59.6);
    assert.equal(m.volume, 480);
    assert.equal(m.trades, 3);
    assert.equal(m.days, 3);
    // daily cumulative PnL: day0 -0.1, day1 +99.7 (marked at 200), day2 59.6 → daily changes
    const expectedSharpe = sharpe([-0.1, 99.8, -40.1], 365)!;
    assert.ok(Math.abs(m.sharpe! - expectedSharpe) < 1e-9);
  });

  it('fees in a third asset use its last traded price; what cannot be valued is counted, never guessed', () => {
    const bnb = fill({
      symbol: 'BNB/USDT',
      base: 'BNB',
      side: 'buy',
      price: '300',
      qty: '1',
      ts: T0 + 1,
    });
    const paid = fill({
      side: 'buy',
      price: '100',
      qty: '1',
      ts: T0 + 2,
      fee: '0.01',
      feeAsset: 'BNB',
    });
    const m = computeMetrics([bnb, paid], { from: T0, to: T0 + DAY - 1 });
    assert.equal(m.fees, 3);
    const unpriced = computeMetrics(
      [fill({ side: 'buy', price: '100', qty: '1', ts: T0 + 2, fee: '1', feeAsset: 'XYZ' })],
      { from: T0, to: T0 + DAY - 1 },
    );
    assert.equal(unpriced.unpriced_fees, 1);
    assert.equal(unpriced.fees, 0);
    assert.equal(unpriced.volume, 100);
    const unknownQuote = computeMetrics(
      [fill({ symbol: 'ETH/XYZ', quote: 'XYZ', side: 'buy', price: '2', qty: '1', ts: T0 + 2 })],
      { from: T0, to: T0 + DAY - 1 },
    );
    assert.equal(unknownQuote.unpriced_fills, 1);
    assert.equal(unknownQuote.volume, 0);
  });

  it('no fills: zero money figures and a null Sharpe, not a fake number', () => {
    const m = computeMetrics([], { from: T0, to: T0 + 10 * DAY });
    assert.equal(m.pnl, 0);
    assert.equal(m.sharpe, null);
    assert.equal(m.trades, 0);
  });

  it('permuting the input order changes nothing', () => {
    const base = [
      fill({ side: 'buy', price: '100', qty: '2', ts: T0 + 5, id: '1' }),
      fill({ side: 'sell', price: '110', qty: '1', ts: T0 + DAY, id: '2' }),
      fill({ side: 'sell', price: '90', qty: '1', ts: T0 + 2 * DAY, id: '3' }),
    ];
    const want = computeMetrics(base, { from: T0, to: T0 + 3 * DAY });
    fc.assert(
      fc.property(fc.shuffledSubarray(base, { minLength: 3, maxLength: 3 }), (p) =>
        assert.deepEqual(computeMetrics(p, { from: T0, to: T0 + 3 * DAY }), want),
      ),
    );
  });

  it('rejects a window whose end precedes its start', () => {
    assert.throws(() => computeMetrics([], { from: 10, to: 5 }), RangeError);
  });
});
