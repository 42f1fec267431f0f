import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FuturesFill } from '../../../src/aggregates/ledger.js';
import {
  addDecimals,
  divDecimals,
  mulDecimals,
  negateDecimal,
} from '../../../src/exchanges/decimal.js';
import { createOkxClient, type OkxClient } from '../../../src/exchanges/okx.js';
import { ExchangeError, type NormalizedFill } from '../../../src/exchanges/types.js';
import {
  OKX_DEMO_ACCOUNT,
  startOkxSim,
  type OkxSim,
  type OkxSimAccountSpec,
  type SimOkxFill,
} from '../../../src/sim/okx.js';
import { fmt10 } from '../../../src/sim/sim-http.js';

const DAY = 86_400_000;
type Creds = { apiKey: string; apiSecret: string; passphrase?: string };

async function withSim<T>(fn: (sim: OkxSim) => Promise<T>): Promise<T> {
  const sim = await startOkxSim({ seed: 3 });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

function clientFor(sim: OkxSim, creds: Creds = OKX_DEMO_ACCOUNT): Promise<OkxClient> {
  return createOkxClient({ ...creds, baseUrl: sim.url, allowHosts: [new URL(sim.url).host] });
}

/** contract values of the simulated instruments (the expired future sizes like the swap) */
const ctVal = (instId: string) =>
  instId.startsWith('ETH-') ? '0.1' : instId.startsWith('BTC-USD-') ? '100' : '0.01';

/** What a truth fill must become. */
function expected(f: SimOkxFill): string {
  let qty = f.fillSz;
  let quoteQty = mulDecimals(f.fillSz, f.fillPx);
  let pnl = '';
  if (f.instType === 'SWAP' || f.instType === 'FUTURES') {
    const c = mulDecimals(f.fillSz, ctVal(f.instId));
    [qty, quoteQty] = f.instId.startsWith('BTC-USD-')
      ? [divDecimals(c, f.fillPx, 12), c]
      : [c, mulDecimals(c, f.fillPx)];
    pnl = f.fillPnl;
  }
  const fee = negateDecimal(f.fee); // OKX: < 0 charged; ours: > 0 paid
  return [
    f.billId,
    f.ordId,
    f.side,
    f.fillPx,
    qty,
    quoteQty,
    fee,
    f.feeCcy,
    f.execType === 'M',
    f.fillTime,
    pnl,
  ].join('|');
}
function actual(f: NormalizedFill): string {
  const pnl = (f as FuturesFill).realizedPnl ?? '';
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
    pnl,
  ].join('|');
}

async function assertComplete(sim: OkxSim, spec: OkxSimAccountSpec) {
  const c = await clientFor(sim, spec);
  const fills = await c.fetchFills({});
  const funding = await c.fetchFunding({ since: 0 });
  const flows = await c.fetchFlows({ since: 0 });
  const t = sim.truth(spec.apiKey);

  const got = fills.map(actual).sort();
  assert.equal(new Set(got).size, got.length, 'no duplicate fills');
  assert.deepEqual(got, t.fills.map(expected).sort(), 'every fill, as OKX sent it');
  assert.ok(t.bills.length > 0);
  assert.deepEqual(
    funding.map((f) => `${f.id}|${f.amount}|${f.asset}|${f.ts}`).sort(),
    t.bills.map((b) => `${b.billId}|${b.balChg}|${b.ccy}|${b.ts}`).sort(),
    'every funding bill, balChg > 0 received',
  );
  const wantFlows = [
    ...t.deposits
      .filter((d) => d.state === '1' || d.state === '2')
      .map((d) => `deposit|${d.depId}|${d.amt}`),
    ...t.withdrawals
      .filter((w) => w.state === '2')
      .map((w) => `withdrawal|${w.wdId}|${addDecimals(w.amt, w.fee)}`),
  ].sort();
  const external = flows.filter((f) => f.type === 'deposit' || f.type === 'withdrawal');
  assert.deepEqual(external.map((f) => `${f.type}|${f.id}|${f.amount}`).sort(), wantFlows);
  // the account-event stream carries the funding bills too, once each
  assert.deepEqual(
    flows
      .filter((f) => f.type === 'funding')
      .map((f) => f.id)
      .sort(),
    funding.map((f) => f.id).sort(),
  );
  assert.equal(sim.stats().rateLimited, 0, 'the rate limit was never exceeded');
  return { fills, funding, truth: t };
}

