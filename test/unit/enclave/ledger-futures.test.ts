/**
 * A hand-built USD-M ledger with Binance's quirks (for #4): the exchange's gross `realizedPnl` per
 * fill, commission in USDT and in BNB, funding as signed income, transfers in from spot. Every
 * expected number is worked out in the comments.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeMetrics } from '../../../src/aggregates/compute.js';
import type { FuturesFill, FundingEvent, TransferEvent } from '../../../src/aggregates/ledger.js';
import { loadAccountLedger } from '../../../src/enclave/ledger.js';
import { H, T0, perp, steps } from '../aggregates/helpers.js';

// T0 + 30 min   TRANSFER  +10000 USDT, +1 BNB from spot (external flows in)
// T0 +  1 h     BUY  0.1 BTC @ 40000: quoteQty 4000, commission 1.6 USDT (0.04 % taker), realizedPnl 0
// T0 +  8 h     FUNDING_FEE −0.4 USDT (the long pays 0.01 % of 4000)
// T0 + 10 h     SELL 0.1 BTC @ 41000: quoteQty 4100, commission 0.0041 BNB, realizedPnl +100
//               (exchange: (41000 − 40000) × 0.1 = 100, gross of commission)
const fills: FuturesFill[] = [
  perp({
    ts: T0 + H,
    side: 'buy',
    qty: '0.1',
    price: '40000',
    quoteQty: '4000',
    fee: '1.6',
    realizedPnl: '0',
    settleAsset: 'USDT',
    id: '1',
  }),
  perp({
    ts: T0 + 10 * H,
    side: 'sell',
    qty: '0.1',
    price: '41000',
    quoteQty: '4100',
    fee: '0.0041',
    feeAsset: 'BNB',
    realizedPnl: '100',
    settleAsset: 'USDT',
    id: '2',
  }),
];
const flows: (TransferEvent | FundingEvent)[] = [
  { type: 'transfer', ts: T0 + H / 2, asset: 'USDT', amount: '10000', id: 't1' },
  { type: 'transfer', ts: T0 + H / 2 + 1000, asset: 'BNB', amount: '1', id: 't2' },
  { type: 'funding', ts: T0 + 8 * H, asset: 'USDT', amount: '-0.4', symbol: 'BTCUSDT', id: 'f1' },
];
// Wallet now: USDT 10000 − 1.6 − 0.4 + 100 = 10098; BNB 1 − 0.0041 = 0.9959. The position is flat.
const balances = { USDT: '10098', BNB: '0.9959' };
const NOW = T0 + 24 * H;

describe('loadAccountLedger › USD-M futures', () => {
  it('explains the futures wallet exactly: no opening balance is left over', async () => {
    const ledger = await loadAccountLedger(
      {
        historySince: () => 0,
        fetchFills: async () => fills,
        fetchFlows: async () => flows,
        balances: async () => balances,
      },
      { from: null, now: NOW },
    );
    // openingAt = first fill − 1 h = T0. Opening = now − Σ changes after it:
    //   USDT 10098 − (10000 − 1.6 − 0.4 + 100) = 0;  BNB 0.9959 − (1 − 0.0041) = 0.
    // A spot-style booking (−4000 USDT on the buy, +4100 on the sell) would leave USDT −100.
    assert.equal(ledger.openingAt, T0);
    assert.deepEqual(
      ledger.events.filter((e) => e.type === 'balance'),
      [],
    );
    // BTC moves no holding but must be priced for unrealized PnL
    assert.deepEqual(ledger.assets, ['BNB', 'BTC', 'USDT']);

    const m = computeMetrics(ledger.events, {
      from: T0,
      to: NOW,
      oracle: steps({
        BTC: [
          [T0, '40000'],
          [T0 + 10 * H, '41000'],
        ],
        BNB: [[T0, '250']],
      }),
      currency: 'USD',
    });
    // realized: the exchange's realizedPnl, 0 + 100 = 100
    assert.equal(m.realized_pnl, 100);
    // fees: 1.6 USDT + 0.0041 BNB × 250 = 1.6 + 1.025 = 2.625
    assert.equal(m.fees, 2.625);
    // funding: −0.4
    assert.equal(m.funding, -0.4);
    // flat at the end, so pnl = 100 − 2.625 − 0.4 = 96.975
    assert.equal(m.pnl, 96.975);
    // flows in: 10000 USDT + 1 BNB × 250 = 10250
    assert.equal(m.net_flows, 10250);
    assert.equal(m.trades, 2);
    assert.equal(m.volume, 8100); // 4000 + 4100
  });
});
