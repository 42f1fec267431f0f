import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBinanceClient } from '../../../src/exchanges/binance.js';
import { BINANCE_SPOT_POOLS, BINANCE_USDM_POOLS } from '../../../src/exchanges/binance-limits.js';
import { createBinanceUsdmClient } from '../../../src/exchanges/binance-usdm.js';
import { LimiterRegistry } from '../../../src/exchanges/limiter.js';
import { startBinanceSim } from '../../../src/sim/binance.js';

// A small, fast version of Binance's 6,000/min: 400 weight per 2 s window, on both sides. The
// skew allowance is scaled up with it: on this shared test machine a request may reach the
// simulator a few hundred ms after its grant (production: 1 s of a 60 s window).
const LIMIT = 400;
const WINDOW_MS = 2000;
const SKEW_MS = 300;
const SESSIONS = 8;

describe('shared limiter against the simulator', () => {
  it(`${SESSIONS} concurrent sessions behind one egress never pass the weight limit and lose nothing`, async () => {
    const sim = await startBinanceSim({
      seed: 21,
      weightLimitPerMinute: LIMIT,
      weightWindowMs: WINDOW_MS,
    });
    try {
      const host = new URL(sim.url).host;
      const limiters = new LimiterRegistry();
      // the enclave's registry, created with the simulator's limits before any session starts
      limiters.get(
        `binance|${sim.url}`,
        'default',
        BINANCE_SPOT_POOLS.map((p) =>
          p.name === 'api' ? { ...p, limit: LIMIT, windowMs: WINDOW_MS, skewMs: SKEW_MS } : p,
        ),
      );
      const accounts = Array.from({ length: SESSIONS }, (_, i) => ({
        apiKey: `limiter-key-${i}`,
        apiSecret: `limiter-secret-${i}`,
        fills: 150 + 40 * i,
        burst: i === 0 ? 1500 : 0,
      }));
      for (const a of accounts) sim.addAccount(a);
      const results = await Promise.all(
        accounts.map(async (a) => {
          const c = await createBinanceClient({
            ...a,
            baseUrl: sim.url,
            allowHosts: [host],
            limiters,
          });
          return c.fetchFills({});
        }),
      );
      results.forEach((fills, i) => {
        const truth = sim.truth(accounts[i]!.apiKey);
        const keys = new Set(fills.map((f) => `${f.symbol}#${f.id}`));
        assert.equal(keys.size, fills.length, 'no duplicates');
        assert.deepEqual(
          [...keys].sort(),
          truth
            .map((t) => `${t.symbol.replace('USDT', '/USDT').replace(/BTC$/, '/BTC')}#${t.id}`)
            .sort(),
        );
      });
      const s = sim.stats();
      assert.equal(s.rejected429, 0, 'never a 429');
      assert.equal(s.rejected418, 0, 'never a 418');
      assert.ok((s.peakUsed['api'] ?? 0) <= LIMIT);
      // and the budget is really used, not wasted by over-cautious pacing
      assert.ok((s.peakUsed['api'] ?? 0) >= 0.8 * LIMIT, `peak ${s.peakUsed['api']} of ${LIMIT}`);
    } finally {
      await sim.close();
    }
  });

  it('USD-M: 6 concurrent sessions share the fapi budget without a 429 and lose nothing', async () => {
    const FAPI = 600;
    const sim = await startBinanceSim({
      seed: 22,
      fapiWeightLimitPerMinute: FAPI,
      weightWindowMs: WINDOW_MS,
    });
    try {
      const limiters = new LimiterRegistry();
      limiters.get(`binanceusdm|${sim.url}`, 'default', [
        { ...BINANCE_USDM_POOLS[0]!, limit: FAPI, windowMs: WINDOW_MS, skewMs: SKEW_MS },
      ]);
      const accounts = Array.from({ length: 6 }, (_, i) => ({
        apiKey: `usdm-limiter-${i}`,
        apiSecret: `s-${i}`,
        usdm: { fills: 100 + 50 * i, burst: i === 0 ? 2000 : 0 },
      }));
      for (const a of accounts) sim.addAccount(a);
      const results = await Promise.all(
        accounts.map(async (a) =>
          (
            await createBinanceUsdmClient({
              ...a,
              baseUrl: sim.url,
              allowHosts: [new URL(sim.url).host],
              limiters,
            })
          ).fetchFills({}),
        ),
      );
      results.forEach((fills, i) => {
        const ids = new Set(fills.map((f) => `${f.base}${f.quote}#${f.id}`));
        assert.equal(ids.size, fills.length);
        const truth = sim.usdmTruth(accounts[i]!.apiKey).trades.map((t) => `${t.symbol}#${t.id}`);
        assert.deepEqual([...ids].sort(), truth.sort());
      });
      const s = sim.stats();
      assert.equal(s.rejected429 + s.rejected418, 0);
      assert.ok((s.peakUsed['fapi'] ?? 0) <= FAPI);
      assert.ok((s.peakUsed['fapi'] ?? 0) >= 0.8 * FAPI, `peak ${s.peakUsed['fapi']} of ${FAPI}`);
    } finally {
      await sim.close();
    }
  });
});
