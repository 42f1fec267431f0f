/**
 * The exchanges of bench/exchange-download.ts, one at a time: `startVenue(name)` starts that
 * exchange's simulator at its documented limits (nothing lifted) and `sessions` adapters sharing
 * one limiter registry, as in the enclave. Budgets, as the simulators meter them:
 *   binance      REQUEST_WEIGHT 6,000 per minute per IP (its meter: the count X-MBX-USED-WEIGHT-1M
 *                reports)
 *   binanceusdm  REQUEST_WEIGHT 2,400 per minute per IP (fapi)
 *   bybit        600 requests per rolling 5 s per IP (every session shares it)
 *   okx          fills-history 10 requests per rolling 2 s per user (one user per session)
 *   kraken       the per-key call counter at the Starter tier (15, decaying 0.33/s; +2 per
 *                TradesHistory/Ledgers call): at most 15 + 0.33·T units per key over T seconds
 *   coinbase     30 private requests per second per key
 */
import { createBinanceClient } from '../../src/exchanges/binance.js';
import { createBinanceUsdmClient } from '../../src/exchanges/binance-usdm.js';
import { createBybitClient } from '../../src/exchanges/bybit.js';
import { createCoinbaseClient } from '../../src/exchanges/coinbase.js';
import { KRAKEN_TIERS, createKrakenClient } from '../../src/exchanges/kraken.js';
import { LimiterRegistry } from '../../src/exchanges/limiter.js';
import { createOkxClient } from '../../src/exchanges/okx.js';
import type { ExchangeClient } from '../../src/exchanges/types.js';
import { startBinanceSim } from '../../src/sim/binance.js';
import { startBybitSim } from '../../src/sim/bybit.js';
import { startCoinbaseSim } from '../../src/sim/coinbase.js';
import { startKrakenSim } from '../../src/sim/kraken.js';
import { startOkxSim } from '../../src/sim/okx.js';

export const VENUES = ['binance', 'binanceusdm', 'bybit', 'okx', 'kraken', 'coinbase'] as const;
export type VenueName = (typeof VENUES)[number];

/** One exchange under load: `sessions` workers, each re-downloading its own account. */
export interface Venue {
  name: VenueName;
  sessions: number;
  /** one download of account `i`, reporting fills as they arrive */
  download(i: number, onFills: (n: number) => void): Promise<number>;
  /** the fills account `i` really has */
  truth(i: number): number;
  /** budget counters, read at the start and at the deadline */
  used(): number;
  /** the most the budget allows over `ms` */
  allowed(ms: number): number;
  unit: string;
  throttled(): number;
  /** fixed windows on the clock minute: the run must start on one */
  minuteWindows: boolean;
  close(): Promise<void>;
}

export interface VenueLoad {
  sessions: number;
  /** fills per account (the first also has one order filling 2,000 times in one ms) */
  fills: number;
}

const MINUTE = 60_000;
const host = (u: string) => new URL(u).host;

// requests per path, counted as they leave (signed-http.ts sends through the global fetch)
const sent = new Map<string, number>();
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const k = `${url.port}${url.pathname}`;
  sent.set(k, (sent.get(k) ?? 0) + 1);
  return realFetch(input, init);
};
const sentTo = (url: string, path?: string): number => {
  const port = new URL(url).port;
  return [...sent].reduce(
    (n, [k, v]) =>
      n + (k.startsWith(port + '/') && (path === undefined || k === port + path) ? v : 0),
    0,
  );
};

/** Reports each download's fills as they arrive, from the adapters' per-symbol progress. */
function progress(c: ExchangeClient, onFills: (n: number) => void): Promise<number> {
  const last = new Map<string, number>();
  return c
    .fetchFills({
      onProgress: (p) => {
        onFills(p.fills - (last.get(p.symbol) ?? 0));
        last.set(p.symbol, p.fills);
      },
    })
    .then((f) => f.length);
}

const keys = (p: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ apiKey: `${p}-${i}`, apiSecret: `${p}-secret-${i}` }));
const burst = (i: number) => (i === 0 ? 2000 : 0);

