import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createBinanceClient } from '../../../src/exchanges/binance.js';
import { ExchangeError, type NormalizedFill } from '../../../src/exchanges/types.js';
import {
  DEMO_ACCOUNT,
  startBinanceSim,
  type BinanceSim,
  type SimTrade,
} from '../../../src/sim/binance.js';

async function withSim<T>(
  opts: Parameters<typeof startBinanceSim>[0],
  fn: (sim: BinanceSim) => Promise<T>,
): Promise<T> {
  const sim = await startBinanceSim(opts);
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

function clientFor(sim: BinanceSim, creds: { apiKey: string; apiSecret: string } = DEMO_ACCOUNT) {
  return createBinanceClient({ ...creds, baseUrl: sim.url, allowHosts: [new URL(sim.url).host] });
}

/** The fill the client must produce for a truth row (symbols are all `<base>USDT`/`<base>BTC`). */
function expected(t: SimTrade): string {
  return [
    t.symbol,
    String(t.id),
    String(t.orderId),
    t.isBuyer ? 'buy' : 'sell',
    t.price,
    t.qty,
    t.quoteQty,
    t.commission,
    t.commissionAsset,
    t.isMaker,
    t.time,
  ].join('|');
}
function actual(f: NormalizedFill): string {
  return [
    f.base + f.quote,
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

async function assertComplete(
  sim: BinanceSim,
  apiKey: string,
  fills: NormalizedFill[],
): Promise<void> {
  const truth = sim.truth(apiKey);
  const keys = fills.map((f) => `${f.symbol}#${f.id}`);
  assert.equal(new Set(keys).size, keys.length, 'no duplicates');
  assert.equal(fills.length, truth.length);
  assert.deepEqual(fills.map(actual).sort(), truth.map(expected).sort());
}

/** Counts the HTTP statuses a given in-process server port answered with. */
function statusCounter(port: number) {
  const counts = new Map<number, number>();
  const onFinish = (m: unknown) => {
    const { response, socket } = m as { response: ServerResponse; socket: Socket };
    if (socket.localPort === port)
      counts.set(response.statusCode, (counts.get(response.statusCode) ?? 0) + 1);
  };
  subscribe('http.server.response.finish', onFinish);
  return { counts, stop: () => unsubscribe('http.server.response.finish', onFinish) };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof ExchangeError && e.code === code);
}

// Each test runs its own simulator, so they can overlap; the slow ones are throttled on purpose.
describe('createBinanceClient', { concurrency: true }, () => {
  it('fetchFills returns 100 % of the demo truth, burst included, with no duplicates', () =>
    withSim({ seed: 11 }, async (sim) => {
      const progress: { symbol: string; pages: number; fills: number }[] = [];
      const fills = await (
        await clientFor(sim)
      ).fetchFills({ onProgress: (p) => progress.push(p) });
      await assertComplete(sim, DEMO_ACCOUNT.apiKey, fills);
      const perMs = new Map<number, number>();
      for (const f of fills)
        if (f.symbol === 'BTC/USDT') perMs.set(f.ts, (perMs.get(f.ts) ?? 0) + 1);
      assert.ok(Math.max(...perMs.values()) >= 1200, 'the same-millisecond burst survived paging');
      assert.ok(
        fills.some((f) => f.symbol === 'LUNA/USDT'),
        'halted (BREAK) symbols are scanned too',
      );
      assert.equal(
        new Set(progress.map((p) => p.symbol)).size,
        6,
        'every listed symbol was scanned',
      );
      for (let i = 1; i < fills.length; i++)
        assert.ok(fills[i - 1]!.ts <= fills[i]!.ts, 'sorted by time');
    }));

  it('fetchFills returns 100 % of an added account and applies since/until to ts', () =>
    withSim({ seed: 12 }, async (sim) => {
      const acct = {
        apiKey: 'second-account',
        apiSecret: 'second-secret',
        seed: 99,
        fills: 2500,
        burst: 1500,
      };
      sim.addAccount(acct);
      const client = await clientFor(sim, acct);
      const fills = await client.fetchFills({});
      await assertComplete(sim, acct.apiKey, fills);
      const mid = fills[Math.floor(fills.length / 2)]!.ts;
      const window = await client.fetchFills({ since: mid, until: mid + 7 * 86_400_000 });
      assert.deepEqual(
        window,
        fills.filter((f) => f.ts >= mid && f.ts <= mid + 7 * 86_400_000),
      );
    }));

  it('when the secret is wrong › EXCHANGE_AUTH_FAILED, without retrying', () =>
    withSim({}, async (sim) => {
      const seen = statusCounter(Number(new URL(sim.url).port));
      try {
        const client = await clientFor(sim, { ...DEMO_ACCOUNT, apiSecret: 'wrong-secret' });
        await rejectsWith(client.fetchFills({}), 'EXCHANGE_AUTH_FAILED');
        await rejectsWith(client.permissions(), 'EXCHANGE_AUTH_FAILED');
        assert.equal(seen.counts.get(400), 2, 'one rejected request per call');
      } finally {
        seen.stop();
      }
    }));

  it('when the API key is unknown › EXCHANGE_AUTH_FAILED', () =>
    withSim({}, async (sim) => {
      const client = await clientFor(sim, { apiKey: 'unknown-key', apiSecret: 'x' });
      await rejectsWith(client.accountId(), 'EXCHANGE_AUTH_FAILED');
    }));

  it('when the host is not in allowHosts › EXCHANGE_EGRESS_DENIED before any connection', async () => {
    let connections = 0;
    const trap = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
    const port = (trap.address() as { port: number }).port;
    try {
      const denied = await createBinanceClient({
        ...DEMO_ACCOUNT,
        baseUrl: `http://127.0.0.1:${port}`,
        allowHosts: ['api.binance.com'],
      });
      await rejectsWith(denied.fetchFills({}), 'EXCHANGE_EGRESS_DENIED');
      await rejectsWith(denied.accountId(), 'EXCHANGE_EGRESS_DENIED');
      // the production URLs are refused too when not listed (and nothing leaves this machine)
      const prod = await createBinanceClient({ ...DEMO_ACCOUNT, allowHosts: [] });
      await rejectsWith(prod.permissions(), 'EXCHANGE_EGRESS_DENIED');
      // plain http is refused for non-loopback hosts even when listed
      const http = await createBinanceClient({
        ...DEMO_ACCOUNT,
        baseUrl: 'http://api.binance.com',
        allowHosts: ['api.binance.com'],
      });
      await rejectsWith(http.permissions(), 'EXCHANGE_EGRESS_DENIED');
      assert.equal(connections, 0);
    } finally {
      await new Promise((r) => trap.close(r));
    }
  });

  it('when the network fails › retries with backoff, then EXCHANGE_UNAVAILABLE', async () => {
    let connections = 0;
    const flaky = createServer((s) => {
      connections++;
      s.destroy(); // accept, then drop: a network error, not an HTTP answer
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(flaky.address() as { port: number }).port}`;
    try {
      const c = await createBinanceClient({
        ...DEMO_ACCOUNT,
        baseUrl: `http://${host}`,
        allowHosts: [host],
        maxRetries: 2,
      });
      await rejectsWith(c.permissions(), 'EXCHANGE_UNAVAILABLE');
      assert.ok(connections >= 3, `first try + 2 retries, saw ${connections}`);
    } finally {
      await new Promise((r) => flaky.close(r));
    }
  });

  it('when our clock lags the server beyond recvWindow › resyncs once via /api/v3/time and succeeds', () =>
    withSim({ now: () => Date.now() + 30_000 }, async (sim) => {
      const seen = statusCounter(Number(new URL(sim.url).port));
      try {
        assert.deepEqual(await (await clientFor(sim)).permissions(), {
          read: true,
          trade: true,
          withdraw: false,
          transfer: false,
          futures: false,
          margin: false,
        });
        assert.equal(seen.counts.get(400), 1, 'one -1021, then the resynced retry');
      } finally {
        seen.stop();
      }
    }));

  it('accountId comes from /api/v3/account, permissions from /sapi/v1/account/apiRestrictions', () =>
    withSim({}, async (sim) => {
      const acct = {
        apiKey: 'withdraw-key',
        apiSecret: 'withdraw-secret',
        fills: 10,
        uid: 424242,
        canWithdraw: true,
        canTrade: false,
        canFutures: true,
      };
      sim.addAccount(acct);
      const c = await clientFor(sim, acct);
      assert.equal(await c.accountId(), '424242');
      assert.deepEqual(await c.permissions(), {
        read: true,
        trade: true, // futures trading is trading, even without spot
        withdraw: true,
        transfer: false,
        futures: true,
        margin: false,
      });
      const demo = await clientFor(sim);
      assert.match((await demo.accountId()) ?? '', /^\d+$/);
      assert.deepEqual(await demo.permissions(), {
        read: true,
        trade: true,
        withdraw: false,
        transfer: false,
        futures: false,
        margin: false,
      });
    }));

  it('under a small weight limit › waits out each 429 and completes, never earning a 418', () =>
    // 40 weight per 1 s bucket = 2 calls; the ~12 calls of a scan cannot fit without 429s
    withSim({ seed: 13, weightLimitPerMinute: 40, weightWindowMs: 1000 }, async (sim) => {
      const seen = statusCounter(Number(new URL(sim.url).port));
      try {
        const fills = await (await clientFor(sim)).fetchFills({});
        await assertComplete(sim, DEMO_ACCOUNT.apiKey, fills);
        assert.ok((seen.counts.get(429) ?? 0) >= 1, 'the limit was actually hit');
        assert.equal(seen.counts.get(418) ?? 0, 0);
      } finally {
        seen.stop();
      }
    }));
});
