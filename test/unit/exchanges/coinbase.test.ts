/**
 * The Coinbase adapter against the simulator: every seeded fill, fee and transfer comes back, once,
 * in every adversarial mode; limits are never exceeded; auth failures are never retried.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { candlePrices } from '../../../src/enclave/exchanges.js';
import { createCoinbaseClient, normalizeCdpSecret } from '../../../src/exchanges/coinbase.js';
import { LimiterRegistry } from '../../../src/exchanges/limiter.js';
import type { NormalizedFill } from '../../../src/exchanges/types.js';
import {
  startCoinbaseSim,
  type CbFill,
  type CoinbaseSim,
  type CoinbaseSimAccountSpec,
} from '../../../src/sim/coinbase.js';

/** A decimal string as an integer count of 1e-18 units, so values compare whatever their form. */
function e18(s: string): bigint {
  const neg = s.startsWith('-');
  const [i = '0', f = ''] = (neg ? s.slice(1) : s).split('.');
  const v = BigInt(i + f.padEnd(18, '0').slice(0, 18));
  return neg ? -v : v;
}
const E18 = 10n ** 18n;

/** What the adapter must make of one simulator row, computed here independently. */
function expected(f: CbFill) {
  const [base, quote] = f.product_id.split('-') as [string, string];
  const size = e18(f.size);
  const price = e18(f.price);
  return {
    id: f.entry_id,
    symbol: `${base}/${quote}`,
    base,
    quote,
    side: f.side === 'BUY' ? 'buy' : 'sell',
    qty: f.size_in_quote ? (size * E18) / price : size,
    quoteQty: f.size_in_quote ? size : (size * price) / E18,
    price,
    fee: e18(f.commission),
    feeAsset: quote,
    maker: f.liquidity_indicator === 'MAKER',
    ts: Date.parse(`${f.trade_time.slice(0, 23)}Z`),
  };
}
const actual = (f: NormalizedFill) => ({
  id: f.id,
  symbol: f.symbol,
  base: f.base,
  quote: f.quote,
  side: f.side,
  qty: e18(f.qty),
  quoteQty: e18(f.quoteQty),
  price: e18(f.price),
  fee: e18(f.fee),
  feeAsset: f.feeAsset,
  maker: f.maker,
  ts: f.ts,
});

function assertComplete(got: NormalizedFill[], truth: CbFill[]): void {
  assert.equal(new Set(got.map((f) => f.id)).size, got.length, 'no duplicates');
  assert.equal(got.length, truth.length, 'every fill');
  const byId = new Map(got.map((f) => [f.id, actual(f)]));
  for (const t of truth) assert.deepEqual(byId.get(t.entry_id), expected(t), t.entry_id);
  const fees = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
  assert.equal(fees(got.map((f) => e18(f.fee))), fees(truth.map((f) => e18(f.commission))));
}

