import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetrics, MetricsEngine } from '../../../src/aggregates/compute.js';
import { MetricsError } from '../../../src/aggregates/errors.js';
import type { LedgerEvent } from '../../../src/aggregates/ledger.js';
import { metricsFromReturns } from '../../../src/aggregates/series.js';
import { sharpeRatio } from '../../../src/aggregates/stats.js';
import { D, H, T0, near, perp, spot, steps } from './helpers.js';

const WINDOW3 = { from: T0, to: T0 + 3 * D - 1 }; // three whole UTC days

const V1_FIELDS = [
  'pnl',
  'sharpe',
  'volume',
  'trades',
  'from',
  'to',
  'currency',
  'realized_pnl',
  'unrealized_pnl',
  'fees',
  'days',
  'unpriced_fills',
  'unpriced_fees',
] as const;

describe('computeMetrics › spot ledger with BNB fees (oracle prices, average cost)', () => {
  // Prices (step oracle, each price holds until the next step):
  //   BTC 40000 from day 0, 42000 from day 1, 39000 from day 2, 40500 at the final mark (day 3 00:00)
  //   BNB   300 before day 1, 310 from day 1
  // Ledger:
  //   day −1 23:00  deposit 10000 USDT          (history before the window: opening state)
  //   day −1 23:30  deposit 1 BNB @300           → BNB lot cost 300
  //   day 0 01:00   buy  0.1  BTC for 4000, fee 0.01   BNB @300 = 3.00  (BNB cost out 3.00 → realized 0)
  //   day 1 01:00   buy  0.1  BTC for 4200, fee 0.0105 BNB @310 = 3.255 (BNB cost out 3.15 → realized +0.105)
  //   day 2 01:00   sell 0.15 BTC for 5850, fee 0.02   BNB @310 = 6.20  (BNB cost out 6.00 → realized +0.20)
  //                 BTC average cost 8200/0.2 = 41000 → cost out 6150 → realized 5850 − 6150 = −300
  // Money: realized = 0 + 0.105 + 0.2 − 300 = −299.695; fees = 3 + 3.255 + 6.2 = 12.455
  // Marks (USDT + BTC + BNB):
  //   start (day 0 00:00): 10000 + 0      + 1·300          = 10300
  //   day 0 close:          6000 + 0.1·42000 + 0.99·310   = 10506.9
  //   day 1 close:          1800 + 0.2·39000 + 0.9795·310 =  9903.645
  //   day 2 close:          7650 + 0.05·40500 + 0.9595·310 = 9972.445
  // pnl = 9972.445 − 10300 = −327.555
  // unrealized at the end: BTC 0.05·40500 − 0.05·41000 = −25; BNB 0.9595·(310 − 300) = 9.595 → −15.405
  // identity: −299.695 + (−15.405) − 12.455 = −327.555 ✓
  const oracle = steps({
    BTC: [
      [T0, '40000'],
      [T0 + D, '42000'],
      [T0 + 2 * D, '39000'],
      [T0 + 3 * D, '40500'],
    ],
    BNB: [
      [T0 - D, '300'],
      [T0 + D, '310'],
    ],
  });
  const ledger: LedgerEvent[] = [
    { type: 'deposit', ts: T0 - H, asset: 'USDT', amount: '10000' },
    { type: 'deposit', ts: T0 - H / 2, asset: 'BNB', amount: '1' },
    spot({
      ts: T0 + H,
      side: 'buy',
      price: '40000',
      qty: '0.1',
      quoteQty: '4000',
      fee: '0.01',
      feeAsset: 'BNB',
    }),
    spot({
      ts: T0 + D + H,
      side: 'buy',
      price: '42000',
      qty: '0.1',
      quoteQty: '4200',
      fee: '0.0105',
      feeAsset: 'BNB',
    }),
    spot({
      ts: T0 + 2 * D + H,
      side: 'sell',
      price: '39000',
      qty: '0.15',
      quoteQty: '5850',
      fee: '0.02',
      feeAsset: 'BNB',
    }),
  ];
  const m = computeMetrics(ledger, { ...WINDOW3, oracle, dailySeries: true });

  it('money figures are exact to the cent of the worked example', () => {
    assert.equal(m.realized_pnl, -299.695);
    assert.equal(m.fees, 12.455);
    assert.equal(m.unrealized_pnl, -15.405);
    assert.equal(m.unrealized_pnl_end, -15.405);
    assert.equal(m.pnl, -327.555);
    assert.equal(m.start_equity, 10300);
    assert.equal(m.end_equity, 9972.445);
    assert.equal(m.volume, 14050);
    assert.equal(m.trades, 3);
    assert.equal(m.net_flows, 0); // the deposits are before the window
    assert.equal(m.currency, 'USD');
    assert.equal(m.days, 3);
  });

  it('the daily series marks every day at 00:00 UTC and the ratios come from its returns', () => {
    assert.deepEqual(
      m.daily!.map((p) => [p.date, p.equity]),
      [
        ['2024-01-01', 10506.9],
        ['2024-01-02', 9903.645],
        ['2024-01-03', 9972.445],
      ],
    );
    const r = [10506.9 / 10300 - 1, 9903.645 / 10506.9 - 1, 9972.445 / 9903.645 - 1];
    near(m.sharpe, sharpeRatio(r, 365)!, 1e-12, 'sharpe');
    const want = metricsFromReturns(r, 365);
    for (const k of [
      'sortino',
      'max_drawdown',
      'cagr',
      'calmar',
      'volatility',
      'total_return',
    ] as const)
      near(m[k], want[k]!, 1e-12, k);
    near(m.total_return, 9972.445 / 10300 - 1, 1e-15, 'twr');
    near(m.max_drawdown, 9903.645 / 10506.9 - 1, 1e-15, 'mdd');
  });

  it('keeps every v1 payload field', () => {
    for (const k of V1_FIELDS) assert.ok(k in m, k);
  });

  it('a BNB price the oracle does not have is counted, never guessed', () => {
    const noBnb = steps({ BTC: [[T0, '40000']] });
    const u = computeMetrics(ledger.slice(0, 1).concat(ledger.slice(2)), {
      ...WINDOW3,
      oracle: noBnb,
    });
    assert.equal(u.unpriced_fees, 3);
    assert.equal(u.fees, 0);
    assert.equal(u.volume, 14050);
  });
});

