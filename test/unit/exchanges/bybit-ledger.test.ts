/**
 * A hand-built Bybit ledger, raw rows as Bybit sends them (shapes from the recorded responses in
 * ../shared/vectors/exchanges/ccxt_static_response_bybit.json), through the adapter's parsers and
 * into the metrics engine. The quirks: maker rebates are negative fees, a Funding execution's
 * execFee > 0 is PAID, a liquidation (BustTrade) is a fill, closed-pnl reports PnL per closing
 * order net of fees, and a spot row without feeCurrency pays a buy's fee in the base coin.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetrics } from '../../../src/aggregates/compute.js';
import type { FuturesFill, LedgerEvent } from '../../../src/aggregates/ledger.js';
import { bybitFills, bybitFunding } from '../../../src/exchanges/bybit.js';
import {
  guessInstrument,
  parseClosedPnl,
  parseExecution,
  toBybitDeposit,
  type Category,
} from '../../../src/exchanges/bybit-rows.js';
import { D, H, T0, steps } from '../aggregates/helpers.js';

const exec = (p: Record<string, unknown>) => ({
  orderLinkId: '',
  orderType: 'Market',
  feeCurrency: '',
  feeRate: '0.00055',
  leavesQty: '0',
  markPrice: '',
  seq: 1,
  isMaker: false,
  execType: 'Trade',
  ...p,
});

// BTC: 40000 on day 0, 41000 on day 1, 40000 from day 2 (and at the final mark).
//   day −1 23:00  deposit 10000 USDT (status 3)                                  → start equity 10000
// Order A, open long 0.2 BTCUSDT @40000 in two fills:
//   day 0 01:00   e1 buy 0.1 (4000), taker fee 4000·0.00055 = 2.2
//   day 0 01:00+1 e2 buy 0.1 (4000), maker REBATE execFee −0.4 (−0.0001): fee −0.4
//   day 0 08:00   Funding, long 0.2 @40000, execFee 0.8 (paid)                   → funding −0.8
//   day 0 16:00   Funding, execFee −0.4 (negative rate: received)                  → funding +0.4
// Order B, close 0.2 @41000:
//   day 1 01:00   e3 sell 0.2 (8200), fee 4.51, closedSize 0.2
//   closed-pnl B: gross (41000 − 40000)·0.2 = 200; openFee 2.2 − 0.4 = 1.8; closeFee 4.51;
//                 closedPnl = 200 − 1.8 − 4.51 = 193.69 → realizedPnl on e3 = 193.69 + 1.8 + 4.51 = 200
// Order C, open short 0.1 @41000, liquidated at 42000:
//   day 1 02:00   e4 sell 0.1 (4100), fee 2.255, closedSize 0
//   day 1 08:00   Funding, short 0.1 @41000, execFee −0.41 (received)            → funding +0.41
//   day 1 16:00   Funding, execFee −0.41                                           → funding +0.41
//   day 1 20:00   e5 BustTrade buy 0.1 (4200), fee 2.31, closedSize 0.1
//   closed-pnl C: gross (41000 − 42000)·0.1 = −100; closedPnl = −100 − 2.255 − 2.31 = −104.565
//                 → realizedPnl on e5 = −100
// Spot:
//   day 2 01:00   e6 buy 0.01 BTC/USDT @40000 (400), feeCurrency '' → fee 0.00001 BTC (@40000 = 0.4)
// Totals: realized = 200 − 100 = 100; fees = 2.2 − 0.4 + 4.51 + 2.255 + 2.31 + 0.4 = 11.275;
//         funding = −0.8 + 0.4 + 0.41 + 0.41 = 0.42; the spot BTC is held at cost (no gain);
//         pnl = 100 − 11.275 + 0.42 = 89.145; end equity = 10000 + 89.145 = 10089.145;
//         volume = 4000 + 4000 + 8200 + 4100 + 4200 + 400 = 24900
const RAW: Record<Category, unknown[]> = {
  linear: [
    exec({
      symbol: 'BTCUSDT',
      execId: 'e1',
      orderId: 'A',
      side: 'Buy',
      execPrice: '40000',
      execQty: '0.1',
      execValue: '4000',
      execFee: '2.2',
      closedSize: '0',
      execTime: String(T0 + H),
    }),
    exec({
      symbol: 'BTCUSDT',
      execId: 'e2',
      orderId: 'A',
      side: 'Buy',
      execPrice: '40000',
      execQty: '0.1',
      execValue: '4000',
      execFee: '-0.4',
      isMaker: true,
      feeRate: '-0.0001',
      closedSize: '0',
      execTime: String(T0 + H + 1),
    }),
    exec({
      symbol: 'BTCUSDT',
      execId: 'f1',
      orderId: 'fund-1',
      side: 'Buy',
      execPrice: '40000',
      execQty: '0.2',
      execValue: '8000',
      execFee: '0.8',
      execType: 'Funding',
      closedSize: '0',
      execTime: String(T0 + 8 * H),
    }),
    exec({
      symbol: 'BTCUSDT',
      execId: 'f2',
      orderId: 'fund-2',
      side: 'Buy',
      execPrice: '40000',
      execQty: '0.2',
      execValue: '8000',
      execFee: '-0.4',
      execType: 'Funding',
      closedSize: '0',
      execTime: String(T0 + 16 * H),
    }),
    exec({
      symbol: 'BTCUSDT',
      execId: 'e3',
      orderId: 'B',
      side: 'Sell',
      execPrice: '41000',
      execQty: '0.2',
      execValue: '8200',
      execFee: '4.51',
      closedSize: '0.2',
      execTime: String(T0 + D + H),
    }),
    exec({
      symbol: 'BTCUSDT',
      execId: 'e4',
      orderId: 'C',
      side: 'Sell',
      execPrice: '41000',
      execQty: '0.1',
      execValue: '4100',
      execFee: '2.255',
      closedSize: '0',
      execTime: String(T0 + D + 2 * H),
    }),
    exec({
      symbol: 'BTCUSDT',
      execId: 'f3',
      orderId: 'fund-3',
      side: 'Sell',
      execPrice: '41000',
      execQty: '0.1',
      execValue: '4100',
      execFee: '-0.41',
      execType: 'Funding',
      closedSize: '0',
      execTime: String(T0 + D + 8 * H),
    }),
    exec({
      symbol: 'BTCUSDT',
      execId: 'f4',
      orderId: 'fund-4',
      side: 'Sell',
      execPrice: '41000',
      execQty: '0.1',
      execValue: '4100',
      execFee: '-0.41',
      execType: 'Funding',
      closedSize: '0',
      execTime: String(T0 + D + 16 * H),
    }),
    exec({
      symbol: 'BTCUSDT',
      execId: 'e5',
      orderId: 'C',
      side: 'Buy',
      execPrice: '42000',
      execQty: '0.1',
      execValue: '4200',
      execFee: '2.31',
      execType: 'BustTrade',
      orderType: 'UNKNOWN',
      closedSize: '0.1',
      execTime: String(T0 + D + 20 * H),
    }),
  ],
  spot: [
    exec({
      symbol: 'BTCUSDT',
      execId: '2100000000047087120',
      orderId: 'S',
      side: 'Buy',
      execPrice: '40000',
      execQty: '0.01',
      execValue: '400',
      execFee: '0.00001',
      feeRate: '0.001',
      closedSize: '',
      execTime: String(T0 + 2 * D + H),
    }),
  ],
  inverse: [],
};
const CLOSED_PNL = [
  {
    symbol: 'BTCUSDT',
    orderId: 'B',
    side: 'Sell',
    qty: '0.2',
    closedSize: '0.2',
    closedPnl: '193.69',
    openFee: '1.8',
    closeFee: '4.51',
    execType: 'Trade',
    createdTime: String(T0 + D + H),
    updatedTime: String(T0 + D + H),
  },
  {
    symbol: 'BTCUSDT',
    orderId: 'C',
    side: 'Buy',
    qty: '0.1',
    closedSize: '0.1',
    closedPnl: '-104.565',
    openFee: '2.255',
    closeFee: '2.31',
    execType: 'BustTrade',
    createdTime: String(T0 + D + 20 * H),
    updatedTime: String(T0 + D + 20 * H),
  },
].map(parseClosedPnl);

describe('Bybit quirk ledger › raw rows → adapter → engine', () => {
  const inst = (c: Category) => (s: string) => guessInstrument(c, s)!;
  const linear = RAW.linear.map((r) => parseExecution('linear', r));
  const spot = RAW.spot.map((r) => parseExecution('spot', r));
  const fills = [
    ...bybitFills(linear, CLOSED_PNL, inst('linear')),
    ...bybitFills(spot, [], inst('spot')),
  ];
  const funding = bybitFunding(linear, inst('linear'));
  const deposit = toBybitDeposit({
    id: 'd1',
    coin: 'USDT',
    amount: '10000',
    status: 3,
    successAt: String(T0 - H),
    txID: 'tx1',
  })!;
  const ledger: LedgerEvent[] = [deposit, ...fills, ...funding];

  it('keeps rebates negative, signs funding > 0 received, and puts each order’s gross PnL on its last fill', () => {
    const by = new Map(fills.map((f) => [f.id, f as FuturesFill]));
    assert.equal(by.get('e2')!.fee, '-0.4');
    assert.deepEqual(
      funding.map((f) => f.amount),
      ['-0.8', '0.4', '0.41', '0.41'],
    );
    assert.deepEqual(
      ['e1', 'e2', 'e3', 'e4', 'e5'].map((id) => Number(by.get(id)!.realizedPnl)),
      [0, 0, 200, 0, -100],
    );
    assert.equal(by.get('e5')!.symbol, 'BTC/USDT:USDT'); // the liquidation is a fill
    const s = fills.find((f) => f.id === '2100000000047087120')!;
    assert.deepEqual([s.symbol, s.feeAsset, s.fee], ['BTC/USDT', 'BTC', '0.00001']);
  });

  it('the engine gets realized 100, fees 11.275, funding 0.42, pnl 89.145', () => {
    const oracle = steps({
      BTC: [
        [T0 - D, '40000'],
        [T0 + D, '41000'],
        [T0 + 2 * D, '40000'],
      ],
    });
    const m = computeMetrics(ledger, { from: T0, to: T0 + 3 * D - 1, oracle });
    assert.equal(m.realized_pnl, 100);
    assert.equal(m.fees, 11.275);
    assert.equal(m.funding, 0.42);
    assert.equal(m.pnl, 89.145);
    assert.equal(m.end_equity, 10089.145);
    assert.equal(m.volume, 24900);
  });
});
