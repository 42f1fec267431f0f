/**
 * Trade-history download against the exchange simulators at the exchanges' documented limits
 * (nothing lifted): per exchange, the share of the binding weight budget the adapters used, the
 * fills per second they downloaded, the 429s (and 418s / 403 bans) they drew, and the fills they
 * lost. Several sessions per exchange run at once and share the process's limiter, as in the
 * enclave; each session downloads its account again as soon as it has finished, so demand always
 * exceeds the budget and the budget is what is measured. Figures are taken at a deadline on a
 * Binance minute boundary (its windows are fixed minutes), so the run covers whole windows.
 *
 * Budgets (the simulators meter them as the exchanges document them):
 *   binance      REQUEST_WEIGHT 6,000 per minute per IP (X-MBX-USED-WEIGHT-1M); read from the
 *                simulator's meter (the same count the header carries)
 *   binanceusdm  REQUEST_WEIGHT 2,400 per minute per IP (fapi)
 *   bybit        600 requests per rolling 5 s per IP (every session shares it; 6 sessions × 50/s
 *                per UID on execution/list ask for more than it gives)
 *   okx          fills-history 10 requests per rolling 2 s per user (one user per session)
 *   kraken       the per-key call counter at the Starter tier (15, decaying 0.33/s; +2 per
 *                TradesHistory/Ledgers call): at most 15 + 0.33·T units per key over T seconds
 *   coinbase     30 private requests per second per key
 *
 * Peer, same run, its own simulator instance: ccxt 4 (`enableRateLimit: true`, one instance per
 * session as a per-session service would hold) walking each Binance spot symbol with its own
 * `fetchMyTrades(symbol, …, { paginate: true })`.
 *
 * `--seconds N` (default 120) is rounded up to whole minutes; `--sessions`, `--fills` scale the
 * load (`--coinbase-sessions`, default 2); `--peer 0` skips ccxt. Prints a table, then one
 * JSON line (bench/lib/report.ts).
 */
import ccxt from 'ccxt';
import { createBinanceClient } from '../src/exchanges/binance.js';
import { createBinanceUsdmClient } from '../src/exchanges/binance-usdm.js';
import { createBybitClient } from '../src/exchanges/bybit.js';
import { createCoinbaseClient } from '../src/exchanges/coinbase.js';
import { KRAKEN_TIERS, createKrakenClient } from '../src/exchanges/kraken.js';
import { LimiterRegistry } from '../src/exchanges/limiter.js';
import { createOkxClient } from '../src/exchanges/okx.js';
import type { ExchangeClient } from '../src/exchanges/types.js';
import { startBinanceSim } from '../src/sim/binance.js';
import { startBybitSim } from '../src/sim/bybit.js';
import { startCoinbaseSim } from '../src/sim/coinbase.js';
import { startKrakenSim } from '../src/sim/kraken.js';
import { startOkxSim } from '../src/sim/okx.js';
import { stallMeter } from './lib/psi.js';
import { fig, intFlags, report, round, table, type Figures } from './lib/report.js';

const flags = intFlags({
  seconds: { def: 120, min: 1 },
  sessions: { def: 6, min: 1 },
  'coinbase-sessions': { def: 2, min: 1 },
  fills: { def: 15_000, min: 100 },
  peer: { def: 1, min: 0 },
});
const MINUTE = 60_000;
const windows = Math.ceil(flags.seconds / 60);

// requests per path, counted as they leave (signed-http.ts sends through the global fetch)
const sent = new Map<string, number>();
const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const k = `${url.port}${url.pathname}`;
  sent.set(k, (sent.get(k) ?? 0) + 1);
  return realFetch(input, init);
};
const sentTo = (port: string, path?: string): number =>
  [...sent].reduce(
    (n, [k, v]) =>
      n + (k.startsWith(port + '/') && (path === undefined || k === port + path) ? v : 0),
    0,
  );

/** One exchange under load: `sessions` workers, each re-downloading its own account. */
interface Venue {
  name: string;
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
  /** concurrent sessions (default --sessions) */
  sessions?: number;
}

const fills = flags.fills;
const N = flags.sessions;
// Coinbase's budget is per key and a cursor walk is sequential, so more sessions only add load
// (250-row pages signed with ES256) to the one thread every venue shares, not budget pressure
const CB = flags['coinbase-sessions'];
const keys = (p: string) =>
  Array.from({ length: N }, (_, i) => ({ apiKey: `${p}-${i}`, apiSecret: `${p}-secret-${i}` }));