describe('computeMetrics › USD-M futures: exchange realizedPnl + commission + funding', () => {
  // BTC 40000 (day 0), 41000 (day 1 00:00), 39500 (day 2 00:00), 39000 (day 3 00:00); BNB 300.
  //   day −1 23:00  transfer in 5000 USDT; deposit 0.1 BNB        → start equity 5000 + 30 = 5030
  //   day 0 01:00   buy  0.5 @40000 (20000), commission 8 USDT, realizedPnl 0
  //   day 0 08:00   funding −2.5 USDT
  //   day 1 01:00   sell 0.2 @42000 (8400),  commission 3.36 USDT, realizedPnl +400
  //   day 1 16:00   funding +1.2 USDT
  //   day 2 02:00   sell 0.3 @39000 (11700), commission 0.0156 BNB (@300 = 4.68), realizedPnl −300
  // realized = 0 + 400 − 300 = 100 (the BNB paid at its cost: no BNB gain); fees = 8 + 3.36 + 4.68 = 16.04
  // funding = −1.3; the position is flat at the end → pnl = 100 − 16.04 − 1.3 = 82.66
  // marks: day 0 close: cash 4989.5 + BNB 30 + unrealized 0.5·41000 − 20000 = 500 → 5519.5
  //        day 1 close: cash 5387.34 + 30 + (0.3·39500 − 12000 = −150)         → 5267.34
  //        day 2 close: cash 5087.34 + 0.0844·300 = 25.32                      → 5112.66
  // one round trip (flat → 0.5 → 0.3 → flat), net = 82.66: a win
  const oracle = steps({
    BTC: [
      [T0, '40000'],
      [T0 + D, '41000'],
      [T0 + 2 * D, '39500'],
      [T0 + 3 * D, '39000'],
    ],
    BNB: [[T0 - D, '300']],
  });
  const S = 'BTC/USDT:USDT';
  const ledger: LedgerEvent[] = [
    { type: 'transfer', ts: T0 - H, asset: 'USDT', amount: '5000' },
    { type: 'deposit', ts: T0 - H, asset: 'BNB', amount: '0.1' },
    perp({ ts: T0 + H, side: 'buy', qty: '0.5', quoteQty: '20000', fee: '8', realizedPnl: '0' }),
    { type: 'funding', ts: T0 + 8 * H, asset: 'USDT', amount: '-2.5', symbol: S },
    perp({
      ts: T0 + D + H,
      side: 'sell',
      qty: '0.2',
      quoteQty: '8400',
      fee: '3.36',
      realizedPnl: '400',
    }),
    { type: 'funding', ts: T0 + D + 16 * H, asset: 'USDT', amount: '1.2', symbol: S },
    perp({
      ts: T0 + 2 * D + 2 * H,
      side: 'sell',
      qty: '0.3',
      quoteQty: '11700',
      fee: '0.0156',
      feeAsset: 'BNB',
      realizedPnl: '-300',
    }),
  ];
  const m = computeMetrics(ledger, { ...WINDOW3, oracle, dailySeries: true, bySymbol: true });

  it('net PnL = Σ realizedPnl − Σ commission + Σ funding', () => {
    assert.equal(m.realized_pnl, 100);
    assert.equal(m.fees, 16.04);
    assert.equal(m.funding, -1.3);
    assert.equal(m.pnl, 82.66);
    assert.equal(m.unrealized_pnl, 0);
    assert.equal(m.start_equity, 5030);
    assert.equal(m.end_equity, 5112.66);
    assert.equal(m.volume, 40100);
  });

  it('unrealized PnL of the open position is in the daily marks', () => {
    assert.deepEqual(
      m.daily!.map((p) => p.equity),
      [5519.5, 5267.34, 5112.66],
    );
  });

  it('one flat-to-flat round trip, funding included, is a win; profit factor has no losses → null', () => {
    assert.equal(m.round_trips, 1);
    assert.equal(m.wins, 1);
    assert.equal(m.win_rate, 1);
    assert.equal(m.avg_win, 82.66);
    assert.equal(m.avg_loss, null);
    assert.equal(m.profit_factor, null);
  });

  it('the per-symbol breakdown (opt-in) splits the same figures', () => {
    assert.deepEqual(m.symbols, [
      {
        symbol: S,
        market: 'futures',
        trades: 3,
        volume: 40100,
        fees: 16.04,
        realized_pnl: 100,
        funding: -1.3,
        round_trips: 1,
        wins: 1,
        losses: 0,
      },
    ]);
    assert.equal(computeMetrics(ledger, { ...WINDOW3, oracle }).symbols, undefined);
  });

  it('without realizedPnl the engine realizes against the weighted-average entry, as the exchange does', () => {
    const bare = ledger.map((e): LedgerEvent => {
      if (!('market' in e) || e.market !== 'futures') return e;
      const { realizedPnl: _r, ...rest } = e;
      return rest;
    });
    const b = computeMetrics(bare, { ...WINDOW3, oracle });
    assert.equal(b.realized_pnl, 100);
    assert.equal(b.pnl, 82.66);
  });
});

