import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FuturesFill, LedgerEvent } from '../../../src/aggregates/ledger.js';
import { loadAccountLedger } from '../../../src/enclave/ledger.js';
import type { AccountEvent, ExchangeClient, NormalizedFill } from '../../../src/exchanges/types.js';

const H = 3_600_000;
const T = Date.UTC(2026, 0, 1);

const fill = (p: Partial<FuturesFill>): NormalizedFill => ({
  exchange: 'bybit',
  symbol: 'BTC/USDT',
  base: 'BTC',
  quote: 'USDT',
  id: String(p.ts),
  orderId: '1',
  side: 'buy',
  price: '40000',
  qty: '0.1',
  quoteQty: '4000',
  fee: '0',
  feeAsset: 'USDT',
  maker: false,
  ts: 0,
  ...p,
});

/** A source that type-checks against the adapter contract and answers from fixed rows. */
function source(
  fills: NormalizedFill[],
  flows: AccountEvent[],
  balances: Record<string, string>,
): Pick<ExchangeClient, 'fetchFills' | 'fetchFlows' | 'balances' | 'historySince'> {
  return {
    historySince: () => 0,
    fetchFills: async () => fills,
    fetchFlows: async () => flows,
    balances: async () => balances,
  };
}

describe('loadAccountLedger › a Bybit-style account: spot, perpetual fills and funding', () => {
  // now: USDT 10100, BTC 0.1. After the opening (T):
  //   T+1h  spot buy 0.1 BTC for 4000 USDT, fee 4 USDT       USDT −4004, BTC +0.1
  //   T+2h  perpetual sell, realizedPnl +200, fee 5 USDT       USDT +195 (no BTC moves)
  //   T+3h  funding −1 USDT                                    USDT −1
  //   T+4h  deposit 1000 USDT                                  USDT +1000
  // opening USDT = 10100 − (−4004 + 195 − 1 + 1000) = 12910; opening BTC = 0.1 − 0.1 = 0
  const fills = [
    fill({ ts: T + H, fee: '4' }),
    fill({
      ts: T + 2 * H,
      symbol: 'BTC/USDT:USDT',
      side: 'sell',
      fee: '5',
      market: 'futures',
      realizedPnl: '200',
      settleAsset: 'USDT',
    }),
  ];
  const flows: AccountEvent[] = [
    { type: 'funding', ts: T + 3 * H, asset: 'USDT', amount: '-1', symbol: 'BTC/USDT:USDT' },
    { type: 'deposit', ts: T + 4 * H, asset: 'USDT', amount: '1000' },
  ];

  it('opens with the balances the futures PnL, fees and funding explain', async () => {
    const l = await loadAccountLedger(source(fills, flows, { USDT: '10100', BTC: '0.1' }), {
      from: null,
      now: T + 5 * H,
    });
    assert.equal(l.openingAt, T);
    const opening = l.events.filter(
      (e): e is Extract<LedgerEvent, { type: 'balance' }> => 'type' in e && e.type === 'balance',
    );
    assert.deepEqual(
      opening.map((e) => [e.asset, Number(e.amount)]),
      [['USDT', 12910]],
    );
    assert.ok(l.events.some((e) => 'type' in e && e.type === 'funding'));
  });
});
