/**
 * The HTTP API under load, on loopback, with real processes:
 *   ceiling             a bare Fastify app, one POST route answering {ok:true} (the peer)
 *   floor               the least this architecture can do per submit_key (bench/lib/floor-*.ts):
 *                       a Fastify route, an RPC to a separate process that makes the envelope's
 *                       one X25519 agreement, one group-committed row in one bare table; where
 *                       the floor is below a goal, no implementation reaches the goal here
 *   submit_key          the real host (dist/api/main.js) and its enclave, a fresh PostgreSQL
 *                       database, real envelopes sealed with CryptoHelper.encryptCredentials
 *   request_aggregates  sessions of a small simulator account (50 fills), the enclave fetching
 *                       them from the Binance simulator on every request
 * The same submit_key body is sent to the ceiling, so both parse the same JSON. Besides req/s and
 * latency it samples the CPU time of every process (host, enclave, PostgreSQL backends, the load
 * generator) to show where a request's time goes, and the machine's CPU pressure (PSI "some": the
 * share of time something runnable waited for a CPU), because the machine is shared. An aggregate
 * takes seconds by design: the Binance adapter paces its calls for Binance's IP weight limit, and
 * more concurrent aggregates than --agg-connections 4 trip the simulator's per-IP /sapi limits
 * (10 withdraw-history requests/s), which it models after Binance: 502 EXCHANGE_UNAVAILABLE.
 * Needs `npm run build` first.
 * Flags: --duration S (submit_key and ceiling, 10), --connections (32), --agg-duration S (20),
 * --agg-connections (4), --pool (distinct envelopes, 4 000), --sessions (for aggregates, 64),
 * --warmup S (2). Env: BENCH_PG_ADMIN_URL (postgresql://postgres@127.0.0.1:5432/postgres),
 * BENCH_CPU_PROF=<dir> (the host writes a V8 CPU profile there).
 *
 *   npm run build && node node_modules/tsx/dist/cli.mjs bench/api.ts --duration 10
 */
import autocannon, { type Result } from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { CryptoHelper } from '../src/client/crypto-helper.js';
import { nodePlatform } from '../src/platform/node.js';
import { DEMO_ACCOUNT } from '../src/sim/binance.js';
import { freePort, startProcess, type Proc } from '../test/helpers/processes.js';
import { stallMeter } from './lib/psi.js';
import { fig, intFlags, report, round, table } from './lib/report.js';
import { LIFELINE_FLAG } from '../src/runtime/lifeline.js';

const flags = intFlags({
  duration: { def: 10, min: 1 },
  connections: { def: 32, min: 1 },
  'agg-duration': { def: 20, min: 1 },
  'agg-connections': { def: 4, min: 1 },
  pool: { def: 4_000, min: 2_000 },
  sessions: { def: 64, min: 1 },
  warmup: { def: 2, min: 0 },
});
const ROOT = resolve(import.meta.dirname, '..');
const HOST_BUNDLE = join(ROOT, 'dist/api/main.js');
const ADMIN_URL =
  process.env['BENCH_PG_ADMIN_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const AGG_ACCOUNT = { apiKey: 'bench-agg-key', apiSecret: 'bench-agg-secret', fills: 50 };
const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

// --- processes and their CPU time ----------------------------------------------------------------

/** utime + stime of a process in ms (CLK_TCK is 100 on Linux), or 0 once it has gone. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

type Sample = Map<string, Map<number, number>>; // group → pid → CPU ms

async function sample(groups: Record<string, () => Promise<number[]> | number[]>): Promise<Sample> {
  const out: Sample = new Map();
  for (const [g, pids] of Object.entries(groups))
    out.set(g, new Map((await pids()).map((p) => [p, cpuMs(p)])));
  const self = process.cpuUsage();
  out.set('load generator', new Map([[process.pid, (self.user + self.system) / 1000]]));
  return out;
}

/** CPU ms per group between two samples; a pid absent from `before` started during the run. */
function cpuBetween(before: Sample, after: Sample): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [g, pids] of after) {
    let ms = 0;
    for (const [pid, t] of pids) ms += t - (before.get(g)?.get(pid) ?? 0);
    out[g] = ms;
  }
  return out;
}