export async function startVenue(name: VenueName, load: VenueLoad): Promise<Venue> {
  const { sessions: n, fills } = load;
  // one registry for every session, as the enclave holds one
  const limiters = new LimiterRegistry();
  const all = <T>(make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));
  switch (name) {
    case 'binance':
    case 'binanceusdm': {
      const sim = await startBinanceSim({ seed: 31 });
      const ks = keys(name, n);
      const common = { baseUrl: sim.url, allowHosts: [host(sim.url)], limiters };
      if (name === 'binance') {
        ks.forEach((k, i) => sim.addAccount({ ...k, fills, burst: burst(i), days: 85 }));
        const cs = await Promise.all(all((i) => createBinanceClient({ ...ks[i]!, ...common })));
        return {
          name,
          sessions: n,
          download: (i, f) => progress(cs[i]!, f),
          truth: (i) => sim.truth(ks[i]!.apiKey).length,
          used: () => sim.stats().usedTotal['api'] ?? 0,
          allowed: (ms) => 6000 * Math.ceil(ms / MINUTE),
          unit: 'weight',
          throttled: () => sim.stats().rejected429 + sim.stats().rejected418,
          minuteWindows: true,
          close: () => sim.close(),
        };
      }
      ks.forEach((k, i) =>
        sim.addAccount({ ...k, fills: 0, usdm: { fills, burst: burst(i), days: 85 } }),
      );
      const cs = await Promise.all(
        all((i) => createBinanceUsdmClient({ ...ks[i]!, ...common, spotBaseUrl: sim.url })),
      );
      return {
        name,
        sessions: n,
        download: (i, f) => progress(cs[i]!, f),
        truth: (i) => sim.usdmTruth(ks[i]!.apiKey).trades.length,
        used: () => sim.stats().usedTotal['fapi'] ?? 0,
        allowed: (ms) => 2400 * Math.ceil(ms / MINUTE),
        unit: 'weight',
        throttled: () => sim.stats().rejected429 + sim.stats().rejected418,
        minuteWindows: true,
        close: () => sim.close(),
      };
    }
    case 'bybit': {
      const sim = await startBybitSim({ seed: 31 });
      const ks = keys('bybit', n);
      ks.forEach((k, i) =>
        sim.addAccount({ ...k, spotFills: fills, trips: 200, burst: burst(i), days: 85 }),
      );
      const cs = await Promise.all(
        all((i) =>
          createBybitClient({ ...ks[i]!, baseUrl: sim.url, allowHosts: [host(sim.url)], limiters }),
        ),
      );
      return {
        name,
        sessions: n,
        download: (i, f) => progress(cs[i]!, f),
        truth: (i) =>
          sim.truth(ks[i]!.apiKey).executions.filter((e) => e.execType !== 'Funding').length,
        used: () => sentTo(sim.url),
        allowed: (ms) => (600 * ms) / 5000,
        unit: 'requests',
        throttled: () => sim.stats().rateLimited,
        minuteWindows: false,
        close: () => sim.close(),
      };
    }
    case 'okx': {
      const sim = await startOkxSim({ seed: 31 });
      const ks = keys('okx', n).map((k) => ({ ...k, passphrase: 'bench-pass' }));
      ks.forEach((k, i) =>
        sim.addAccount({ ...k, spotFills: fills, trips: 200, burst: burst(i), days: 85 }),
      );
      const cs = await Promise.all(
        all((i) =>
          createOkxClient({ ...ks[i]!, baseUrl: sim.url, allowHosts: [host(sim.url)], limiters }),
        ),
      );
      return {
        name,
        sessions: n,
        download: (i, f) => progress(cs[i]!, f),
        truth: (i) => sim.truth(ks[i]!.apiKey).fills.length,
        used: () => sentTo(sim.url, '/api/v5/trade/fills-history'),
        allowed: (ms) => ((10 * ms) / 2000) * n,
        unit: 'requests',
        throttled: () => sim.stats().rateLimited,
        minuteWindows: false,
        close: () => sim.close(),
      };
    }
    case 'kraken': {
      const sim = await startKrakenSim({ seed: 31 }); // Starter counter, as the adapter assumes
      const ks = keys('kraken', n).map((k) => ({
        ...k,
        apiSecret: Buffer.from(k.apiSecret).toString('base64'),
      }));
      ks.forEach((k, i) => sim.addAccount({ ...k, trades: fills, burst: burst(i) }));
      const cs = await Promise.all(
        all((i) =>
          createKrakenClient({
            ...ks[i]!,
            baseUrl: sim.url,
            allowHosts: [host(sim.url)],
            limiters,
          }),
        ),
      );
      const port = new URL(sim.url).port;
      const starter = KRAKEN_TIERS.starter;
      return {
        name,
        sessions: n,
        download: (i, f) => progress(cs[i]!, f),
        truth: (i) => sim.truth(ks[i]!.apiKey).trades.length,
        used: () =>
          [...sent].reduce((u, [k, v]) => {
            if (!k.startsWith(`${port}/0/private/`)) return u;
            return u + v * (/\/(TradesHistory|Ledgers)$/.test(k) ? 2 : 1);
          }, 0),
        allowed: (ms) => n * (starter.max + (starter.decayPerSec * ms) / 1000),
        unit: 'counter units',
        throttled: () => sim.stats().rateLimited,
        minuteWindows: false,
        close: () => sim.close(),
      };
    }
    case 'coinbase': {
      const sim = await startCoinbaseSim({ seed: 31 });
      const ks = all((i) => sim.addAccount({ fills, burst: burst(i), days: 85 }));
      const cs = await Promise.all(
        all((i) =>
          createCoinbaseClient({
            ...ks[i]!,
            baseUrl: sim.url,
            allowHosts: [host(sim.url)],
            limiters,
          }),
        ),
      );
      return {
        name,
        sessions: n,
        download: (i, f) => progress(cs[i]!, f),
        truth: (i) => sim.truth(ks[i]!.apiKey).length,
        // the adapter sends through ccxt's own fetch: the simulator counts the private requests
        used: () =>
          ks.reduce((u, k) => {
            const st = sim.stats(k.apiKey);
            return u + st.requests - st.rateLimited;
          }, 0),
        allowed: (ms) => (n * 30 * ms) / 1000,
        unit: 'requests',
        throttled: () => ks.reduce((u, k) => u + sim.stats(k.apiKey).rateLimited, 0),
        minuteWindows: false,
        close: () => sim.close(),
      };
    }
  }
}
