/**
 * A hand-built OKX ledger, raw rows as OKX sends them (shapes from ccxt's recorded responses,
 * ../shared/vectors/exchanges/ccxt_static_response_okx.json), through the adapter's parsers and
 * into the metrics engine. The quirks: `fee` < 0 is CHARGED and > 0 a rebate, swap sizes are
 * contracts (× ctVal), `fillPnl` is the fill's realized PnL before the fee, the fee currency of
 * a spot buy is the base coin, and a funding bill's `balChg` is signed > 0 received.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetrics } from '../../../src/aggregates/compute.js';
import type { LedgerEvent } from '../../../src/aggregates/ledger.js';
import {
  parseOkxFill,
  toOkxDeposit,
  toOkxFill,
  toOkxFunding,
  type InstType,
  type OkxInstrument,
} from '../../../src/exchanges/okx-rows.js';
import { D, H, T0, steps } from '../aggregates/helpers.js';

const SWAP: OkxInstrument = {
  symbol: 'BTC/USDT:USDT',
  base: 'BTC',
  quote: 'USDT',
  settle: 'USDT',
  ctVal: '0.01',
};
const SPOT: OkxInstrument = { symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', settle: 'USDT' };

let bill = 639895991340056576n;
const fill = (instType: InstType, p: Record<string, string>) => ({
  instType,
  billId: String(bill++),
  tradeId: String(bill),
  ordId: String(bill + 1000n),
  clOrdId: '',
  tag: '',
  posSide: 'net',
  fillIdxPx: '',
  feeRate: '-0.0005',
  fillPnl: '0',
  execType: 'T',
  ...p,
  ts: p['fillTime'],
});

// BTC: 40000 on day 0, 41000 on day 1, 40000 from day 2 (and at the final mark).
//   day −1 23:00  deposit 10000 USDT (state 2)                                  → start equity 10000
//   day 0 01:00   f1 SWAP buy 20 contracts × 0.01 = 0.2 BTC @40000 (8000), fee "−4" → we book 4 paid
//   day 0 08:00   funding bill balChg −0.8 (paid)
//   day 0 16:00   funding bill balChg +0.4 (received)
//   day 1 01:00   f2 SWAP sell 10 (0.1 BTC) @41000 (4100), maker REBATE fee "+0.41" → −0.41, fillPnl 100
//   day 1 02:00   f3 SWAP sell 10 (0.1 BTC) @41000 (4100), fee "−2.05" → 2.05, fillPnl 100   (flat)
//   day 2 01:00   f4 SPOT buy 0.01 BTC @40000 (400), fee "−0.00001" BTC → 0.00001 BTC (@40000 = 0.4)
//   day 2 02:00   f5 SPOT sell 0.005 BTC @40000 (200), fee "−0.2" USDT → 0.2; at cost: no gain
// Totals: realized = 100 + 100 = 200; fees = 4 − 0.41 + 2.05 + 0.4 + 0.2 = 6.24; funding = −0.4;
//         pnl = 200 − 6.24 − 0.4 = 193.36; end equity = 10193.36;
//         volume = 8000 + 4100 + 4100 + 400 + 200 = 16800
const ROWS: [InstType, OkxInstrument, unknown][] = [
  [
    'SWAP',
    SWAP,
    fill('SWAP', {
      instId: 'BTC-USDT-SWAP',
      side: 'buy',
      fillPx: '40000',
      fillSz: '20',
      fee: '-4',
      feeCcy: 'USDT',
      fillTime: String(T0 + H),
    }),
  ],
  [
    'SWAP',
    SWAP,
    fill('SWAP', {
      instId: 'BTC-USDT-SWAP',
      side: 'sell',
      fillPx: '41000',
      fillSz: '10',
      fee: '0.41',
      feeCcy: 'USDT',
      execType: 'M',
      fillPnl: '100',
      fillTime: String(T0 + D + H),
    }),
  ],
  [
    'SWAP',
    SWAP,
    fill('SWAP', {
      instId: 'BTC-USDT-SWAP',
      side: 'sell',
      fillPx: '41000',
      fillSz: '10',
      fee: '-2.05',
      feeCcy: 'USDT',
      fillPnl: '100',
      fillTime: String(T0 + D + 2 * H),
    }),
  ],
  [
    'SPOT',
    SPOT,
    fill('SPOT', {
      instId: 'BTC-USDT',
      side: 'buy',
      fillPx: '40000',
      fillSz: '0.01',
      fee: '-0.00001',
      feeCcy: 'BTC',
      fillTime: String(T0 + 2 * D + H),
    }),
  ],
  [
    'SPOT',
    SPOT,
    fill('SPOT', {
      instId: 'BTC-USDT',
      side: 'sell',
      fillPx: '40000',
      fillSz: '0.005',
      fee: '-0.2',
      feeCcy: 'USDT',
      fillTime: String(T0 + 2 * D + 2 * H),
    }),
  ],
];
const BILLS = [
  {
    billId: '1',
    instType: 'SWAP',
    instId: 'BTC-USDT-SWAP',
    ccy: 'USDT',
    type: '8',
    subType: '173',
    balChg: '-0.8',
    ts: String(T0 + 8 * H),
  },
  {
    billId: '2',
    instType: 'SWAP',
    instId: 'BTC-USDT-SWAP',
    ccy: 'USDT',
    type: '8',
    subType: '174',
    balChg: '0.4',
    ts: String(T0 + 16 * H),
  },
];

describe('OKX quirk ledger › raw rows → adapter → engine', () => {
  const fills = ROWS.map(([t, i, r]) => toOkxFill(parseOkxFill(t, r), i));
  const funding = BILLS.map((b) => toOkxFunding(b, () => 'BTC/USDT:USDT'));
  const deposit = toOkxDeposit({
    depId: 'd1',
    ccy: 'USDT',
    amt: '10000',
    state: '2',
    ts: String(T0 - H),
  })!;

  it('flips the fee sign, sizes contracts by ctVal and keeps fillPnl', () => {
    assert.deepEqual(
      fills.map((f) => [f.fee, f.feeAsset, f.qty, f.quoteQty, f.maker]),
      [
        ['4', 'USDT', '0.2', '8000', false],
        ['-0.41', 'USDT', '0.1', '4100', true],
        ['2.05', 'USDT', '0.1', '4100', false],
        ['0.00001', 'BTC', '0.01', '400', false],
        ['0.2', 'USDT', '0.005', '200', false],
      ],
    );
    assert.deepEqual(
      fills.map((f) => ('realizedPnl' in f ? f.realizedPnl : undefined)),
      ['0', '100', '100', undefined, undefined],
    );
    assert.deepEqual(
      funding.map((f) => f.amount),
      ['-0.8', '0.4'],
    );
  });

  it('the engine gets realized 200, fees 6.24, funding −0.4, pnl 193.36', () => {
    const oracle = steps({
      BTC: [
        [T0 - D, '40000'],
        [T0 + D, '41000'],
        [T0 + 2 * D, '40000'],
      ],
    });
    const ledger: LedgerEvent[] = [deposit, ...fills, ...funding];
    const m = computeMetrics(ledger, { from: T0, to: T0 + 3 * D - 1, oracle });
    assert.equal(m.realized_pnl, 200);
    assert.equal(m.fees, 6.24);
    assert.equal(m.funding, -0.4);
    assert.equal(m.pnl, 193.36);
    assert.equal(m.end_equity, 10193.36);
    assert.equal(m.volume, 16800);
  });
});