describe('computeMetrics › deposits and withdrawals mid-series (flows at end of day)', () => {
  // ETH 500 (day 0), 550 (day 1 00:00), 605 (day 2 00:00), 544.5 (day 3 00:00)
  //   day −1 23:59:59.999  deposit 1000 USDT                                  start equity 1000
  //   day 0 10:00  buy 1 ETH for 500          close: 500 + 550          = 1050  r0 = 1050/1000 − 1 = 5%
  //   day 1 12:00  deposit 1000 USDT           close: 1500 + 605          = 2105  r1 = (2105 − 1000)/1050 − 1 = 5.238095…%
  //   day 2 12:00  withdraw 0.5 ETH @605 = 302.5 (realizes 302.5 − 250 = 52.5)
  //                                            close: 1500 + 0.5·544.5   = 1772.25
  //                                            r2 = (1772.25 + 302.5)/2105 − 1 = −1.4370546…%
  // pnl = 1772.25 − 1000 − (1000 − 302.5) = 74.75 = realized 52.5 + unrealized 0.5·(544.5 − 500) = 22.25
  const oracle = steps({
    ETH: [
      [T0, '500'],
      [T0 + D, '550'],
      [T0 + 2 * D, '605'],
      [T0 + 3 * D, '544.5'],
    ],
  });
  const ledger: LedgerEvent[] = [
    { type: 'deposit', ts: T0 - 1, asset: 'USDT', amount: '1000' },
    spot({
      ts: T0 + 10 * H,
      symbol: 'ETH/USDT',
      base: 'ETH',
      side: 'buy',
      qty: '1',
      quoteQty: '500',
    }),
    { type: 'deposit', ts: T0 + D + 12 * H, asset: 'USDT', amount: '1000' },
    { type: 'withdrawal', ts: T0 + 2 * D + 12 * H, asset: 'ETH', amount: '0.5' },
  ];
  const m = computeMetrics(ledger, { ...WINDOW3, oracle, dailySeries: true });

  it('returns are time-weighted: the deposit is not performance', () => {
    const r = m.daily!.map((p) => p.return!);
    near(r[0]!, 0.05, 1e-15, 'r0');
    near(r[1]!, 1105 / 1050 - 1, 1e-15, 'r1');
    near(r[2]!, 2074.75 / 2105 - 1, 1e-15, 'r2');
    near(m.total_return, 1.05 * (1105 / 1050) * (2074.75 / 2105) - 1, 1e-14, 'twr');
    assert.deepEqual(
      m.daily!.map((p) => p.flows),
      [0, 1000, -302.5],
    );
  });

  it('money: pnl is net of flows; withdrawing coins realizes them at their market value', () => {
    assert.equal(m.pnl, 74.75);
    assert.equal(m.realized_pnl, 52.5);
    assert.equal(m.unrealized_pnl, 22.25);
    assert.equal(m.net_flows, 697.5);
    assert.equal(m.inflows, 1000);
    assert.equal(m.outflows, 302.5);
    assert.equal(m.end_equity, 1772.25);
  });

  it('a window that starts before the first deposit leaves those days out of the returns', () => {
    // the 1000 USDT arrive on day 0 at 09:00: day 0 starts with no capital → no return for day 0
    const late: LedgerEvent[] = [
      { ...ledger[0]!, ts: T0 + 9 * H } as LedgerEvent,
      ...ledger.slice(1),
    ];
    const m2 = computeMetrics(late, { ...WINDOW3, oracle, dailySeries: true });
    assert.equal(m2.daily![0]!.return, null);
    assert.equal(m2.return_days, 2);
    assert.equal(m2.start_equity, 0);
    assert.equal(m2.net_flows, 1697.5);
    assert.equal(m2.pnl, 74.75);
    near(m2.daily![1]!.return!, 1105 / 1050 - 1, 1e-15, 'r1');
  });
});

