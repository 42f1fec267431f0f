import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FuturesFill } from '../../../src/aggregates/ledger.js';
import { createBybitClient, type BybitClient } from '../../../src/exchanges/bybit.js';
import { addSignedDecimals, negateDecimal } from '../../../src/exchanges/decimal.js';
import { LimiterRegistry } from '../../../src/exchanges/limiter.js';
import { ExchangeError, type NormalizedFill } from '../../../src/exchanges/types.js';
import {
  BYBIT_DEMO_ACCOUNT,
  startBybitSim,
  type BybitSim,
  type BybitSimAccountSpec,
  type SimExecution,
} from '../../../src/sim/bybit.js';
import { fmt10 } from '../../../src/sim/sim-http.js';

const DAY = 86_400_000;

async function withSim<T>(fn: (sim: BybitSim) => Promise<T>): Promise<T> {
  const sim = await startBybitSim({ seed: 7 });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

function clientFor(
  sim: BybitSim,
  creds: { apiKey: string; apiSecret: string } = BYBIT_DEMO_ACCOUNT,
): Promise<BybitClient> {
  return createBybitClient({ ...creds, baseUrl: sim.url, allowHosts: [new URL(sim.url).host] });
}

/** The sim's history spans `days` before its current UTC day: start the walk just before. */
const sinceFor = (days: number) => Math.floor(Date.now() / DAY) * DAY - (days + 1) * DAY;

/** What a truth execution must become (funding rows excluded). */
function expected(e: SimExecution): string {
  const [qty, quoteQty] =
    e.category === 'inverse' ? [e.execValue, e.execQty] : [e.execQty, e.execValue];
  const base = e.category === 'inverse' ? 'BTC' : e.symbol.replace(/USDT$/, '');
  const feeAsset =
    e.category === 'spot'
      ? e.feeCurrency || (e.side === 'Buy' ? base : 'USDT')
      : e.category === 'inverse'
        ? 'BTC'
        : 'USDT';
  return [
    e.execId,
    e.orderId,
    e.side.toLowerCase(),
    e.execPrice,
    qty,
    quoteQty,
    e.execFee,
    feeAsset,
    e.isMaker,
    e.execTime,
  ].join('|');
}
function actual(f: NormalizedFill): string {
  return [
    f.id,
    f.orderId,
    f.side,
    f.price,
    f.qty,
    f.quoteQty,
    f.fee,
    f.feeAsset,
    f.maker,
    f.ts,
  ].join('|');
}

/** Downloads everything and checks it against the sim's ground truth, row for row. */
async function assertComplete(sim: BybitSim, spec: BybitSimAccountSpec, days: number) {
  const c = await clientFor(sim, spec);
  const since = sinceFor(days);
  const fills = await c.fetchFills({ since });
  const funding = await c.fetchFunding({ since });
  const flows = await c.fetchFlows({ since });
  const t = sim.truth(spec.apiKey);

  const want = t.executions
    .filter((e) => e.execType !== 'Funding')
    .map(expected)
    .sort();
  const got = fills.map(actual).sort();
  assert.equal(new Set(got).size, got.length, 'no duplicate fills');
  assert.equal(got.length, want.length, 'every fill');
  assert.deepEqual(got, want);

  const wantFunding = t.executions
    .filter((e) => e.execType === 'Funding')
    .map((e) => `${e.execId}|${negateDecimal(e.execFee)}|${e.execTime}`)
    .sort();
  const gotFunding = funding.map((f) => `${f.id}|${f.amount}|${f.ts}`).sort();
  assert.ok(wantFunding.length > 0);
  assert.deepEqual(gotFunding, wantFunding, 'every funding row, signed > 0 received');

  const wantFlows = [
    ...t.deposits.filter((d) => d.status === 3).map((d) => `deposit|${d.id}|${d.amount}`),
    ...t.withdrawals
      .filter((w) => w.status === 'success')
      .map((w) => `withdrawal|${w.withdrawId}|${addSignedDecimals(w.amount, w.withdrawFee)}`),
  ].sort();
  const external = flows.filter((f) => f.type === 'deposit' || f.type === 'withdrawal');
  assert.deepEqual(external.map((f) => `${f.type}|${f.id}|${f.amount}`).sort(), wantFlows);
  // the account-event stream carries the funding rows too, once each
  assert.deepEqual(
    flows
      .filter((f) => f.type === 'funding')
      .map((f) => `${f.id}|${f.amount}|${f.ts}`)
      .sort(),
    gotFunding,
  );
  assert.equal(sim.stats().rateLimited, 0, 'the rate limit was never exceeded');
  return { fills, funding, truth: t };
}

describe('Bybit adapter against the simulator', () => {
  it('returns every fill of an order that filled 2,000 times in one millisecond, liquidation, ADL and delivery rows included, with realized PnL from closed-pnl', async () => {
    await withSim(async (sim) => {
      const { fills, truth } = await assertComplete(sim, BYBIT_DEMO_ACCOUNT, 60);
      const sameMs = new Map<number, number>();
      for (const f of fills) sameMs.set(f.ts, (sameMs.get(f.ts) ?? 0) + 1);
      assert.ok(Math.max(...sameMs.values()) >= 2000);
      const types = new Set(truth.executions.map((e) => e.execType));
      for (const t of ['BustTrade', 'AdlTrade', 'Delivery', 'Funding']) assert.ok(types.has(t), t);
      // delisted symbols (absent from instruments-info) are named from the symbol
      assert.ok(fills.some((f) => f.symbol === 'LUNA/USDT'));
      assert.ok(fills.some((f) => f.symbol === 'FTT/USDT:USDT'));
      assert.ok(fills.some((f) => f.symbol === 'BTC/USD:BTC' && f.feeAsset === 'BTC'));
      // Σ realizedPnl per closing order = closedPnl + openFee + closeFee of its closed-pnl row
      for (const p of truth.closedPnl) {
        const orderFills = fills.filter((f) => f.orderId === p.orderId) as FuturesFill[];
        assert.ok(orderFills.length > 0);
        const sum = orderFills.reduce((s, f) => addSignedDecimals(s, f.realizedPnl!), '0');
        const want = addSignedDecimals(p.closedPnl, addSignedDecimals(p.openFee, p.closeFee));
        assert.equal(Number(sum), Number(want));
      }
    });
  });

  it('is complete with page-edge duplicates and a five-week gap without activity', async () => {
    await withSim(async (sim) => {
      const spec = {
        apiKey: 'edges',
        apiSecret: 'edges-secret',
        pageEdgeDuplicates: true,
        gapDays: 35,
        days: 90,
        spotFills: 1500,
      };
      sim.addAccount(spec);
      const { fills } = await assertComplete(sim, spec, 90);
      assert.ok(sim.stats().duplicatesServed > 0);
      // nothing in the gap, and history on both sides of it
      const ts = fills.map((f) => f.ts).sort((a, b) => a - b);
      const widest = Math.max(...ts.slice(1).map((t, i) => t - ts[i]!));
      assert.ok(widest >= 35 * DAY, 'the gap is in the data');
    });
  });

  it('two concurrent sessions of one key, sharing the enclave limiters, never exceed the per-UID limit', async () => {
    await withSim(async (sim) => {
      const limiters = new LimiterRegistry();
      const mk = () =>
        createBybitClient({
          ...BYBIT_DEMO_ACCOUNT,
          baseUrl: sim.url,
          allowHosts: [new URL(sim.url).host],
          limiters,
        });
      const [a, b] = await Promise.all([mk(), mk()]);
      const since = sinceFor(60);
      const [fa, fb] = await Promise.all([a.fetchFills({ since }), b.fetchFills({ since })]);
      assert.equal(fa.length, fb.length);
      assert.ok(fa.length > 2000);
      assert.equal(sim.stats().rateLimited, 0);
    });
  });

  it('retries bursts of 5xx and still returns every row', async () => {
    await withSim(async (sim) => {
      const spec = { apiKey: 'flaky', apiSecret: 'flaky-secret', serverErrorEvery: 25, days: 30 };
      sim.addAccount(spec);
      await assertComplete(sim, spec, 30);
      assert.ok(sim.stats().serverErrors >= 3);
    });
  });

  it('stops at the first auth failure halfway through, without retrying it', async () => {
    await withSim(async (sim) => {
      const spec = { apiKey: 'revoked', apiSecret: 'revoked-secret', authFailAfter: 12 };
      sim.addAccount(spec);
      const c = await clientFor(sim, spec);
      await assert.rejects(
        c.fetchFills({ since: sinceFor(60) }),
        (e: unknown) => e instanceof ExchangeError && e.code === 'EXCHANGE_AUTH_FAILED',
      );
      assert.equal(sim.stats().afterRevocation, 1);
    });
  });

  it('rejects a wrong secret as EXCHANGE_AUTH_FAILED', async () => {
    await withSim(async (sim) => {
      const c = await clientFor(sim, { apiKey: BYBIT_DEMO_ACCOUNT.apiKey, apiSecret: 'wrong' });
      await assert.rejects(
        c.balances(),
        (e: unknown) => (e as ExchangeError).code === 'EXCHANGE_AUTH_FAILED',
      );
    });
  });

  it('reads the key permissions: withdraw and trade are reported, read-only is neither', async () => {
    await withSim(async (sim) => {
      sim.addAccount({ apiKey: 'w', apiSecret: 'w', canWithdraw: true, canTrade: true, uid: 42 });
      sim.addAccount({ apiKey: 't', apiSecret: 't', canTrade: true });
      // read-only key
      assert.deepEqual(await (await clientFor(sim)).permissions(), {
        read: true,
        trade: false,
        withdraw: false,
        transfer: false,
        futures: false,
        margin: false,
      });
      const w = await clientFor(sim, { apiKey: 'w', apiSecret: 'w' });
      assert.deepEqual(await w.permissions(), {
        read: true,
        trade: true,
        withdraw: true,
        transfer: true,
        futures: true,
        margin: true,
      });
      assert.equal(await w.accountId(), '42');
      assert.deepEqual(
        await (await clientFor(sim, { apiKey: 't', apiSecret: 't' })).permissions(),
        { read: true, trade: true, withdraw: false, transfer: false, futures: true, margin: true },
      );
    });
  });

  it('balances are the wallet balances of the unified account', async () => {
    await withSim(async (sim) => {
      const b = await (await clientFor(sim)).balances();
      const t = sim.truth(BYBIT_DEMO_ACCOUNT.apiKey).balances;
      const want = Object.fromEntries(
        [...t].filter(([, v]) => v !== 0n).map(([k, v]) => [k, fmt10(v)]),
      );
      assert.deepEqual(b, want);
      assert.ok(Number(b['USDT']) > 0);
    });
  });

  it('refuses a host outside the allow-list before sending anything', async () => {
    await withSim(async (sim) => {
      const c = await createBybitClient({
        ...BYBIT_DEMO_ACCOUNT,
        baseUrl: sim.url,
        allowHosts: ['api.bybit.com'],
      });
      await assert.rejects(
        c.balances(),
        (e: unknown) => (e as ExchangeError).code === 'EXCHANGE_EGRESS_DENIED',
      );
      assert.equal(sim.stats().requests, 0);
    });
  });
});
