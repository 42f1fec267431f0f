/**
 * Trade-history download against the exchange simulators at the exchanges' documented limits
 * (nothing lifted): per exchange, the share of the binding weight budget the adapters used, the
 * fills per second they downloaded, the 429s (and 418s / 403 bans) they drew, and the fills they
 * lost. Several sessions per exchange run at once and share one limiter registry, as in the
 * enclave; each session downloads its account again as soon as it has finished, so demand always
 * exceeds the budget and the budget is what is measured. Budgets: bench/lib/download-venues.ts.
 *
 * Each exchange runs alone, in its own process, one after the other: simulator and clients of
 * one venue then have the process's thread to themselves (with all six in one thread, the thread,
 * not the budget, was the limit). Binance's windows are fixed clock minutes, so its runs start on
 * a minute boundary and are read at one; the others start at once.
 *
 * Peer, in the Binance spot run, its own simulator instance: ccxt 4 (`enableRateLimit: true`, one
 * instance per session as a per-session service would hold) walking each Binance spot symbol with
 * its own `fetchMyTrades(symbol, …, { paginate: true })`.
 *
 * `--seconds N` (default 60) per exchange, rounded up to whole minutes (Binance: at least two); `--sessions`, `--fills`
 * scale the load (`--coinbase-sessions`, default 2); `--peer 0` skips ccxt. `BENCH_VENUE=<name>`
 * runs one exchange (what the parent does for each). Prints a table, then one JSON line
 * (bench/lib/report.ts).
 */
import { spawn } from 'node:child_process';
import ccxt from 'ccxt';
import { startBinanceSim } from '../src/sim/binance.js';
import { startVenue, VENUES, type Venue, type VenueName } from './lib/download-venues.js';
import { stallMeter } from './lib/psi.js';
import { fig, intFlags, report, round, table, type Figures } from './lib/report.js';

const flags = intFlags({
  seconds: { def: 60, min: 1 },
  sessions: { def: 6, min: 1 },
  'coinbase-sessions': { def: 2, min: 1 },
  fills: { def: 15_000, min: 100 },
  peer: { def: 1, min: 0 },
});
const MINUTE = 60_000;
const windows = Math.ceil(flags.seconds / 60);
/**
 * Binance runs at least two of its minute windows: one minute would hide what the second does to a
 * client that drew a ban in the first (ccxt), and USD-M spends its first minute on symbol discovery.
 */
const minutesOf = (minuteWindows: boolean) => (minuteWindows ? Math.max(2, windows) : windows);
const N = flags.sessions;
const HEAD = [
  'exchange',
  'budget used',
  'spent',
  'fills/s',
  '429s',
  'downloads',
  'fills lost',
  'failed',
];

/** What one venue's process prints for the parent (one line, before its report). */
interface VenueResult {
  venue: string;
  row: (string | number)[];
  figures: Figures;
  peer: Figures;
  ratio: Record<string, number>;
}
const RESULT = '#venue-result ';

interface Tally {
  fills: number;
  done: number;
  lost: number;
  failed: number;
}
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
type BinanceSim = Awaited<ReturnType<typeof startBinanceSim>>;
// the same keys, so the same seeded accounts, as the Binance spot venue (its own simulator)
const peerKey = (i: number) => ({ apiKey: `binance-${i}`, apiSecret: `binance-secret-${i}` });
async function peerWorker(sim: BinanceSim, i: number): Promise<void> {
  const ex = new ccxt.binance({
    apiKey: peerKey(i).apiKey,
    secret: peerKey(i).apiSecret,
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
      peer.lost += Math.max(0, sim.truth(peerKey(i).apiKey).length - got);
    } catch (e) {
      if (stopped) return;
      peer.failed++;
      process.stderr.write(`ccxt#${i}: ${(e as Error).constructor.name}\n`);
      await new Promise((r) => setTimeout(r, 1000)); // as a caller would before trying again
    }
  }
}