describe('computeMetrics › cost basis: FIFO vs average cost', () => {
  // buy 1 @100, buy 1 @200, sell 1 @180, (mark 180), then sell 1 @150
  //   average: cost 150/unit → first sale realizes +30, open 1 @150 (unrealized +30 at 180)
  //   FIFO:    the @100 lot goes first → +80, open 1 @200 (unrealized −20 at 180)
  //   after the last sale: average +30 + 0 = 30, FIFO +80 − 50 = 30 → the same once flat
  const oracle = steps({ BTC: [[T0, '180']] });
  const cash = { type: 'deposit', ts: T0 - 1, asset: 'USDT', amount: '1000' } as const;
  const open: LedgerEvent[] = [
    cash,
    spot({ ts: T0 + 1, side: 'buy', qty: '1', quoteQty: '100' }),
    spot({ ts: T0 + 2, side: 'buy', qty: '1', quoteQty: '200' }),
    spot({ ts: T0 + 3, side: 'sell', qty: '1', quoteQty: '180' }),
  ];
  const flat = [...open, spot({ ts: T0 + 4, side: 'sell', qty: '1', quoteQty: '150' })];
  const w = { from: T0, to: T0 + D - 1, oracle };

  it('they split realized and unrealized differently while a position is open', () => {
    const avg = computeMetrics(open, { ...w, costBasis: 'average' });
    const fifo = computeMetrics(open, { ...w, costBasis: 'fifo' });
    assert.deepEqual([avg.realized_pnl, avg.unrealized_pnl], [30, 30]);
    assert.deepEqual([fifo.realized_pnl, fifo.unrealized_pnl], [80, -20]);
    assert.equal(avg.pnl, fifo.pnl);
    assert.equal(avg.sharpe, fifo.sharpe);
    assert.equal(avg.cost_basis, 'average');
    assert.equal(fifo.cost_basis, 'fifo');
  });

  it('they agree exactly once the position is flat; average cost is the default', () => {
    const avg = computeMetrics(flat, w);
    const fifo = computeMetrics(flat, { ...w, costBasis: 'fifo' });
    assert.equal(avg.cost_basis, 'average');
    assert.deepEqual([avg.realized_pnl, avg.unrealized_pnl, avg.pnl], [30, 0, 30]);
    assert.deepEqual([fifo.realized_pnl, fifo.unrealized_pnl, fifo.pnl], [30, 0, 30]);
  });
});