const [binance, bybit, okx, kraken, coinbase] = await Promise.all([
  startBinanceSim({ seed: 31 }),
  startBybitSim({ seed: 31 }),
  startOkxSim({ seed: 31 }),
  startKrakenSim({ seed: 31 }), // Starter counter, as the adapter assumes by default
  startCoinbaseSim({ seed: 31 }),
]);
const peerSim = flags.peer ? await startBinanceSim({ seed: 31 }) : undefined;

const spotKeys = keys('spot');
const usdmKeys = keys('usdm');
const bybitKeys = keys('bybit');
const okxKeys = keys('okx').map((k) => ({ ...k, passphrase: 'bench-pass' }));
// the first account of each has one order filling 2,000 times in one millisecond
spotKeys.forEach((k, i) => {
  const spec = { ...k, fills, burst: i === 0 ? 2000 : 0, days: 85 };
  binance.addAccount(spec);
  peerSim?.addAccount(spec);
});
usdmKeys.forEach((k, i) =>
  binance.addAccount({ ...k, fills: 0, usdm: { fills, burst: i === 0 ? 2000 : 0, days: 85 } }),
);
bybitKeys.forEach((k, i) =>
  bybit.addAccount({ ...k, spotFills: fills, trips: 200, burst: i === 0 ? 2000 : 0, days: 85 }),
);
okxKeys.forEach((k, i) =>
  okx.addAccount({ ...k, spotFills: fills, trips: 200, burst: i === 0 ? 2000 : 0, days: 85 }),
);

const krakenKeys = keys('kraken').map((k) => ({
  ...k,
  apiSecret: Buffer.from(k.apiSecret).toString('base64'),
}));
krakenKeys.forEach((k, i) => kraken.addAccount({ ...k, trades: fills, burst: i === 0 ? 2000 : 0 }));
const coinbaseKeys = Array.from({ length: CB }, (_, i) =>
  coinbase.addAccount({ fills, burst: i === 0 ? 2000 : 0, days: 85 }),
);

// one registry for every session, as the enclave holds one
const limiters = new LimiterRegistry();
const host = (u: string) => new URL(u).host;
const port = (u: string) => new URL(u).port;
const clients = async <T>(make: (i: number) => Promise<T>, n = N) =>
  Promise.all(Array.from({ length: n }, (_, i) => make(i)));
const progress = (c: ExchangeClient, onFills: (n: number) => void) => {
  const last = new Map<string, number>();
  return c
    .fetchFills({
      onProgress: (p) => {
        onFills(p.fills - (last.get(p.symbol) ?? 0));
        last.set(p.symbol, p.fills);
      },
    })
    .then((f) => f.length);
};

const spot = await clients((i) =>
  createBinanceClient({
    ...spotKeys[i]!,
    baseUrl: binance.url,
    allowHosts: [host(binance.url)],
    limiters,
  }),
);
const usdm = await clients((i) =>
  createBinanceUsdmClient({
    ...usdmKeys[i]!,
    baseUrl: binance.url,
    spotBaseUrl: binance.url,
    allowHosts: [host(binance.url)],
    limiters,
  }),
);
const by = await clients((i) =>
  createBybitClient({
    ...bybitKeys[i]!,
    baseUrl: bybit.url,
    allowHosts: [host(bybit.url)],
    limiters,
  }),
);
const ok = await clients((i) =>
  createOkxClient({ ...okxKeys[i]!, baseUrl: okx.url, allowHosts: [host(okx.url)], limiters }),
);

const kr = await clients((i) =>
  createKrakenClient({
    ...krakenKeys[i]!,
    baseUrl: kraken.url,
    allowHosts: [host(kraken.url)],
    limiters,
  }),
);
const cb = await clients(
  (i) =>
    createCoinbaseClient({
      ...coinbaseKeys[i]!,
      baseUrl: coinbase.url,
      allowHosts: [host(coinbase.url)],
      limiters,
    }),
  CB,
);
const krakenUnits = () =>
  [...sent].reduce((n, [k, v]) => {
    if (!k.startsWith(`${port(kraken.url)}/0/private/`)) return n;
    return n + v * (/\/(TradesHistory|Ledgers)$/.test(k) ? 2 : 1);
  }, 0);
// Coinbase's adapter sends through ccxt's own fetch: its simulator counts the private requests
const coinbasePrivate = () =>
  coinbaseKeys.reduce((n, k) => {
    const st = coinbase.stats(k.apiKey);
    return n + st.requests - st.rateLimited;
  }, 0);
