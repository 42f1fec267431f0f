import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Fill } from '../../../src/aggregates/fill.js';
import type { History } from '../../../src/enclave/history.js';
import {
  HISTORY_OVERLAP_MS,
  loadAccountLedger,
  resumePoints,
} from '../../../src/enclave/ledger.js';
import type {
  AccountEvent,
  ExchangeClient,
  FetchFillsOptions,
  FetchFlowsOptions,
} from '../../../src/exchanges/types.js';

const H = 3_600_000;
const NOW = 1_700_000_000_000;
const fill = (id: number, ts: number, symbol = 'BTC/USDT'): Fill => ({
  exchange: 'binance',
  symbol,
  base: symbol.split('/')[0]!,
  quote: 'USDT',
  id: String(id),
  orderId: String(id),
  side: 'buy',
  price: '100',
  qty: '1',
  quoteQty: '100',
  fee: '0',
  feeAsset: 'USDT',
  maker: false,
  ts,
});

/** Records what the ledger asks for and answers from fixed rows, like an adapter would. */
function source(fills: Fill[], flows: AccountEvent[], horizon = 0) {
  const calls: { fills: FetchFillsOptions[]; flows: FetchFlowsOptions[] } = {
    fills: [],
    flows: [],
  };
  const client: Pick<ExchangeClient, 'fetchFills' | 'fetchFlows' | 'balances' | 'historySince'> = {
    historySince: () => horizon,
    fetchFills: async (o) => {
      calls.fills.push(o);
      return fills.filter((f) => o.since === undefined || f.ts >= o.since);
    },
    fetchFlows: async (o) => {
      calls.flows.push(o);
      return flows.filter((e) => e.ts >= o.since && e.ts <= (o.until ?? Infinity));
    },
    balances: async () => ({ USDT: '1000' }),
  };
  return { client, calls };
}

describe('loadAccountLedger with stored history', () => {
  const old = fill(1, NOW - 300 * 24 * H); // beyond a 6-month exchange window
  const a = fill(7, NOW - 30 * H);
  const b = fill(8, NOW - 26 * H);
  const dep: AccountEvent = {
    type: 'deposit',
    ts: NOW - 400 * 24 * H,
    asset: 'USDT',
    amount: '5',
    id: 'd0',
  };
  const stored: History = {
    completeFrom: NOW - 400 * 24 * H,
    fetchedTo: NOW - 2 * H,
    flowsFrom: NOW - 500 * 24 * H,
    fills: [old, a, b],
    flows: [dep],
  };

  it('fetches from the overlap with per-symbol resume points, keeps rows the exchange dropped, de-duplicates', async () => {
    const c = fill(9, NOW - H);
    // the exchange now keeps 180 days: `old` and the deposit are gone from it
    const { client, calls } = source([a, b, c], [], NOW - 180 * 24 * H);
    const l = await loadAccountLedger(client, { from: null, now: NOW, history: stored });
    const since = stored.fetchedTo - HISTORY_OVERLAP_MS;
    assert.equal(calls.fills[0]!.since, since);
    assert.deepEqual(
      calls.fills[0]!.fromIds,
      { 'BTC/USDT': '8' },
      'first stored trade in the overlap',
    );
    assert.deepEqual(
      l.fills.map((f) => f.id),
      ['1', '7', '8', '9'],
    );
    assert.deepEqual(calls.flows, [{ since, until: NOW }], 'flows: only the new span');
    assert.ok(
      l.events.some((e) => e.type === 'deposit'),
      'the stored deposit still counts',
    );
    assert.equal(l.historyUse, 'incremental');
    assert.equal(l.history.completeFrom, stored.completeFrom, 'reaches back past the window');
    assert.equal(l.history.fetchedTo, NOW);
  });

  it('a history ending before the exchange horizon is discarded (gap): full download, honest span', async () => {
    const { client, calls } = source([a, b], [], NOW - 24 * H);
    const l = await loadAccountLedger(client, { from: null, now: NOW, history: stored });
    assert.equal(l.historyUse, 'gap');
    assert.equal(calls.fills[0]!.since, undefined);
    assert.equal(calls.fills[0]!.fromIds, undefined);
    assert.deepEqual(
      l.fills.map((f) => f.id),
      ['7', '8'],
    );
    assert.equal(l.history.completeFrom, NOW - 24 * H);
  });

  it('a request reaching before the stored flows fetches the missing span too', async () => {
    const early = { ...stored, flowsFrom: NOW - 250 * 24 * H, fills: [a, b] };
    const { client, calls } = source([a, b], [dep]);
    const from = NOW - 600 * 24 * H;
    const l = await loadAccountLedger(client, { from, now: NOW, history: early });
    assert.deepEqual(calls.flows[1], { since: from - H + 1, until: early.flowsFrom - 1 });
    assert.equal(l.history.flowsFrom, from - H + 1);
    assert.equal(l.events.filter((e) => e.type === 'deposit').length, 1);
  });
});

describe('resumePoints', () => {
  it('per symbol: the first trade in the overlap, else the one after the last; none for non-numeric ids', () => {
    const since = 1000;
    assert.deepEqual(
      resumePoints(
        [
          fill(5, 10),
          fill(6, 1500),
          fill(7, 2000),
          fill(40, 10, 'ETH/USDT'),
          fill(41, 20, 'ETH/USDT'),
          { ...fill(0, 5000, 'XRP/USDT'), id: 'abc' },
        ],
        since,
      ),
      { 'BTC/USDT': '6', 'ETH/USDT': '42' },
    );
  });
});