describe('computeMetrics › round trips, win rate, profit factor', () => {
  // Three ETH/USDT round trips, no fees: +10 (win), −4 (loss), 0 (break-even), then one left open.
  const oracle = steps({ ETH: [[T0, '100']] });
  const f = (ts: number, side: 'buy' | 'sell', quoteQty: string) =>
    spot({ ts, symbol: 'ETH/USDT', base: 'ETH', side, qty: '1', quoteQty });
  const ledger: LedgerEvent[] = [
    f(T0 + 1, 'buy', '100'),
    f(T0 + 2, 'sell', '110'),
    f(T0 + 3, 'buy', '100'),
    f(T0 + 4, 'sell', '96'),
    f(T0 + 5, 'buy', '100'),
    f(T0 + 6, 'sell', '100'),
    f(T0 + 7, 'buy', '100'),
  ];
  const m = computeMetrics(ledger, { from: T0, to: T0 + D - 1, oracle, startEquity: '1000' });

  it('counts closed flat-to-flat trips; break-even counts in neither wins nor losses', () => {
    assert.equal(m.trades, 7);
    assert.equal(m.round_trips, 3);
    assert.equal(m.wins, 1);
    assert.equal(m.losses, 1);
    assert.equal(m.win_rate, 0.5);
    assert.equal(m.profit_factor, 2.5);
    assert.equal(m.avg_win, 10);
    assert.equal(m.avg_loss, -4);
  });

  it('a sale through zero closes the trip and opens the next one', () => {
    const cross = computeMetrics(
      [
        f(T0 + 1, 'buy', '100'),
        spot({
          ts: T0 + 2,
          symbol: 'ETH/USDT',
          base: 'ETH',
          side: 'sell',
          qty: '2',
          quoteQty: '220',
        }),
      ],
      { from: T0, to: T0 + D - 1, oracle },
    );
    assert.equal(cross.round_trips, 1);
    assert.equal(cross.wins, 1);
    assert.equal(cross.realized_pnl, 10); // the second unit opened a short at 110
  });
});