describe('Coinbase adapter against the simulator', () => {
  let sim: CoinbaseSim;
  let host: string;
  before(async () => {
    sim = await startCoinbaseSim({ seed: 3 });
    host = new URL(sim.url).host;
  });
  after(() => sim.close());

  const client = (
    c: { apiKey: string; apiSecret: string },
    o: { limiters?: LimiterRegistry } = {},
  ) => createCoinbaseClient({ ...c, baseUrl: sim.url, allowHosts: [host], ...o });

  describe('fills: 100 % and no duplicates in every adversarial mode', () => {
    it('the demo account: 2,000 fills in one millisecond, a 21-day gap, a delisted product', async () => {
      const truth = sim.truth(sim.demo.apiKey);
      const got = await (await client(sim.demo)).fetchFills({});
      assertComplete(got, truth);
      const sameMs = got.filter(
        (f) =>
          f.ts ===
          got.find((g) => g.symbol === 'BTC/USD' && got.filter((h) => h.ts === g.ts).length >= 2000)
            ?.ts,
      );
      assert.ok(sameMs.length >= 2000, 'the burst came back whole');
      assert.ok(
        got.some((f) => f.symbol === 'REP/USD'),
        'fills of the delisted product',
      );
      const ts = got.map((f) => f.ts).sort((a, b) => a - b);
      assert.ok(
        ts.some((t, i) => i > 0 && t - ts[i - 1]! >= 21 * 86_400_000),
        'across the gap',
      );
    });

    const modes: [string, CoinbaseSimAccountSpec][] = [
      ['page-edge duplicates', { fills: 1500, pageEdgeDuplicates: true }],
      ['short pages mid-history', { fills: 1500, shortPages: true }],
      [
        'duplicates and short pages with a burst and a gap',
        { fills: 1200, burst: 700, gapDays: 20, pageEdgeDuplicates: true, shortPages: true },
      ],
      ['a 5xx burst mid-walk', { fills: 1500, serverErrors: { after: 2, count: 3 } }],
    ];
    for (const [name, spec] of modes) {
      it(name, async () => {
        const c = sim.addAccount(spec);
        const progress: number[] = [];
        const got = await (
          await client(c)
        ).fetchFills({ onProgress: (p) => progress.push(p.pages) });
        assertComplete(got, sim.truth(c.apiKey));
        assert.ok(progress.length >= 2, 'several pages');
        assert.equal(sim.stats(c.apiKey).rateLimited, 0);
      });
    }

    it('keeps only fills inside since/until, and an incremental run reads only recent pages', async () => {
      const c = sim.addAccount({ fills: 2000 });
      const truth = sim.truth(c.apiKey); // newest first
      const since = expected(truth[100]!).ts - 3 * 86_400_000;
      const until = expected(truth[20]!).ts;
      const got = await (await client(c)).fetchFills({ since, until });
      assertComplete(
        got,
        truth.filter((f) => expected(f).ts >= since && expected(f).ts <= until),
      );
      assert.ok(sim.stats(c.apiKey).requests < 8, `${sim.stats(c.apiKey).requests} requests`);
    });
  });

  describe('faults', () => {
    it('a key revoked halfway fails with EXCHANGE_AUTH_FAILED and is never retried', async () => {
      const c = sim.addAccount({ fills: 2000, authFailAfter: 3 });
      await assert.rejects(
        (await client(c)).fetchFills({}),
        (e: Error & { code?: string }) => e.code === 'EXCHANGE_AUTH_FAILED',
      );
      assert.equal(sim.stats(c.apiKey).requests, 4, 'three pages, then one refused request');
    });

    it('waits out a 429 for its Retry-After, without retrying inside it', async () => {
      const c = sim.addAccount({ fills: 1200, rateLimitFault: { after: 1, seconds: 2 } });
      const t0 = Date.now();
      const got = await (await client(c)).fetchFills({});
      assert.ok(Date.now() - t0 >= 2000, 'paused for Retry-After');
      assertComplete(got, sim.truth(c.apiKey));
      assert.equal(sim.stats(c.apiKey).rateLimited, 1, 'no request during the pause');
    });

    it('sessions of one key share its limiter: never a 429, never more than 30 requests in a second', async () => {
      const c = sim.addAccount({ fills: 4000 });
      const limiters = new LimiterRegistry();
      const [a, b, d] = await Promise.all([
        client(c, { limiters }),
        client(c, { limiters }),
        client(c, { limiters }),
      ]);
      const runs = await Promise.all([
        a.fetchFills({}),
        b.fetchFills({}),
        d.fetchFills({}),
        a.balances(),
        b.fetchFlows({ since: 0 }),
      ]);
      for (const r of runs.slice(0, 3)) assertComplete(r as NormalizedFill[], sim.truth(c.apiKey));
      const s = sim.stats(c.apiKey);
      assert.equal(s.rateLimited, 0);
      assert.ok(s.maxPerSecond <= 30, `max ${s.maxPerSecond}/s`);
      assert.ok(s.requests >= 3 * 17, 'all three walked every page');
    });
  });

  describe('balances, transfers, permissions', () => {
    it('balances are available + hold per currency, non-zero only', async () => {
      const c = sim.addAccount({ fills: 500 });
      const want = Object.fromEntries(
        sim
          .wallets(c.apiKey)
          .filter((w) => /[1-9]/.test(w.balance))
          .map((w) => [w.currency, e18(w.balance)]),
      );
      const got = await (await client(c)).balances();
      assert.deepEqual(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, e18(v)])), want);
    });

    it('transfers: every completed deposit and withdrawal (sent + network fee), none pending or failed', async () => {
      const c = sim.addAccount({ fills: 200 });
      const want = sim
        .wallets(c.apiKey)
        .flatMap((w) => w.transactions.map((t) => ({ w, t })))
        .filter(({ t }) => t.status === 'completed')
        .map(({ w, t }) => {
          const v = e18(t.amount.amount);
          const fee = v < 0n && t.network ? e18(t.network.transaction_fee.amount) : 0n;
          return {
            id: t.id,
            type: v > 0n ? 'deposit' : 'withdrawal',
            asset: w.currency,
            amount: (v < 0n ? -v : v) + fee,
          };
        })
        .sort((x, y) => (x.id < y.id ? -1 : 1));
      const all = sim.wallets(c.apiKey).flatMap((w) => w.transactions);
      assert.ok(
        all.some((t) => t.status !== 'completed'),
        'the account has rows that must not count',
      );
      assert.ok(
        all.some((t) => t.type === 'send' && t.amount.amount.startsWith('-')),
        'and crypto sends',
      );
      const got = await (await client(c)).fetchFlows({ since: 0 });
      assert.deepEqual(
        got
          .map((e) => ({ id: e.id, type: e.type, asset: e.asset, amount: e18(e.amount) }))
          .sort((x, y) => (x.id! < y.id! ? -1 : 1)),
        want,
      );
      assert.ok(
        got.every((e, i) => i === 0 || got[i - 1]!.ts <= e.ts),
        'in ledger order',
      );
    });

    it('reports can_transfer as withdraw and transfer, and the portfolio as the account id', async () => {
      const ro = await client(sim.addAccount({ fills: 1 }));
      const none = {
        read: true,
        trade: false,
        withdraw: false,
        transfer: false,
        futures: false,
        margin: false,
      };
      assert.deepEqual(await ro.permissions(), none);
      const rw = await client(sim.addAccount({ fills: 1, canTrade: true, canTransfer: true }));
      assert.deepEqual(await rw.permissions(), {
        ...none,
        trade: true,
        withdraw: true,
        transfer: true,
      });
      assert.match((await ro.accountId())!, /^[0-9a-f-]{36}$/);
      assert.notEqual(await ro.accountId(), await rw.accountId());
    });
  });

  describe('the CDP private key', () => {
    it('accepts the PEM with real newlines, with "\\n" escapes, on one line, and as PKCS#8', async () => {
      const c = sim.addAccount({ fills: 1 });
      const pkcs8 = createPrivateKey(c.apiSecret).export({
        type: 'pkcs8',
        format: 'pem',
      }) as string;
      for (const secret of [
        c.apiSecret,
        c.apiSecret.replace(/\n/g, '\\n'),
        c.apiSecret.replace(/\n/g, ''),
        pkcs8,
      ]) {
        const cl = await client({ apiKey: c.apiKey, apiSecret: secret });
        assert.equal((await cl.permissions()).withdraw, false);
      }
      assert.equal(normalizeCdpSecret(c.apiSecret.replace(/\n/g, '\\n')), c.apiSecret);
    });

    it('refuses a secret that is not a P-256 private key before any request', async () => {
      const ed = generateKeyPairSync('ed25519').privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }) as string;
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
        type: 'sec1',
        format: 'pem',
      }) as string;
      for (const apiSecret of [
        'hunter2',
        ed,
        p384,
        '-----BEGIN EC PRIVATE KEY-----AAAA-----END EC PRIVATE KEY-----',
      ]) {
        await assert.rejects(
          client({ apiKey: 'organizations/o/apiKeys/k', apiSecret }),
          (e: Error & { code?: string }) =>
            e.code === 'EXCHANGE_AUTH_FAILED' && !e.message.includes(apiSecret),
        );
      }
    });

    it('a key the exchange does not know is EXCHANGE_AUTH_FAILED', async () => {
      const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
        type: 'sec1',
        format: 'pem',
      }) as string;
      const cl = await client({ apiKey: 'organizations/o/apiKeys/unknown', apiSecret: stranger });
      await assert.rejects(
        cl.fetchFills({}),
        (e: Error & { code?: string }) => e.code === 'EXCHANGE_AUTH_FAILED',
      );
    });

    it('refuses egress to a host off the allow-list', async () => {
      const cl = await createCoinbaseClient({
        ...sim.demo,
        baseUrl: sim.url,
        allowHosts: ['api.coinbase.com'],
      });
      await assert.rejects(
        cl.permissions(),
        (e: Error & { code?: string }) => e.code === 'EXCHANGE_EGRESS_DENIED',
      );
    });
  });

  describe('candles and prices', () => {
    it('hourly candles of a USD product open at the market price; a delisted product has none', async () => {
      const cl = await client(sim.demo);
      const H = 3_600_000;
      const to = Math.floor(Date.now() / H) * H - H;
      const from = to - 20 * 24 * H; // 481 candles: two windows
      const k = await cl.klines('BTC-USD', '1h', from, to);
      assert.equal(k.length, 481);
      assert.ok(
        k.every((c, i) => c.openTime === from + i * H && c.closeTime === c.openTime + H - 1),
      );
      for (const c of k) assert.equal(e18(c.open), e18(sim.priceAt('BTC-USD', c.openTime)!));
      assert.deepEqual(await cl.klines('REP-USD', '1h', from, to), []);
      const oracle = await candlePrices(cl, { assets: ['BTC', 'USDC', 'REP'], from, to });
      assert.equal(e18(oracle.price('BTC', from + 90 * 60_000)!), e18(k[1]!.open));
      assert.equal(oracle.price('USDC', from), '1');
      assert.equal(oracle.price('REP', from), null);
    });
  });
});
