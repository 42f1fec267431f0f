import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addSignedDecimals, negateDecimal } from '../../../src/exchanges/decimal.js';
import { createKrakenClient, type KrakenClient } from '../../../src/exchanges/kraken.js';
import { LimiterRegistry } from '../../../src/exchanges/limiter.js';
import { ExchangeError } from '../../../src/exchanges/types.js';
import {
  KRAKEN_DEMO_ACCOUNT,
  startKrakenSim,
  type KrakenSim,
  type KrakenSimAccountSpec,
} from '../../../src/sim/kraken.js';
import { fmt10 } from '../../../src/sim/sim-http.js';

const DAY = 86_400_000;
/** a fast counter for the simulator and the client alike (the real tiers decay 0.33–1/s) */
const FAST = { max: 20, decayPerSec: 20 };
const secret = (s: string) => Buffer.from(s).toString('base64');

async function withSim<T>(
  fn: (sim: KrakenSim) => Promise<T>,
  counter: { max: number; decayPerSec: number } = FAST,
): Promise<T> {
  const sim = await startKrakenSim({ seed: 5, counter });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

function clientFor(
  sim: KrakenSim,
  creds: { apiKey: string; apiSecret: string } = KRAKEN_DEMO_ACCOUNT,
  o: { counter?: { max: number; decayPerSec: number }; limiters?: LimiterRegistry } = {},
): Promise<KrakenClient> {
  return createKrakenClient({
    ...creds,
    baseUrl: sim.url,
    allowHosts: [new URL(sim.url).host],
    counter: o.counter ?? FAST,
    limiters: o.limiters,
  });
}

/** Kraken seconds (4 decimals) → ms, from the decimal digits */
const ms = (t: number) => {
  const [s = '', f = ''] = t.toFixed(4).split('.');
  return Number(s) * 1000 + Number(f.slice(0, 3));
};

async function assertComplete(sim: KrakenSim, spec: KrakenSimAccountSpec) {
  const c = await clientFor(sim, spec);
  const until = Date.now();
  const fills = await c.fetchFills({ until });
  const funding = await c.fetchFunding({ since: 0 });
  const flows = await c.fetchFlows({ since: 0 });
  const t = sim.truth(spec.apiKey);
  const want = t.trades
    .filter((x) => ms(x.time) <= until)
    .map((x) =>
      [x.txid, x.ordertxid, x.type, x.price, x.vol, x.cost, x.fee, x.maker, ms(x.time)].join('|'),
    )
    .sort();
  const got = fills
    .map((f) =>
      [f.id, f.orderId, f.side, f.price, f.qty, f.quoteQty, f.fee, f.maker, f.ts].join('|'),
    )
    .sort();
  assert.equal(new Set(got).size, got.length, 'no duplicate fills');
  assert.deepEqual(got, want, 'every trade');
  assert.ok(
    fills.every((f) => f.feeAsset === f.quote),
    'fees in the quote currency',
  );
  assert.deepEqual(
    funding.map((f) => `${f.id}|${f.amount}`).sort(),
    t.ledger
      .filter((l) => l.type === 'rollover')
      .map((l) => `${l.id}|${negateDecimal(l.fee)}`)
      .sort(),
  );
  // what the balance did: amount − fee; transfers keep their sign, rollover is funding (−fee)
  const wantFlows = t.ledger
    .map((l) => {
      const change = addSignedDecimals(l.amount, negateDecimal(l.fee));
      const type = l.type === 'rollover' ? 'funding' : l.type === 'transfer' ? 'transfer' : l.type;
      const amount = type === 'funding' || type === 'transfer' ? change : change.replace('-', '');
      return `${l.id}|${type}|${amount}`;
    })
    .sort();
  assert.deepEqual(flows.map((f) => `${f.id}|${f.type}|${f.amount}`).sort(), wantFlows);
  const s = sim.stats();
  assert.equal(s.rateLimited, 0, 'the call counter was never exceeded');
  assert.equal(s.badNonces, 0, 'every nonce increased');
  return { fills, truth: t };
}

describe('Kraken adapter against the simulator', () => {
  it('returns every trade, 2,000 of one order at one instant and a delisted pair included', async () => {
    await withSim(async (sim) => {
      const { fills } = await assertComplete(sim, KRAKEN_DEMO_ACCOUNT);
      const same = new Map<number, number>();
      for (const f of fills) same.set(f.ts, (same.get(f.ts) ?? 0) + 1);
      assert.ok(Math.max(...same.values()) >= 2000);
      const symbols = new Set(fills.map((f) => f.symbol));
      for (const s of ['BTC/USD', 'ETH/USD', 'ETH/BTC', 'DOT/EUR', 'LUNC/USD'])
        assert.ok(symbols.has(s), s);
    });
  });

  it('is complete when trades arrive during the walk and across a six-week gap', async () => {
    await withSim(async (sim) => {
      const spec = {
        apiKey: 'moving',
        apiSecret: secret('moving'),
        newTradesDuringWalk: 7,
        days: 120,
        gapDays: 42,
      };
      sim.addAccount(spec);
      const { fills } = await assertComplete(sim, spec);
      assert.equal(sim.stats().shifted, 7);
      const ts = fills.map((f) => f.ts).sort((a, b) => a - b);
      assert.ok(Math.max(...ts.slice(1).map((t, i) => t - ts[i]!)) >= 42 * DAY);
    });
  });

  it('retries bursts of 5xx with fresh nonces and still returns every row', async () => {
    await withSim(async (sim) => {
      const spec = { apiKey: 'flaky', apiSecret: secret('flaky'), serverErrorEvery: 4 };
      sim.addAccount(spec);
      await assertComplete(sim, spec);
      assert.ok(sim.stats().serverErrors >= 3);
    });
  });

  it('keeps nonces strictly increasing for two concurrent sessions of one key', async () => {
    await withSim(async (sim) => {
      const limiters = new LimiterRegistry();
      const [a, b] = await Promise.all([
        clientFor(sim, KRAKEN_DEMO_ACCOUNT, { limiters }),
        clientFor(sim, KRAKEN_DEMO_ACCOUNT, { limiters }),
      ]);
      const [fa, fb] = await Promise.all([a.fetchFills({}), b.fetchFills({})]);
      assert.equal(fa.length, fb.length);
      assert.equal(sim.stats().badNonces, 0);
      assert.equal(sim.stats().rateLimited, 0);
    });
  });

  it('stays under a slow counter (max 6, decaying 2/s): no call is refused', async () => {
    const slow = { max: 6, decayPerSec: 2 };
    await withSim(async (sim) => {
      const spec = { apiKey: 'slow', apiSecret: secret('slow'), trades: 180 };
      sim.addAccount(spec);
      const c = await clientFor(sim, spec, { counter: slow });
      const fills = await c.fetchFills({});
      assert.equal(fills.length, 180);
      assert.equal(sim.stats().rateLimited, 0);
    }, slow);
  });

  it('stops at the first auth failure halfway through, without retrying it', async () => {
    await withSim(async (sim) => {
      const spec = { apiKey: 'revoked', apiSecret: secret('revoked'), authFailAfter: 5 };
      sim.addAccount(spec);
      const c = await clientFor(sim, spec);
      await assert.rejects(
        c.fetchFills({}),
        (e: unknown) => e instanceof ExchangeError && e.code === 'EXCHANGE_AUTH_FAILED',
      );
      assert.equal(sim.stats().afterRevocation, 1);
    });
  });

  it('a wrong secret is EXCHANGE_AUTH_FAILED', async () => {
    await withSim(async (sim) => {
      const c = await clientFor(sim, {
        apiKey: KRAKEN_DEMO_ACCOUNT.apiKey,
        apiSecret: secret('x'),
      });
      await assert.rejects(
        c.balances(),
        (e: unknown) => (e as ExchangeError).code === 'EXCHANGE_AUTH_FAILED',
      );
    });
  });

  it('probes the key: withdraw and trade permissions are found without placing anything', async () => {
    await withSim(async (sim) => {
      sim.addAccount({
        apiKey: 'w',
        apiSecret: secret('w-secret'),
        canWithdraw: true,
        canTrade: true,
      });
      sim.addAccount({ apiKey: 't', apiSecret: secret('t-secret'), canTrade: true });
      assert.deepEqual(await (await clientFor(sim)).permissions(), {
        read: true,
        trade: false,
        withdraw: false,
        transfer: false,
        futures: false,
        margin: false,
      });
      const w = await clientFor(sim, { apiKey: 'w', apiSecret: secret('w-secret') });
      assert.deepEqual(await w.permissions(), {
        read: true,
        trade: true,
        withdraw: true,
        transfer: true,
        futures: false,
        margin: true,
      });
      const t = await clientFor(sim, { apiKey: 't', apiSecret: secret('t-secret') });
      assert.deepEqual(await t.permissions(), {
        read: true,
        trade: true,
        withdraw: false,
        transfer: false,
        futures: false,
        margin: true,
      });
    });
  });

  it('balances use the common currency codes (XXBT → BTC, ZUSD → USD)', async () => {
    await withSim(async (sim) => {
      const b = await (await clientFor(sim)).balances();
      const names: Record<string, string> = {
        XXBT: 'BTC',
        ZUSD: 'USD',
        XETH: 'ETH',
        ZEUR: 'EUR',
        LUNA: 'LUNC', // Kraken's LUNA is Luna Classic (ccxt's currency table)
        DOT: 'DOT',
      };
      const want = Object.fromEntries(
        [...sim.truth(KRAKEN_DEMO_ACCOUNT.apiKey).balances].map(([k, v]) => [names[k], fmt10(v)]),
      );
      assert.deepEqual(b, want);
      assert.ok(Number(b['USD']) > 0);
    });
  });
});