interface Host {
  proc: ChildProcess;
  lines: string[];
  enclavePid(): number | undefined;
  stop(): Promise<void>;
}

async function waitExit(proc: ChildProcess, ms: number): Promise<boolean> {
  if (proc.exitCode !== null || proc.signalCode !== null) return true;
  return new Promise((done) => {
    const timer = setTimeout(() => done(false), ms);
    proc.once('exit', () => {
      clearTimeout(timer);
      done(true);
    });
  });
}

async function startHost(env: Record<string, string>, base: string): Promise<Host> {
  // BENCH_CPU_PROF=<dir>: the host writes a V8 CPU profile there when it stops (node --cpu-prof).
  const prof = process.env['BENCH_CPU_PROF'];
  const args = prof
    ? ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`, HOST_BUNDLE]
    : [HOST_BUNDLE];
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const s of [proc.stdout, proc.stderr]) {
    createInterface({ input: s }).on('line', (l) => {
      lines.push(l);
      if (lines.length > 200) lines.shift();
    });
  }
  let enclave: number | undefined;
  const host: Host = {
    proc,
    lines,
    // the host also starts its key service (and, unless EXCHANGE_SIM=false, a simulator): the
    // enclave is the child running the enclave bundle
    enclavePid: () =>
      (enclave ??= childPids(proc.pid!).find((c) => {
        try {
          return readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('enclave/main.js');
        } catch {
          return false;
        }
      })),
    async stop() {
      const e = host.enclavePid();
      proc.kill('SIGTERM');
      if (!(await waitExit(proc, 10_000))) proc.kill('SIGKILL');
      // The host stops its enclave; make sure of it, by pid, if the host was killed.
      if (e !== undefined && existsSync(`/proc/${e}`)) process.kill(e, 'SIGKILL');
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null)
      throw new Error(`host exited ${proc.exitCode}:\n${lines.join('\n')}`);
    const status = await fetch(`${base}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return host;
    if (Date.now() > deadline) {
      await host.stop();
      throw new Error(
        `host not healthy after 60 s (last /healthz ${status}):\n${lines.join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const urlLine = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/;
const startTs = (file: string): Promise<Proc & { match: RegExpMatchArray }> =>
  startProcess(['--import', 'tsx', file, LIFELINE_FLAG], {}, urlLine);

// --- load --------------------------------------------------------------------------------------

interface Load {
  result: Result;
  rps: number;
  cpu: Record<string, number>;
  /** % of the run during which something runnable waited for a CPU */
  stall: number;
}

async function load(
  url: string,
  path: string,
  bodies: string[],
  seconds: number,
  connections: number,
  groups: Record<string, () => Promise<number[]> | number[]>,
): Promise<Load> {
  let next = 0;
  const before = await sample(groups);
  const stalled = stallMeter();
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length]! }),
      },
    ],
  });
  const cpu = cpuBetween(before, await sample(groups));
  const stall = stalled();
  return { result, rps: result.requests.total / result.duration, cpu, stall };
}

// --- the run -----------------------------------------------------------------------------------

if (!existsSync(HOST_BUNDLE)) {
  log('bench/api.ts: dist/api/main.js is missing; run `npm run build` first');
  process.exit(1);
}
const newestSrc = (dir: string): number =>
  Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((d) =>
      d.isDirectory() ? newestSrc(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs,
    ),
  );
if (newestSrc(join(ROOT, 'src')) > statSync(HOST_BUNDLE).mtimeMs)
  log('warning: src/ is newer than dist/; run `npm run build` to bench the current code');

const cleanups: (() => Promise<void>)[] = [];
async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse())
    await c().catch((e: unknown) => log(`cleanup: ${String(e)}`));
}
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));

try {
  // 1. The ceiling, alone on the machine (as far as this bench is concerned).
  const ceiling = await startTs('bench/lib/ceiling.ts');
  cleanups.push(() => ceiling.stop());
  const ceilingUrl = ceiling.match[1]!;

  // 2. Simulator, database, host.
  const sim = await startTs('bench/lib/sim.ts');
  cleanups.push(() => sim.stop());
  const simUrl = sim.match[1]!;
  const reg = await fetch(`${simUrl}/__sim/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(AGG_ACCOUNT),
  });
  if (reg.status !== 201) throw new Error(`simulator refused the bench account: ${reg.status}`);

  const dbName = `bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  cleanups.push(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  });
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;

  const dataDir = mkdtempSync(join(tmpdir(), 'perf-agg-bench-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const host = await startHost(
    {
      ENCLAVE_PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: dbUrl.toString(),
      DATA_DIR: dataDir,
      RATE_LIMIT_MAX: '100000000',
      LOG_LEVEL: 'warn',
      EXCHANGE_BASE_URL_BINANCE: simUrl,
      EXCHANGE_SIM: 'false', // the bench's own simulator serves
    },
    base,
  );
  cleanups.push(() => host.stop());

  // The floor: its enclave on a Unix socket, its host on the same database (its own table).
  const floorSocket = join(dataDir, 'floor.sock');
  const floorEnclave = await startProcess(
    ['--import', 'tsx', 'bench/lib/floor-enclave.ts', floorSocket, LIFELINE_FLAG],
    {},
    /"socket":/,
  );
  cleanups.push(() => floorEnclave.stop());
  const floor = await startProcess(
    ['--import', 'tsx', 'bench/lib/floor-host.ts', floorSocket, dbUrl.toString(), LIFELINE_FLAG],
    {},
    urlLine,
  );
  cleanups.push(() => floor.stop());

  // 3. Envelopes: the demo account for submit_key, the small account for aggregates.
  const api = CryptoHelper.connect(base);
  const quote = await api.quote();
  const metadata = { exchange: 'binance', label: 'bench', ttl: 3600 };
  const seal = (creds: { apiKey: string; apiSecret: string }) =>
    CryptoHelper.encryptCredentials(
      { exchange: 'binance', ...creds },
      quote.enclave_pubkey,
      nodePlatform,
    );
  log(`sealing ${flags.pool} envelopes…`);
  const submitBodies = Array.from({ length: flags.pool }, () =>
    JSON.stringify({ ...seal(DEMO_ACCOUNT), metadata }),
  );
  log(`creating ${flags.sessions} sessions for aggregates…`);
  const sessionIds: string[] = [];
  for (let i = 0; i < flags.sessions; i++)
    sessionIds.push((await api.submitKey(seal(AGG_ACCOUNT), metadata)).session_id);
  log('checking one aggregate…');
  const check = await api.requestAggregates(sessionIds[0]!);
  if (!CryptoHelper.verifySignedAggregates(check.aggregates_signed, quote.signing_pubkey))
    throw new Error('aggregates signature does not verify');
  const aggBodies = sessionIds.map((session_id) => JSON.stringify({ session_id }));

  const pgBackends = async (): Promise<number[]> =>
    (
      await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
        dbName,
      ])
    ).rows.map((r) => r.pid);
  const hostGroups = {
    host: () => [host.proc.pid!],
    enclave: () => [host.enclavePid()].filter((p): p is number => p !== undefined),
    postgres: pgBackends,
  };

  // 4. Load. Warm-ups first, so the JIT and the pools are in their steady state.
  const { connections, duration } = flags;
  if (flags.warmup > 0) {
    log('warm-up…');
    await load(`${ceilingUrl}`, '/ceiling', submitBodies, flags.warmup, connections, {});
    await load(floor.match[1]!, '/floor', submitBodies, flags.warmup, connections, {});
    await load(base, '/enclave/submit_key', submitBodies, flags.warmup, connections, hostGroups);
  }
  log(`ceiling: ${duration} s, ${connections} connections…`);
  const ceil = await load(ceilingUrl, '/ceiling', submitBodies, duration, connections, {
    'bare fastify': () => [ceiling.proc.pid!],
  });
  log(`floor: ${duration} s, ${connections} connections…`);
  const floorRun = await load(floor.match[1]!, '/floor', submitBodies, duration, connections, {
    'floor host': () => [floor.proc.pid!],
    'floor enclave': () => [floorEnclave.proc.pid!],
    postgres: pgBackends,
  });
  log(`submit_key: ${duration} s, ${connections} connections…`);
  const submit = await load(
    base,
    '/enclave/submit_key',
    submitBodies,
    duration,
    connections,
    hostGroups,
  );
  log(`request_aggregates: ${flags['agg-duration']} s, ${flags['agg-connections']} connections…`);
  const agg = await load(
    base,
    '/enclave/request_aggregates',
    aggBodies,
    flags['agg-duration'],
    flags['agg-connections'],
    hostGroups,
  );

  // 5. Report.
  const codes = (r: Result): string =>
    Object.entries(r.statusCodeStats)
      .map(([c, s]) => `${c}×${s.count}`)
      .join(' ');
  const row = (name: string, conns: number, l: Load) => [
    name,
    conns,
    l.result.requests.total,
    round(l.rps, 0),
    round(l.result.latency.p50, 1),
    round(l.result.latency.p99, 1),
    l.result.non2xx,
    l.result.errors + l.result.timeouts,
    codes(l.result),
    `${round(l.stall, 0)} %`,
  ];
  table(
    [
      'endpoint',
      'conns',
      'requests',
      'req/s',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'errors',
      'status codes',
      'CPU stall',
    ],
    [
      row('ceiling (bare Fastify)', connections, ceil),
      row('floor (RPC + X25519 + insert)', connections, floorRun),
      row('POST /enclave/submit_key', connections, submit),
      row('POST /enclave/request_aggregates', flags['agg-connections'], agg),
    ],
  );
  const ratio = submit.rps / ceil.rps;
  const floorRatio = floorRun.rps / ceil.rps;
  process.stdout.write(
    `\nsubmit_key / ceiling: ${round(ratio * 100, 1)} % (goal ≥ 35 %), p99 ${round(submit.result.latency.p99, 1)} ms (goal < 50 ms)\n` +
      `floor / ceiling: ${round(floorRatio * 100, 1)} %, submit_key / floor: ${round((submit.rps / floorRun.rps) * 100, 1)} %\n\n`,
  );
  const cpuRows = (name: string, l: Load) =>
    Object.entries(l.cpu).map(([g, ms]) => [
      name,
      g,
      round(ms, 0),
      l.result.requests.total > 0 ? round((ms * 1000) / l.result.requests.total, 0) : '-',
      `${round(ms / 10 / l.result.duration, 0)} %`,
    ]);
  table(
    ['run', 'process', 'CPU ms', 'CPU µs / request', 'of one core'],
    [
      ...cpuRows('ceiling', ceil),
      ...cpuRows('floor', floorRun),
      ...cpuRows('submit_key', submit),
      ...cpuRows('request_aggregates', agg),
    ],
  );
  for (const [name, l] of [
    ['submit_key', submit],
    ['request_aggregates', agg],
  ] as const) {
    if (l.result.non2xx > 0) log(`${name}: non-2xx responses (${codes(l.result)})`);
  }
  if (submit.result.non2xx + agg.result.non2xx > 0 && host.lines.length > 0) {
    log(`host log tail:\n${host.lines.slice(-20).join('\n')}`);
  }

  const figs = (prefix: string, l: Load) => ({
    [`${prefix}_rps`]: fig(l.rps, 'req/s', 0),
    [`${prefix}_p50`]: fig(l.result.latency.p50, 'ms'),
    [`${prefix}_p99`]: fig(l.result.latency.p99, 'ms'),
    [`${prefix}_non2xx`]: fig(l.result.non2xx, 'responses', 0),
    [`${prefix}_errors`]: fig(l.result.errors + l.result.timeouts, 'requests', 0),
    [`${prefix}_cpu_stall`]: fig(l.stall, '%', 0),
    ...Object.fromEntries(
      Object.entries(l.cpu).map(([g, ms]) => [
        `${prefix}_cpu_${g.replace(/\W+/g, '_')}`,
        fig(
          l.result.requests.total > 0 ? (ms * 1000) / l.result.requests.total : 0,
          'µs/request',
          0,
        ),
      ]),
    ),
  });
  report(
    'api',
    { ...figs('submit_key', submit), ...figs('request_aggregates', agg) },
    { ...figs('ceiling', ceil), ...figs('floor', floorRun) },
    {
      submit_key_over_ceiling: round(ratio, 3),
      floor_over_ceiling: round(floorRatio, 3),
      submit_key_over_floor: round(submit.rps / floorRun.rps, 3),
    },
  );
} finally {
  await cleanup();
}