const STARTER = KRAKEN_TIERS.starter;

const venues: Venue[] = [
  {
    name: 'binance',
    download: (i, f) => progress(spot[i]!, f),
    truth: (i) => binance.truth(spotKeys[i]!.apiKey).length,
    used: () => binance.stats().usedTotal['api'] ?? 0,
    allowed: (ms) => 6000 * Math.ceil(ms / MINUTE),
    unit: 'weight',
    throttled: () => binance.stats().rejected429 + binance.stats().rejected418,
  },
  {
    name: 'binanceusdm',
    download: (i, f) => progress(usdm[i]!, f),
    truth: (i) => binance.usdmTruth(usdmKeys[i]!.apiKey).trades.length,
    used: () => binance.stats().usedTotal['fapi'] ?? 0,
    allowed: (ms) => 2400 * Math.ceil(ms / MINUTE),
    unit: 'weight',
    // one simulator serves both APIs and counts their 429s/418s together
    throttled: () => binance.stats().rejected429 + binance.stats().rejected418,
  },
  {
    name: 'bybit',
    download: (i, f) => progress(by[i]!, f),
    truth: (i) =>
      bybit.truth(bybitKeys[i]!.apiKey).executions.filter((e) => e.execType !== 'Funding').length,
    used: () => sentTo(port(bybit.url)),
    allowed: (ms) => (600 * ms) / 5000,
    unit: 'requests',
    throttled: () => bybit.stats().rateLimited,
  },
  {
    name: 'okx',
    download: (i, f) => progress(ok[i]!, f),
    truth: (i) => okx.truth(okxKeys[i]!.apiKey).fills.length,
    used: () => sentTo(port(okx.url), '/api/v5/trade/fills-history'),
    allowed: (ms) => ((10 * ms) / 2000) * N,
    unit: 'requests',
    throttled: () => okx.stats().rateLimited,
  },
  {
    name: 'kraken',
    download: (i, f) => progress(kr[i]!, f),
    truth: (i) => kraken.truth(krakenKeys[i]!.apiKey).trades.length,
    used: krakenUnits,
    allowed: (ms) => N * (STARTER.max + (STARTER.decayPerSec * ms) / 1000),
    unit: 'counter units',
    throttled: () => kraken.stats().rateLimited,
  },
  {
    name: 'coinbase',
    download: (i, f) => progress(cb[i]!, f),
    truth: (i) => coinbase.truth(coinbaseKeys[i]!.apiKey).length,
    used: coinbasePrivate,
    allowed: (ms) => (CB * 30 * ms) / 1000,
    sessions: CB,
    unit: 'requests',
    throttled: () => coinbaseKeys.reduce((n, k) => n + coinbase.stats(k.apiKey).rateLimited, 0),
  },
];

interface Tally {
  fills: number;
  done: number;
  lost: number;
  failed: number;
}
const tally = new Map(venues.map((v) => [v.name, { fills: 0, done: 0, lost: 0, failed: 0 }]));
let stopped = false;

async function worker(v: Venue, i: number, t: Tally): Promise<void> {
  while (!stopped) {
    try {
      const n = await v.download(i, (d) => {
        if (!stopped) t.fills += d;
      });
      if (stopped) return;
      t.done++;
      t.lost += Math.max(0, v.truth(i) - n);
    } catch (e) {
      if (stopped) return;
      t.failed++;
      process.stderr.write(`${v.name}#${i}: ${(e as Error).message}\n`);
    }
  }
}

// ---- the peer: ccxt's own pagination and rate limiting, one instance per session
const peer = { fills: 0, done: 0, lost: 0, failed: 0 };
async function peerWorker(i: number): Promise<void> {
  const sim = peerSim!;
  const ex = new ccxt.binance({
    apiKey: spotKeys[i]!.apiKey,
    secret: spotKeys[i]!.apiSecret,
    enableRateLimit: true,
    options: { fetchCurrencies: false, fetchMargins: false, fetchMarkets: { types: ['spot'] } },
  });
  const api = ex.urls['api'] as Record<string, string>;
  for (const [k, u] of Object.entries(api))
    if (typeof u === 'string') api[k] = sim.url + new URL(u).pathname;
  while (!stopped) {
    let got = 0;
    try {
      await ex.loadMarkets(true);
      for (const symbol of ex.symbols) {
        const rows = await ex.fetchMyTrades(symbol, undefined, undefined, { paginate: true });
        if (stopped) return;
        got += rows.length;
        peer.fills += rows.length;
      }
      peer.done++;
      peer.lost += Math.max(0, sim.truth(spotKeys[i]!.apiKey).length - got);
    } catch (e) {
      if (stopped) return;
      peer.failed++;
      process.stderr.write(`ccxt#${i}: ${(e as Error).constructor.name}\n`);
      await new Promise((r) => setTimeout(r, 1000)); // as a caller would before trying again
    }
  }
}