describe('computeMetrics › undefined values and edge cases', () => {
  it('no capital base (fills only, no start equity, no flows): money figures, every return ratio null', () => {
    // the equity curve would be cumulative PnL (0, 0, 10): a "return" on profits is no return
    const m = computeMetrics(
      [
        spot({ ts: T0 + 1, side: 'buy', qty: '1', quoteQty: '100' }),
        spot({ ts: T0 + D + 1, side: 'sell', qty: '1', quoteQty: '110' }),
      ],
      { from: T0, to: T0 + 3 * D - 1 },
    );
    assert.equal(m.pnl, 10);
    assert.equal(m.return_days, 0);
    for (const k of [
      'sharpe',
      'sortino',
      'volatility',
      'calmar',
      'cagr',
      'max_drawdown',
      'total_return',
    ] as const)
      assert.equal(m[k], null, k);
  });

  it('startEquity supplies the capital: returns = daily PnL / equity', () => {
    const m = computeMetrics(
      [
        spot({ ts: T0 + 1, side: 'buy', qty: '1', quoteQty: '100' }),
        spot({ ts: T0 + D + 1, side: 'sell', qty: '1', quoteQty: '110' }),
      ],
      { from: T0, to: T0 + 3 * D - 1, startEquity: '1000', dailySeries: true },
    );
    // v1 marks at the last fill price: day 0 close 1000 (bought at 100, marked 100), day 1 1010, day 2 1010
    assert.deepEqual(
      m.daily!.map((p) => p.return),
      [0, 0.01, 0],
    );
    near(m.sharpe, sharpeRatio([0, 0.01, 0], 365)!, 1e-12, 'sharpe');
    assert.equal(m.sortino, null); // no negative day: no downside
    assert.equal(m.max_drawdown, 0);
    assert.equal(m.calmar, null); // no drawdown
  });

  it('an empty ledger: zero money, null ratios, every day present', () => {
    const m = computeMetrics([], { from: T0, to: T0 + 10 * D, startEquity: 500 });
    assert.equal(m.pnl, 0);
    assert.equal(m.trades, 0);
    assert.equal(m.days, 11);
    assert.equal(m.return_days, 11);
    assert.equal(m.sharpe, null); // zero dispersion
    assert.equal(m.total_return, 0);
  });

  it('malformed amounts are counted, not thrown and not guessed', () => {
    const m = computeMetrics(
      [
        spot({ ts: T0 + 1, side: 'buy', qty: '1e', quoteQty: '100' }),
        spot({ ts: T0 + 2, side: 'buy', qty: '1', quoteQty: '100', fee: 'x', feeAsset: 'BNB' }),
        { type: 'deposit', ts: T0 + 3, asset: 'USDT', amount: 'NaN' },
        { type: 'funding', ts: T0 + 4, asset: 'USDT', amount: '' },
        spot({ ts: T0 + 5, side: 'buy', qty: '1', quoteQty: '100.123456789' }),
      ],
      { from: T0, to: T0 + D - 1 },
    );
    assert.equal(m.trades, 3);
    assert.equal(m.unpriced_fills, 2);
    assert.equal(m.unpriced_flows, 1);
    assert.equal(m.unpriced_funding, 1);
    assert.equal(m.rounded_amounts, 1);
    assert.equal(m.volume, 100.12345679); // rounded half to even at 1e-8
  });

  it('an asset the oracle cannot price at a mark keeps its last known price, counted in unpriced_marks', () => {
    const oracle = steps({ XYZ: [[T0, '2']] }); // known at the fill's time only… then null? no: steps keep it
    const gap = {
      price: (a: string, ts: number) => (ts < T0 + 12 * H ? oracle.price(a, ts) : null),
    };
    const m = computeMetrics(
      [
        { type: 'deposit', ts: T0, asset: 'USDT', amount: '100' },
        spot({
          ts: T0 + 1,
          symbol: 'XYZ/USDT',
          base: 'XYZ',
          side: 'buy',
          qty: '10',
          quoteQty: '20',
        }),
      ],
      { from: T0, to: T0 + 2 * D - 1, oracle: gap },
    );
    assert.equal(m.unpriced_marks, 2);
    assert.equal(m.end_equity, 100); // 80 USDT + 10 XYZ at its last known 2
  });

  it('a balance snapshot resets the holding; the difference is a flow, never performance', () => {
    const oracle = steps({ BTC: [[T0 - D, '100']] });
    const m = computeMetrics(
      [
        { type: 'balance', ts: T0 - 1, asset: 'USDT', amount: '1000' },
        { type: 'balance', ts: T0 - 1, asset: 'BTC', amount: '1' },
        { type: 'balance', ts: T0 + D + 5, asset: 'USDT', amount: '1500' }, // +500 unexplained
      ],
      { from: T0, to: T0 + 2 * D - 1, oracle, dailySeries: true },
    );
    assert.equal(m.start_equity, 1100);
    assert.equal(m.end_equity, 1600);
    assert.equal(m.balance_adjustments, 1);
    assert.equal(m.net_flows, 500);
    assert.equal(m.pnl, 0);
    assert.equal(m.total_return, 0);
  });

  it('rejects a reversed window, a bad option, out-of-order streaming and a second finish', () => {
    const code = (c: string) => (e: unknown) => e instanceof MetricsError && e.code === c;
    assert.throws(() => computeMetrics([], { from: 10, to: 5 }), code('ERR_METRICS_WINDOW'));
    assert.throws(() => computeMetrics([], { from: 0, to: 1e15 }), code('ERR_METRICS_WINDOW'));
    assert.throws(() => computeMetrics([], { from: 0.5, to: 5 }), code('ERR_METRICS_WINDOW'));
    assert.throws(
      () => computeMetrics([], { from: 0, to: 5, annualization: 0 }),
      code('ERR_METRICS_OPTION'),
    );
    assert.throws(
      () => computeMetrics([], { from: 0, to: 5, startEquity: 'abc' }),
      code('ERR_METRICS_OPTION'),
    );
    const e = new MetricsEngine({ from: T0, to: T0 + D });
    e.push(spot({ ts: T0 + 5, side: 'buy', qty: '1', quoteQty: '1' }));
    assert.throws(
      () => e.push(spot({ ts: T0 + 4, side: 'buy', qty: '1', quoteQty: '1' })),
      code('ERR_METRICS_ORDER'),
    );
    e.finish();
    assert.throws(() => e.finish(), code('ERR_METRICS_FINISHED'));
  });
});

