/**
 * A hand-built Kraken ledger, raw rows as Kraken sends them (get-trades-history.md and
 * get-ledgers.md shapes), through the adapter's parsers and into the metrics engine. The quirks:
 * X/Z-prefixed names (XXBTZUSD, ZUSD), `time` in seconds with 4 decimals, the trade fee in the
 * QUOTE currency, ledger `fee` charged on top of a signed `amount`, and margin rollover as a
 * funding cost.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetrics } from '../../../src/aggregates/compute.js';
import type { LedgerEvent } from '../../../src/aggregates/ledger.js';
import {
  guessKrakenPair,
  parseKrakenTrade,
  toKrakenFill,
  toKrakenLedger,
} from '../../../src/exchanges/kraken-rows.js';
import { D, H, T0, steps } from '../aggregates/helpers.js';

const code = (id: string) => ({ XXBT: 'BTC', ZUSD: 'USD', XBT: 'BTC' })[id] ?? id;
const sec = (ms: number, frac = '') =>
  `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}${frac}`;

// BTC: 40000 on day 0, 41000 from day 1 (and at the final mark).
//   day −1 23:00  deposit amount 10005, fee 5 (ZUSD)          → 10000 arrives; start equity 10000
//   day 0 01:00   buy  0.1 XXBTZUSD @40000, cost 4000, fee 10.4 USD (0.26 %, taker), time "….1234"
//   day 0 04:00   rollover fee 0.5 USD                         → funding −0.5
//   day 0 08:00   rollover fee 0.5 USD                         → funding −0.5
//   day 1 01:00   sell 0.1 @41000, cost 4100, fee 6.56 USD (0.16 %, maker)
//   day 1 02:00   transfer spotfromfutures +500 USD            → a flow in, not PnL
//   day 2 01:00   withdrawal amount −100, fee 1 (ZUSD)         → 101 leaves, not PnL
// Totals: realized = 4100 − 4000 = 100; fees = 10.4 + 6.56 = 16.96; funding = −1;
//         pnl = 100 − 16.96 − 1 = 82.04; end equity = 10000 + 82.04 + 500 − 101 = 10481.04;
//         volume = 4000 + 4100 = 8100
const TRADES: Record<string, Record<string, unknown>> = {
  'TQ7XFN-2CLBG-Q4DGDJ': {
    ordertxid: 'OQCLML-BW3P3-BUCMWZ',
    postxid: 'TKH2SE-M7IF5-CFI7LT',
    pair: 'XXBTZUSD',
    time: Number(sec(T0 + H, '4')),
    type: 'buy',
    ordertype: 'market',
    price: '40000.0',
    cost: '4000.00000',
    fee: '10.40000',
    vol: '0.10000000',
    margin: '0.00000',
    misc: '',
    maker: false,
  },
  'TCWJEG-FL4SZ-3FKGH6': {
    ordertxid: 'OTZ3MF-5HUVV-PAMWSV',
    postxid: 'TKH2SE-M7IF5-CFI7LT',
    pair: 'XXBTZUSD',
    time: sec(T0 + D + H),
    type: 'sell',
    ordertype: 'limit',
    price: '41000.0',
    cost: '4100.00000',
    fee: '6.56000',
    vol: '0.10000000',
    margin: '0.00000',
    misc: '',
    maker: true,
  },
};
const LEDGER: Record<string, Record<string, unknown>> = {
  'L4UESK-KG3EQ-UFO4T5': {
    refid: 'QGBCOYA-UNP2LN-W7FPXD',
    time: Number(sec(T0 - H)),
    type: 'deposit',
    subtype: '',
    aclass: 'currency',
    asset: 'ZUSD',
    amount: '10005.0000',
    fee: '5.0000',
    balance: '10000.0000',
  },
  'LRX3ZZ-QXZTC-6IDM2K': {
    refid: 'RA1',
    time: Number(sec(T0 + 4 * H)),
    type: 'rollover',
    subtype: '',
    aclass: 'currency',
    asset: 'ZUSD',
    amount: '0.0000',
    fee: '0.5000',
    balance: '0',
  },
  'LRX3ZZ-QXZTC-6IDM2L': {
    refid: 'RA2',
    time: Number(sec(T0 + 8 * H)),
    type: 'rollover',
    subtype: '',
    aclass: 'currency',
    asset: 'ZUSD',
    amount: '0.0000',
    fee: '0.5000',
    balance: '0',
  },
  'LT6V6A-PD3ZE-4UBA4O': {
    refid: 'RA3',
    time: Number(sec(T0 + D + 2 * H)),
    type: 'transfer',
    subtype: 'spotfromfutures',
    aclass: 'currency',
    asset: 'ZUSD',
    amount: '500.0000',
    fee: '0.0000',
    balance: '0',
  },
  'LWD7G4-AAAAA-BBBBBB': {
    refid: 'RA4',
    time: Number(sec(T0 + 2 * D + H)),
    type: 'withdrawal',
    subtype: '',
    aclass: 'currency',
    asset: 'ZUSD',
    amount: '-100.0000',
    fee: '1.0000',
    balance: '0',
  },
  'LTRADE-AAAAA-BBBBBB': {
    refid: 'TQ7XFN-2CLBG-Q4DGDJ',
    time: Number(sec(T0 + H)),
    type: 'trade',
    subtype: '',
    aclass: 'currency',
    asset: 'ZUSD',
    amount: '-4000.0000',
    fee: '10.4000',
    balance: '0',
  },
};

describe('Kraken quirk ledger › raw rows → adapter → engine', () => {
  const fills = Object.entries(TRADES).map(([id, r]) =>
    toKrakenFill(parseKrakenTrade(id, r), guessKrakenPair('XXBTZUSD', code)!),
  );
  const events = Object.entries(LEDGER).flatMap(([id, r]) => toKrakenLedger(id, r, code) ?? []);

  it('names XXBTZUSD as BTC/USD, floors 0.1 ms times, books fees in USD, and leaves trade ledger rows to the fills', () => {
    assert.deepEqual(
      fills.map((f) => [f.symbol, f.ts, f.fee, f.feeAsset, f.maker]),
      [
        ['BTC/USD', T0 + H, '10.40000', 'USD', false],
        ['BTC/USD', T0 + D + H, '6.56000', 'USD', true],
      ],
    );
    assert.deepEqual(
      events.map((e) => [e.type, e.amount]),
      [
        ['deposit', '10000.0000'],
        ['funding', '-0.5000'],
        ['funding', '-0.5000'],
        ['transfer', '500.0000'],
        ['withdrawal', '101.0000'],
      ],
    );
  });

  it('the engine gets realized 100, fees 16.96, funding −1, pnl 82.04', () => {
    const oracle = steps({
      BTC: [
        [T0 - D, '40000'],
        [T0 + D, '41000'],
      ],
    });
    const ledger: LedgerEvent[] = [...fills, ...events];
    const m = computeMetrics(ledger, { from: T0, to: T0 + 3 * D - 1, oracle });
    assert.equal(m.realized_pnl, 100);
    assert.equal(m.fees, 16.96);
    assert.equal(m.funding, -1);
    assert.equal(m.pnl, 82.04);
    assert.equal(m.end_equity, 10481.04);
    assert.equal(m.volume, 8100);
  });
});