// ---- run: start on a minute boundary (+1.1 s: the limiter keeps a window 1 s past its end)
const start = Math.ceil((Date.now() + 500) / MINUTE) * MINUTE + 1100;
await new Promise((r) => setTimeout(r, start - Date.now()));
const deadline = start - 1100 + windows * MINUTE;
const used0 = new Map(venues.map((v) => [v.name, v.used()]));
const throttled0 = new Map(venues.map((v) => [v.name, v.throttled()]));
const stall = stallMeter();
const elu0 = performance.eventLoopUtilization();
const t0 = performance.now();
for (const v of venues)
  for (let i = 0; i < (v.sessions ?? N); i++) void worker(v, i, tally.get(v.name)!);
if (peerSim) for (let i = 0; i < N; i++) void peerWorker(i);
await new Promise((r) => setTimeout(r, deadline - Date.now()));
stopped = true;
const secs = (performance.now() - t0) / 1000;
const psi = stall();
// near 100 %: the one thread that runs every client and simulator, not the budgets, was the limit
const busy = 100 * performance.eventLoopUtilization(elu0).utilization;

const figures: Figures = {};
const rows: (string | number)[][] = [];
for (const v of venues) {
  const t = tally.get(v.name)!;
  const used = v.used() - used0.get(v.name)!;
  const share = (100 * used) / v.allowed(secs * 1000);
  const throttled = v.throttled() - throttled0.get(v.name)!;
  figures[`${v.name}_budget_used`] = fig(share, '%');
  figures[`${v.name}_fills_per_s`] = fig(t.fills / secs, 'fills/s', 0);
  figures[`${v.name}_429s`] = fig(throttled, 'count', 0);
  figures[`${v.name}_fills_lost`] = fig(t.lost, 'fills', 0);
  rows.push([
    v.name,
    `${round(share)} %`,
    `${used} ${v.unit}`,
    round(t.fills / secs, 0),
    throttled,
    t.done,
    t.lost,
    t.failed,
  ]);
}
const peerFigures: Figures = {};
const ratio: Record<string, number> = {};
if (peerSim) {
  const s = peerSim.stats();
  const used = s.usedTotal['api'] ?? 0;
  peerFigures['ccxt_binance_budget_used'] = fig((100 * used) / (6000 * windows), '%');
  peerFigures['ccxt_binance_fills_per_s'] = fig(peer.fills / secs, 'fills/s', 0);
  peerFigures['ccxt_binance_429s'] = fig(s.rejected429, 'count', 0);
  peerFigures['ccxt_binance_418s'] = fig(s.rejected418, 'count', 0);
  peerFigures['ccxt_binance_fills_lost'] = fig(peer.lost, 'fills', 0);
  rows.push([
    'ccxt binance (peer)',
    `${round((100 * used) / (6000 * windows))} %`,
    `${used} weight`,
    round(peer.fills / secs, 0),
    `${s.rejected429} (+${s.rejected418} 418)`,
    peer.done,
    peer.lost,
    peer.failed,
  ]);
  ratio['binance_fills_per_s_vs_ccxt'] = round(
    tally.get('binance')!.fills / Math.max(1, peer.fills),
    2,
  );
}
figures['cpu_stall'] = fig(psi, '%');
figures['event_loop_busy'] = fig(busy, '%');

process.stdout.write(
  `exchange-download: ${N} sessions per exchange (Coinbase ${CB}), accounts of ${fills} fills (+2,000 in one ms on the first), ${round(secs, 0)} s (${windows} Binance window${windows > 1 ? 's' : ''}), CPU stall ${round(psi)} %, event loop busy ${round(busy)} %\n`,
);
table(
  ['exchange', 'budget used', 'spent', 'fills/s', '429s', 'downloads', 'fills lost', 'failed'],
  rows,
);
report('exchange-download', figures, peerFigures, ratio);
// in-flight downloads are abandoned: they would only spend the next window
process.exit(0);