describe('OKX adapter against the simulator', () => {
  it('returns every fill of a swap order that filled 2,000 times in one millisecond, spot, margin, inverse and an expired future included', async () => {
    await withSim(async (sim) => {
      const { fills } = await assertComplete(sim, OKX_DEMO_ACCOUNT);
      const sameMs = new Map<number, number>();
      for (const f of fills) sameMs.set(f.ts, (sameMs.get(f.ts) ?? 0) + 1);
      assert.ok(Math.max(...sameMs.values()) >= 2000);
      const symbols = new Set(fills.map((f) => f.symbol));
      for (const s of ['BTC/USDT', 'LUNA/USDT', 'BTC/USDT:USDT', 'ETH/USDT:USDT', 'BTC/USD:BTC'])
        assert.ok(symbols.has(s), s);
      assert.ok(
        [...symbols].some((s) => /^BTC\/USDT:USDT-\d{6}$/.test(s)),
        'the expired future',
      );
    });
  });

  it('is complete with page-edge duplicates, same-millisecond deposits across pages and a four-week gap', async () => {
    await withSim(async (sim) => {
      const spec = {
        apiKey: 'edges',
        apiSecret: 'edges-secret',
        passphrase: 'edges-pass',
        pageEdgeDuplicates: true,
        flows: 260,
        spotFills: 400,
        days: 80,
        gapDays: 28,
      };
      sim.addAccount(spec);
      const { fills } = await assertComplete(sim, spec);
      assert.ok(sim.stats().duplicatesServed > 0);
      const ts = fills.map((f) => f.ts).sort((a, b) => a - b);
      assert.ok(Math.max(...ts.slice(1).map((t, i) => t - ts[i]!)) >= 28 * DAY);
    });
  });

  it('retries bursts of 5xx and still returns every row', async () => {
    await withSim(async (sim) => {
      const spec = { apiKey: 'flaky', apiSecret: 'f', passphrase: 'p', serverErrorEvery: 7 };
      sim.addAccount(spec);
      await assertComplete(sim, spec);
      assert.ok(sim.stats().serverErrors >= 3);
    });
  });

  it('stops at the first auth failure halfway through, without retrying it', async () => {
    await withSim(async (sim) => {
      const spec = { apiKey: 'revoked', apiSecret: 'r', passphrase: 'p', authFailAfter: 4 };
      sim.addAccount(spec);
      const c = await clientFor(sim, spec);
      await assert.rejects(
        c.fetchFills({}),
        (e: unknown) => e instanceof ExchangeError && e.code === 'EXCHANGE_AUTH_FAILED',
      );
      assert.equal(sim.stats().afterRevocation, 1);
    });
  });

  it('a wrong passphrase or secret is EXCHANGE_AUTH_FAILED; a missing passphrase fails before any request', async () => {
    await withSim(async (sim) => {
      for (const creds of [
        { ...OKX_DEMO_ACCOUNT, passphrase: 'wrong' },
        { ...OKX_DEMO_ACCOUNT, apiSecret: 'wrong' },
      ]) {
        const c = await clientFor(sim, creds);
        await assert.rejects(
          c.balances(),
          (e: unknown) => (e as ExchangeError).code === 'EXCHANGE_AUTH_FAILED',
        );
      }
      await assert.rejects(
        clientFor(sim, { apiKey: OKX_DEMO_ACCOUNT.apiKey, apiSecret: OKX_DEMO_ACCOUNT.apiSecret }),
        (e: unknown) => (e as ExchangeError).code === 'EXCHANGE_AUTH_FAILED',
      );
      assert.equal(sim.stats().requests, 2);
    });
  });

  it('reads the key permissions from perm: withdraw and trade are reported', async () => {
    await withSim(async (sim) => {
      sim.addAccount({
        apiKey: 'w',
        apiSecret: 'w',
        passphrase: 'p',
        canWithdraw: true,
        canTrade: true,
        uid: 77,
      });
      sim.addAccount({ apiKey: 't', apiSecret: 't', passphrase: 'p', canTrade: true });
      assert.deepEqual(await (await clientFor(sim)).permissions(), {
        read: true,
        trade: false,
        withdraw: false,
        transfer: false,
        futures: false,
        margin: false,
      });
      const w = await clientFor(sim, { apiKey: 'w', apiSecret: 'w', passphrase: 'p' });
      assert.deepEqual(await w.permissions(), {
        read: true,
        trade: true,
        withdraw: true,
        transfer: true,
        futures: true,
        margin: true,
      });
      assert.equal(await w.accountId(), '77');
      const t = await clientFor(sim, { apiKey: 't', apiSecret: 't', passphrase: 'p' });
      // OKX "trade" covers every instrument type and the funds-transfer endpoint
      assert.deepEqual(await t.permissions(), {
        read: true,
        trade: true,
        withdraw: false,
        transfer: true,
        futures: true,
        margin: true,
      });
    });
  });

  it('balances are the cash balances of the trading account', async () => {
    await withSim(async (sim) => {
      const b = await (await clientFor(sim)).balances();
      const want = Object.fromEntries(
        [...sim.truth(OKX_DEMO_ACCOUNT.apiKey).balances]
          .filter(([, v]) => v !== 0n)
          .map(([k, v]) => [k, fmt10(v)]),
      );
      assert.deepEqual(b, want);
    });
  });
});