/** Runs one venue (and, for Binance spot, the ccxt peer) and prints its result line. */
async function runVenue(name: VenueName): Promise<void> {
  const sessions = name === 'coinbase' ? flags['coinbase-sessions'] : N;
  const v = await startVenue(name, { sessions, fills: flags.fills });
  let peerSim: BinanceSim | undefined;
  if (name === 'binance' && flags.peer) {
    const sim = await startBinanceSim({ seed: 31 });
    for (let i = 0; i < N; i++)
      sim.addAccount({ ...peerKey(i), fills: flags.fills, burst: i === 0 ? 2000 : 0, days: 85 });
    peerSim = sim;
  }
  // fixed minute windows: start just after a boundary (+1.1 s: the limiter keeps a window 1 s past
  // its end) and read at one
  const start = v.minuteWindows
    ? Math.ceil((Date.now() + 500) / MINUTE) * MINUTE + 1100
    : Date.now();
  await new Promise((r) => setTimeout(r, start - Date.now()));
  const minutes = minutesOf(v.minuteWindows);
  const deadline = (v.minuteWindows ? start - 1100 : start) + minutes * MINUTE;
  const used0 = v.used();
  const throttled0 = v.throttled();
  const t: Tally = { fills: 0, done: 0, lost: 0, failed: 0 };
  const stall = stallMeter();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  for (let i = 0; i < v.sessions; i++) void worker(v, i, t);
  if (peerSim) for (let i = 0; i < N; i++) void peerWorker(peerSim, i);
  await new Promise((r) => setTimeout(r, deadline - Date.now()));
  stopped = true;
  const secs = (performance.now() - t0) / 1000;
  const psi = stall();
  const busy = 100 * performance.eventLoopUtilization(elu0).utilization;

  const used = v.used() - used0;
  const share = (100 * used) / v.allowed(secs * 1000);
  const throttled = v.throttled() - throttled0;
  const figures: Figures = {
    [`${name}_budget_used`]: fig(share, '%'),
    [`${name}_fills_per_s`]: fig(t.fills / secs, 'fills/s', 0),
    [`${name}_429s`]: fig(throttled, 'count', 0),
    [`${name}_fills_lost`]: fig(t.lost, 'fills', 0),
    // near 100 %: the thread, not the budget, was the limit
    [`${name}_event_loop_busy`]: fig(busy, '%'),
    [`${name}_cpu_stall`]: fig(psi, '%'),
  };
  const out: VenueResult = {
    venue: name,
    row: [
      name,
      `${round(share)} %`,
      `${used} ${v.unit}`,
      round(t.fills / secs, 0),
      throttled,
      t.done,
      t.lost,
      t.failed,
    ],
    figures,
    peer: {},
    ratio: {},
  };
  if (peerSim) {
    const s = peerSim.stats();
    const pUsed = s.usedTotal['api'] ?? 0;
    out.peer = {
      ccxt_binance_budget_used: fig((100 * pUsed) / (6000 * minutes), '%'),
      ccxt_binance_fills_per_s: fig(peer.fills / secs, 'fills/s', 0),
      ccxt_binance_429s: fig(s.rejected429, 'count', 0),
      ccxt_binance_418s: fig(s.rejected418, 'count', 0),
      ccxt_binance_fills_lost: fig(peer.lost, 'fills', 0),
    };
    out.ratio['binance_fills_per_s_vs_ccxt'] = round(t.fills / Math.max(1, peer.fills), 2);
  }
  process.stdout.write(`${RESULT}${JSON.stringify(out)}\n`);
  // in-flight downloads are abandoned: they would only spend the next window
  process.exit(0);
}

/** Runs every venue in its own process, one after the other, and merges their figures. */
async function runAll(): Promise<void> {
  const results: VenueResult[] = [];
  for (const name of VENUES) {
    process.stdout.write(`${name}: ${minutesOf(name.startsWith('binance'))} min…\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', ...process.argv.slice(1)], {
      env: { ...process.env, BENCH_VENUE: name },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    const line = text.split('\n').find((l) => l.startsWith(RESULT));
    if (code !== 0 || !line) throw new Error(`${name}: exit ${code}`);
    results.push(JSON.parse(line.slice(RESULT.length)) as VenueResult);
  }
  const rows = results.map((r) => r.row);
  const peerFig = Object.assign({}, ...results.map((r) => r.peer)) as Figures;
  if (peerFig['ccxt_binance_budget_used'])
    rows.push([
      'ccxt binance (peer)',
      `${peerFig['ccxt_binance_budget_used'].value} %`,
      '',
      peerFig['ccxt_binance_fills_per_s']!.value,
      `${peerFig['ccxt_binance_429s']!.value} (+${peerFig['ccxt_binance_418s']!.value} 418)`,
      '',
      peerFig['ccxt_binance_fills_lost']!.value,
      '',
    ]);
  process.stdout.write(
    `exchange-download: each exchange alone for ${windows} min (Binance ${minutesOf(true)}), ${N} sessions (Coinbase ${flags['coinbase-sessions']}), accounts of ${flags.fills} fills (+2,000 in one ms on the first)\n`,
  );
  table(HEAD, rows);
  report(
    'exchange-download',
    Object.assign({}, ...results.map((r) => r.figures)) as Figures,
    peerFig,
    Object.assign({}, ...results.map((r) => r.ratio)) as Record<string, number>,
  );
}

const only = process.env['BENCH_VENUE'];
if (only === undefined) await runAll();
else if ((VENUES as readonly string[]).includes(only)) await runVenue(only as VenueName);
else {
  process.stderr.write(`BENCH_VENUE must be one of ${VENUES.join(', ')}\n`);
  process.exit(2);
}
