import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { DepositEvent, WithdrawalEvent } from '../../../src/aggregates/ledger.js';
import { createBinanceClient } from '../../../src/exchanges/binance.js';
import type { AccountEvent } from '../../../src/exchanges/types.js';
import { toDeposit, toWithdrawal } from '../../../src/exchanges/binance-flows.js';
import { addDecimals } from '../../../src/exchanges/decimal.js';
import { createKlineOracle, klineCache } from '../../../src/exchanges/price-oracle.js';
import {
  DEMO_ACCOUNT,
  startBinanceSim,
  type BinanceSim,
  type SimDeposit,
  type SimTrade,
  type SimWithdrawal,
} from '../../../src/sim/binance.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const E8 = 100_000_000n;
const floorHour = (t: number) => Math.floor(t / HOUR) * HOUR;

type Creds = { apiKey: string; apiSecret: string };

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

function clientFor(sim: BinanceSim, creds: Creds = DEMO_ACCOUNT) {
  return createBinanceClient({ ...creds, baseUrl: sim.url, allowHosts: [new URL(sim.url).host] });
}

/** Counts requests per path and responses per status that one in-process server answered. */
function traffic(sim: BinanceSim) {
  const port = Number(new URL(sim.url).port);
  const paths = new Map<string, number>();
  const statuses = new Map<number, number>();
  const onRequest = (m: unknown) => {
    const { request, socket } = m as { request: IncomingMessage; socket: Socket };
    if (socket.localPort !== port) return;
    const p = (request.url ?? '').split('?')[0]!;
    paths.set(p, (paths.get(p) ?? 0) + 1);
  };
  const onFinish = (m: unknown) => {
    const { response, socket } = m as { response: ServerResponse; socket: Socket };
    if (socket.localPort === port)
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
  };
  subscribe('http.server.request.start', onRequest);
  subscribe('http.server.response.finish', onFinish);
  return {
    paths,
    statuses,
    stop() {
      unsubscribe('http.server.request.start', onRequest);
      unsubscribe('http.server.response.finish', onFinish);
    },
  };
}

function e8(s: string): bigint {
  const [i = '0', f = ''] = s.split('.');
  return BigInt(i) * E8 + BigInt(f.padEnd(8, '0'));
}

/** The flows a correct client returns, from the simulator's raw rows (documented status rules). */
function expectedFlows(raw: { deposits: SimDeposit[]; withdrawals: SimWithdrawal[] }) {
  const deposits: DepositEvent[] = raw.deposits
    .filter((d) => (d.status === 1 || d.status === 6) && d.walletType === 0)
    .map((d) => ({ type: 'deposit', ts: d.insertTime, asset: d.coin, amount: d.amount, id: d.id }));
  const withdrawals: WithdrawalEvent[] = raw.withdrawals
    .filter((w) => w.status === 6 && w.walletType === 0)
    .map((w) => ({
      type: 'withdrawal',
      ts: Date.parse(`${w.applyTime.replace(' ', 'T')}Z`),
      asset: w.coin,
      amount: addDecimals(w.amount, w.transactionFee),
      id: w.id,
    }));
  return [...deposits, ...withdrawals];
}

/** Σ deposits − Σ withdrawals + Σ fills − Σ fees per asset, in e8, from ground truth. */
function expectedBalances(trades: SimTrade[], flows: AccountEvent[]) {
  const bal = new Map<string, bigint>();
  const add = (a: string, v: bigint) => bal.set(a, (bal.get(a) ?? 0n) + v);
  for (const f of flows) {
    if (f.type !== 'deposit' && f.type !== 'withdrawal') throw new Error(`spot flow ${f.type}`);
    add(f.asset, f.type === 'deposit' ? e8(f.amount) : -e8(f.amount));
  }
  for (const t of trades) {
    const base = t.symbol.replace(/(USDT|BTC)$/, '');
    const quote = t.symbol.slice(base.length);
    add(base, t.isBuyer ? e8(t.qty) : -e8(t.qty));
    add(quote, t.isBuyer ? -e8(t.quoteQty) : e8(t.quoteQty));
    add(t.commissionAsset, -e8(t.commission));
  }
  return new Map([...bal].filter(([, v]) => v !== 0n));
}