describe('computeMetrics › the v1 call (fills only, no oracle)', () => {
  it('values a BNB fee at the last BNB price of the account’s own fills and labels the currency USDT', () => {
    const bnb = spot({
      ts: T0 + 1,
      symbol: 'BNB/USDT',
      base: 'BNB',
      side: 'buy',
      qty: '1',
      quoteQty: '300',
    });
    const paid = spot({
      ts: T0 + 2,
      side: 'buy',
      qty: '1',
      quoteQty: '100',
      fee: '0.01',
      feeAsset: 'BNB',
    });
    const m = computeMetrics([bnb, paid], { from: T0, to: T0 + D - 1 });
    assert.equal(m.fees, 3);
    assert.equal(m.currency, 'USDT');
    for (const k of V1_FIELDS) assert.ok(k in m, k);
  });

  it('a fee or a quote with no price yet is counted, never guessed', () => {
    const u = computeMetrics(
      [spot({ ts: T0 + 2, side: 'buy', qty: '1', quoteQty: '100', fee: '1', feeAsset: 'XYZ' })],
      {
        from: T0,
        to: T0 + D - 1,
      },
    );
    assert.equal(u.unpriced_fees, 1);
    assert.equal(u.fees, 0);
    assert.equal(u.volume, 100);
    const q = computeMetrics(
      [
        spot({
          ts: T0 + 2,
          symbol: 'ETH/XYZ',
          base: 'ETH',
          quote: 'XYZ',
          side: 'buy',
          qty: '1',
          quoteQty: '2',
        }),
      ],
      { from: T0, to: T0 + D - 1 },
    );
    assert.equal(q.unpriced_fills, 1);
    assert.equal(q.trades, 1);
    assert.equal(q.volume, 0);
  });

  it('a base-asset fee reduces the quantity received and is valued at the fill price', () => {
    // buy 1 @100 (fee 0.1 USDT), buy 1 @200 (fee 0.001 BTC = 0.2) → holding 1.999 BTC at cost 299.8
    // sell 1 @180 (fee 0.1 USDT): average cost 299.8/1.999 → realized 180 − 149.97498749… = 30.02501251
    const fills = [
      spot({ ts: T0 + 1000, side: 'buy', qty: '1', quoteQty: '100', fee: '0.1' }),
      spot({
        ts: T0 + D + 1000,
        side: 'buy',
        qty: '1',
        quoteQty: '200',
        fee: '0.001',
        feeAsset: 'BTC',
      }),
      spot({ ts: T0 + 2 * D + 1000, side: 'sell', qty: '1', quoteQty: '180', fee: '0.1' }),
    ];
    const m = computeMetrics(fills, WINDOW3);
    assert.equal(m.fees, 0.4);
    assert.equal(m.realized_pnl, 30.02501251);
    // the 0.999 BTC left, marked at the last fill price 180, against cost 149.82501251
    assert.equal(m.unrealized_pnl, 29.99498749);
    assert.equal(m.pnl, 59.62);
    assert.equal(m.pnl, m.realized_pnl + m.unrealized_pnl - m.fees);
  });
});