const byKey = (a: { type: string; id?: string }, b: { type: string; id?: string }) =>
  `${a.type}${a.id}` < `${b.type}${b.id}` ? -1 : 1;

describe('Binance adapter: flows, balances, candles, prices', { concurrency: true }, () => {
  const long = {
    apiKey: 'long-history',
    apiSecret: 'long-secret',
    seed: 77,
    fills: 600,
    days: 230,
  };

  it('fetchFlows equals the completed rows of /__sim/flows across three 89-day windows', () =>
    withSim({ seed: 31, historyDays: 240 }, async (sim) => {
      sim.addAccount(long);
      const raw = (await (await fetch(`${sim.url}/__sim/flows?apiKey=${long.apiKey}`)).json()) as {
        deposits: SimDeposit[];
        withdrawals: SimWithdrawal[];
      };
      const want = expectedFlows(raw);
      const span = Math.max(...want.map((f) => f.ts)) - Math.min(...want.map((f) => f.ts));
      assert.ok(span > 120 * DAY, `flows span ${span / DAY} days`);
      const seen = traffic(sim);
      try {
        const client = await clientFor(sim, long);
        const flows = await client.fetchFlows({ since: Date.now() - 235 * DAY });
        assert.deepEqual([...flows].sort(byKey), [...want].sort(byKey));
        for (let i = 1; i < flows.length; i++)
          assert.ok(flows[i - 1]!.ts <= flows[i]!.ts, 'ledger order');
        // 3 windows × (a page with rows, or none, + the empty page that ends it), per endpoint
        assert.ok((seen.paths.get('/sapi/v1/capital/deposit/hisrec') ?? 0) >= 3);
        assert.ok((seen.paths.get('/sapi/v1/capital/withdraw/history') ?? 0) >= 3);
        assert.equal(seen.statuses.get(429) ?? 0, 0, 'paced under 10 withdraw-history calls/s');
        const mid = want.map((f) => f.ts).sort((a, b) => a - b)[Math.floor(want.length / 2)]!;
        const later = await client.fetchFlows({ since: mid, until: Date.now() });
        assert.deepEqual([...later].sort(byKey), want.filter((f) => f.ts >= mid).sort(byKey));
      } finally {
        seen.stop();
      }
    }));

  it('balances() = Σ deposits − Σ withdrawals + Σ fills − Σ fees per asset (free + locked, exact)', () =>
    withSim({ seed: 32, historyDays: 240 }, async (sim) => {
      sim.addAccount(long);
      for (const creds of [DEMO_ACCOUNT, long]) {
        const client = await clientFor(sim, creds);
        const flows = await client.fetchFlows({ since: Date.now() - 235 * DAY });
        const want = expectedBalances(sim.truth(creds.apiKey), flows);
        const got = await client.balances();
        assert.deepEqual(
          new Map(Object.entries(got).map(([a, v]) => [a, e8(v)])),
          want,
          creds.apiKey,
        );
        for (const v of Object.values(got)) assert.match(v, /^\d+\.\d{8}$/);
      }
    }));

  it('klines pages over > 1,000 candles: every hour exactly once, prices on the sim path', () =>
    withSim({ seed: 33 }, async (sim) => {
      const seen = traffic(sim);
      try {
        const client = await clientFor(sim);
        const start = floorHour(Date.now()) - 50 * DAY + 1; // mid-hour: starts at the next hour
        const end = Date.now();
        const ks = await client.klines('BTCUSDT', '1h', start, end);
        const first = floorHour(start) + HOUR;
        assert.equal(ks.length, (floorHour(end) - first) / HOUR + 1);
        assert.ok(ks.length > 1000);
        ks.forEach((k, i) => {
          assert.equal(k.openTime, first + i * HOUR, 'consecutive, no gap, no repeat');
          assert.equal(k.closeTime, k.openTime + HOUR - 1);
          assert.equal(k.open, sim.priceAt('BTCUSDT', k.openTime));
          if (i > 0) assert.equal(ks[i - 1]!.close, k.open);
        });
        assert.equal(seen.paths.get('/api/v3/klines'), 2, 'two pages, no extra request');
        const days = await client.klines('ETHUSDT', '1d', floorHour(Date.now()) - 30 * DAY, end);
        assert.equal(days.length, 30);
        assert.equal(await client.klines('NOPEUSDT', '1h', start, end).then((r) => r.length), 0);
      } finally {
        seen.stop();
      }
    }));

  it('klines of a halted symbol stop at the halt (one empty page ends the walk)', () =>
    withSim({ seed: 34 }, async (sim) => {
      const seen = traffic(sim);
      try {
        const halt = Math.floor(Date.now() / DAY) * DAY - 30 * DAY;
        const ks = await (
          await clientFor(sim)
        ).klines('LUNAUSDT', '1h', halt - 10 * DAY, Date.now());
        assert.equal(ks.length, 240);
        assert.equal(ks.at(-1)!.openTime, halt - HOUR);
        assert.equal(seen.paths.get('/api/v3/klines'), 2);
      } finally {
        seen.stop();
      }
    }));

  it('klines under a small weight limit waits out each 429 and completes, never earning a 418', () =>
    // 21 weight per 2 s: exchangeInfo (20) and any page (2) overflow one bucket, and 12 pages
    // (24) overflow a fresh one, so a 429 is certain wherever the bucket edges fall
    withSim(
      { seed: 35, historyDays: 470, weightLimitPerMinute: 21, weightWindowMs: 2000 },
      async (sim) => {
        const seen = traffic(sim);
        try {
          const client = await clientFor(sim);
          const from = floorHour(Date.now()) - 460 * DAY;
          const ks = await client.klines('SOLUSDT', '1h', from, Date.now());
          assert.equal(ks.length, 460 * 24 + 1);
          assert.ok((seen.statuses.get(429) ?? 0) >= 1, 'the limit was actually hit');
          assert.equal(seen.statuses.get(418) ?? 0, 0);
        } finally {
          seen.stop();
        }
      },
    ));

  it('the oracle answers the open of the candle containing t, never a later price', () =>
    withSim({ seed: 36 }, async (sim) => {
      const client = await clientFor(sim);
      const to = Date.now();
      const from = to - 45 * DAY;
      const oracle = await createKlineOracle(client, {
        assets: ['BTC', 'ETH', 'BNB', 'USDT', 'USDC', 'LUNA', 'NOPE'],
        from,
        to,
      });
      fc.assert(
        fc.property(
          fc.integer({ min: from, max: to }),
          fc.constantFrom('BTC', 'ETH', 'BNB'),
          (t, asset) => {
            const p = oracle.price(asset, t);
            assert.equal(p, sim.priceAt(`${asset}USDT`, floorHour(t)));
            // a price known at t: the path at the hour's start, not at t or later
            assert.ok(floorHour(t) <= t);
          },
        ),
        { numRuns: 500 },
      );
      assert.equal(oracle.price('USDT', from), '1');
      assert.equal(oracle.price('USDC', from), '1');
      assert.equal(oracle.price('NOPE', from), null, 'no market: no price');
      assert.equal(oracle.price('BTC', from - 2 * HOUR), null, 'outside the fetched range');
      assert.equal(oracle.price('BTC', to + 2 * HOUR), null, 'the future is unknown');
      const halt = Math.floor(Date.now() / DAY) * DAY - 30 * DAY;
      assert.equal(oracle.price('LUNA', halt - 1), sim.priceAt('LUNAUSDT', halt - HOUR));
      assert.equal(oracle.price('LUNA', halt + HOUR), null, 'halted: no candle');
      assert.match(oracle.price('BNB', from)!, /^\d+\.\d{8}$/, "the exchange's exact string");
    }));

  it('the shared cache saves refetching within a venue, never crosses venues, and eviction keeps answers', async () => {
    const [a, b] = await Promise.all([
      startBinanceSim({ seed: 40 }),
      startBinanceSim({ seed: 41 }),
    ]);
    const seenA = traffic(a);
    try {
      const to = Date.now();
      const from = to - 20 * DAY;
      const ca = await clientFor(a);
      const first = await createKlineOracle(ca, { assets: ['BTC'], from, to: to - DAY });
      const requests = seenA.paths.get('/api/v3/klines');
      const second = await createKlineOracle(await clientFor(a), {
        assets: ['BTC'],
        from,
        to: to - DAY,
      });
      assert.equal(seenA.paths.get('/api/v3/klines'), requests, 'served from the shared cache');
      assert.equal(second.price('BTC', from + HOUR), first.price('BTC', from + HOUR));
      const other = await createKlineOracle(await clientFor(b), {
        assets: ['BTC'],
        from,
        to: to - DAY,
      });
      assert.equal(other.price('BTC', from + HOUR), b.priceAt('BTCUSDT', floorHour(from + HOUR)));
      assert.notEqual(other.price('BTC', from + HOUR), first.price('BTC', from + HOUR));
      klineCache.setLimit(10);
      assert.ok(klineCache.size() <= 10, 'bounded');
      assert.equal(
        first.price('BTC', from + 5 * DAY),
        a.priceAt('BTCUSDT', floorHour(from + 5 * DAY)),
      );
    } finally {
      klineCache.setLimit(500_000);
      seenA.stop();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('Binance flow rows', () => {
  const code = (c: string) => c;
  it('counts deposits with status 1 or 6 to the spot wallet; withdrawals with status 6, amount + fee', () => {
    const dep = {
      id: '769800519366885376',
      amount: '0.001',
      coin: 'BNB',
      insertTime: 1661493146000,
    };
    assert.deepEqual(toDeposit({ ...dep, status: 1, walletType: 0 }, code), {
      type: 'deposit',
      ts: 1661493146000,
      asset: 'BNB',
      amount: '0.001',
      id: '769800519366885376',
    });
    assert.equal(toDeposit({ ...dep, status: 6 }, code)?.amount, '0.001');
    for (const status of [0, 2, 7, 8]) assert.equal(toDeposit({ ...dep, status }, code), undefined);
    assert.equal(
      toDeposit({ ...dep, status: 1, walletType: 1 }, code),
      undefined,
      'funding wallet',
    );
    const wd = {
      id: 'b6ae22b3aa844210a7041aee7589627c',
      amount: '8.91000000',
      transactionFee: '0.004',
      coin: 'USDT',
      applyTime: '2019-10-12 11:12:02',
      walletType: 0,
    };
    assert.deepEqual(toWithdrawal({ ...wd, status: 6 }, code), {
      type: 'withdrawal',
      ts: Date.UTC(2019, 9, 12, 11, 12, 2),
      asset: 'USDT',
      amount: '8.91400000',
      id: 'b6ae22b3aa844210a7041aee7589627c',
    });
    for (const status of [0, 1, 2, 3, 4, 5])
      assert.equal(toWithdrawal({ ...wd, status }, code), undefined);
  });

  it('rejects malformed rows instead of guessing', () => {
    const ok = { id: '1', amount: '1', coin: 'BTC', status: 1, insertTime: 1 };
    for (const bad of [
      null,
      { ...ok, amount: 1 },
      { ...ok, amount: '-1' },
      { ...ok, amount: '1e3' },
      { ...ok, coin: 'B TC' },
      { ...ok, insertTime: -1 },
      { ...ok, id: '../x' },
    ])
      assert.throws(() => toDeposit(bad, code));
    const w = { id: 'a', amount: '1', transactionFee: '0', coin: 'BTC', status: 6 };
    for (const applyTime of ['2019-02-30 00:00:00', '2019-10-12T11:12:02Z', 1570878722000, ''])
      assert.throws(() => toWithdrawal({ ...w, applyTime }, code));
  });

  it('adds decimals exactly', () => {
    assert.equal(addDecimals('8.91000000', '0.004'), '8.91400000');
    assert.equal(addDecimals('1', '2'), '3');
    assert.equal(addDecimals('0.1', '0.2'), '0.3');
    assert.equal(
      addDecimals('99999999999999999999.99999999', '0.00000001'),
      '100000000000000000000.00000000',
    );
  });
});
