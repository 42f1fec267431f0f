/**
 * `npm run soak -- --minutes N`: a realistic mix against the real host (dist/api/main.js) and its
 * enclave for N minutes, on a fresh PostgreSQL database (or PGlite with --pglite), with the
 * Binance simulator as the exchange (per-IP weight limit lifted, bench/lib/sim.ts). The mix, paced
 * to --rps requests per second by --concurrency workers:
 *   quote 15 %, submit_key 25 %, log reads 48 % (checkpoint, a session's entries, an entry, an
 *   inclusion and a consistency proof), revoke 5 %, request_aggregates 7 % (as a job:
 *   `Prefer: respond-async`, then polling GET /enclave/jobs/<id>; at most 2 at a time).
 * Every --sample-s seconds it records RSS and open sockets of the host and the enclave. At the end
 * it prints throughput, p50/p99/p99.9 and errors per operation and the samples, and fails (exit 1)
 * when RSS grows without bound — the least-squares slope of the second half's samples above
 * --max-slope MiB/min for either process — or when any request answers 5xx other than a 503.
 * Lives in bench/soak/ so that `npm run bench` does not run it.
 *
 * Flags: --minutes (1) --rps (40) --concurrency (16) --sample-s (10) --max-slope (2) --pglite.
 * Env: BENCH_PG_ADMIN_URL (postgresql://postgres@127.0.0.1:5432/postgres).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CryptoHelper, type SealedCredentials } from '../../src/client/crypto-helper.js';
import { API_ERRORS, isApiErrorCode } from '../../src/api/errors.js';
import { nodePlatform } from '../../src/platform/node.js';
import { freePort, startProcess, type Proc } from '../../test/helpers/processes.js';
import { fig, report, round, table } from '../lib/report.js';
import { LIFELINE_FLAG } from '../../src/runtime/lifeline.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1' },
    rps: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '16' },
    'sample-s': { type: 'string', default: '10' },
    'max-slope': { type: 'string', default: '2' },
    pglite: { type: 'boolean', default: false },
  },
  strict: true,
});
const num = (k: keyof typeof values, min: number): number => {
  const n = Number(values[k]);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${k} must be a number ≥ ${min}`);
  return n;
};
const MINUTES = num('minutes', 0.1);
const RPS = num('rps', 1);
const CONCURRENCY = num('concurrency', 1);
const SAMPLE_S = num('sample-s', 1);
const MAX_SLOPE = num('max-slope', 0);
const ROOT = resolve(import.meta.dirname, '../..');
const HOST_BUNDLE = join(ROOT, 'dist/api/main.js');
const ADMIN_URL =
  process.env['BENCH_PG_ADMIN_URL'] ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const ACCOUNTS = Array.from({ length: 4 }, (_, i) => ({
  apiKey: `soak-key-${i}`,
  apiSecret: `soak-secret-${i}`,
  fills: 20,
  days: 10,
}));
const log = (m: string) => void process.stderr.write(`${m}\n`);

// --- processes --------------------------------------------------------------------------------

function rssMiB(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function sockets(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
  } catch {
    return 0;
  }
}

function enclavePid(hostPid: number): number {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(hostPid)], {
    encoding: 'utf8',
  });
  const line = out.split('\n').find((l) => l.includes('enclave/main.js'));
  return line ? Number(line.trim().split(/\s+/)[0]) : 0;
}

/** The HTTP status a failed job's error code stands for (the job view carries only the code). */
function statusOf(error: unknown): number {
  const code = String((error as { code?: unknown } | undefined)?.code);
  return isApiErrorCode(code) ? API_ERRORS[code].status : 500;
}

/** The host's V8 heap in use (MiB), from its own /metrics: tells a leak from heap reservation. */
async function heapUsedMiB(base: string): Promise<number> {
  try {
    const text = await (await fetch(`${base}/metrics`)).text();
    const m = text.match(/^pa_nodejs_heap_size_used_bytes (\S+)$/m);
    return m ? Number(m[1]) / 2 ** 20 : 0;
  } catch {
    return 0;
  }
}

// --- statistics -------------------------------------------------------------------------------

const pct = (sorted: number[], p: number) =>
  sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

interface OpStats {
  ms: number[];
  errors: Map<string, number>;
}
const stats = new Map<string, OpStats>();
let fatal5xx = 0;

function record(op: string, ms: number, status: number, code: string | undefined): void {
  let s = stats.get(op);
  if (!s) stats.set(op, (s = { ms: [], errors: new Map() }));
  s.ms.push(ms);
  if (status >= 400 || status === 0) {
    const key = `${status} ${code ?? ''}`.trim();
    s.errors.set(key, (s.errors.get(key) ?? 0) + 1);
    if (status === 0 || (status >= 500 && status !== 503)) fatal5xx++;
  }
}

// --- the run ----------------------------------------------------------------------------------

let sim: Proc | undefined;
let host: ChildProcess | undefined;
/** The host's last log lines (warn and above), for a failure message. */
const hostLines: string[] = [];

function stopHost(): Promise<void> {
  const h = host;
  if (!h || h.exitCode !== null || h.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => h.kill('SIGKILL'), 20_000);
    h.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    h.kill('SIGTERM');
  });
}
let dbName: string | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'pa-soak-'));

async function cleanup(): Promise<void> {
  await stopHost();
  await sim?.stop();
  if (dbName) {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
  rmSync(dataDir, { recursive: true, force: true });
}
process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

async function main(): Promise<number> {
  sim = await startProcess(
    ['--import', 'tsx', 'bench/lib/sim.ts', LIFELINE_FLAG],
    {},
    /"url":"(http:\/\/127\.0\.0\.1:\d+)"/,
  );
  const simUrl = (sim as Proc & { match: RegExpMatchArray }).match[1]!;
  for (const a of ACCOUNTS)
    await fetch(`${simUrl}/__sim/accounts`, { method: 'POST', body: JSON.stringify(a) });

  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    ENCLAVE_PORT: String(await freePort()),
    EXCHANGE_BASE_URL_BINANCE: simUrl,
    RATE_LIMIT_MAX: '100000000',
    LOG_LEVEL: 'warn',
  };
  if (!values.pglite) {
    dbName = `soak_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const u = new URL(ADMIN_URL);
    u.pathname = `/${dbName}`;
    env['DATABASE_URL'] = u.toString();
  }
  const base = `http://127.0.0.1:${env['ENCLAVE_PORT']}`;
  host = spawn(process.execPath, [HOST_BUNDLE], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [host.stdout!, host.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      hostLines.push(...chunk.split('\n').filter(Boolean));
      hostLines.splice(0, Math.max(0, hostLines.length - 100));
    });
  }
  for (let i = 0; ; i++) {
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (i > 600 || host.exitCode !== null)
      throw new Error(`host not healthy:\n${hostLines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const hostPid = host.pid!;

  const q = (await (await fetch(`${base}/attestation/quote`)).json()) as { enclave_pubkey: string };
  const pool: { sealed: SealedCredentials }[] = [];
  for (let i = 0; i < 400; i++)
    pool.push({
      sealed: CryptoHelper.encryptCredentials(
        { exchange: 'binance', ...ACCOUNTS[i % ACCOUNTS.length]! },
        q.enclave_pubkey,
        nodePlatform,
      ),
    });

  const http = async (
    op: string,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const t0 = performance.now();
    try {
      const r = await fetch(base + path, {
        method,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(120_000),
      });
      const text = await r.text();
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        /* text/plain checkpoint */
      }
      const code = (json['error'] as { code?: string } | undefined)?.code;
      record(op, performance.now() - t0, r.status, code);
      return { status: r.status, json, text };
    } catch {
      record(op, performance.now() - t0, 0, 'connection');
      return { status: 0, json: {}, text: '' };
    }
  };

  const sessions: string[] = [];
  const leaves: number[] = [];
  let aggregatesRunning = 0;
  let n = 0;
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(Math.random() * xs.length)];

  async function oneOp(): Promise<void> {
    const r = Math.random() * 100;
    if (r < 15) await http('quote', 'GET', '/attestation/quote');
    else if (r < 40) {
      const { sealed } = pool[n++ % pool.length]!;
      const a = await http('submit_key', 'POST', '/enclave/submit_key', {
        ...sealed,
        metadata: { exchange: 'binance', label: 'soak', ttl: 3600 },
      });
      if (a.status === 201) {
        sessions.push(a.json['session_id'] as string);
        if (sessions.length > 2000) sessions.shift();
      }
    } else if (r < 45) {
      const s = sessions.shift();
      if (s) await http('revoke', 'POST', '/enclave/revoke', { session_id: s });
    } else if (r < 52 && aggregatesRunning < 2 && sessions.length > 0) {
      aggregatesRunning++;
      try {
        const t0 = performance.now();
        const s = sessions[sessions.length - 1]!;
        let a = await http(
          'aggregate_start',
          'POST',
          '/enclave/request_aggregates',
          { session_id: s },
          { prefer: 'respond-async, wait=1' },
        );
        while (a.status === 202) {
          await new Promise((res) => setTimeout(res, 500));
          const j = await http('job_poll', 'GET', `/enclave/jobs/${a.json['job_id'] as string}`);
          if (j.json['status'] === 'running') continue;
          a =
            j.json['status'] === 'succeeded'
              ? { status: 200, json: j.json['result'] as Record<string, unknown>, text: '' }
              : { status: statusOf(j.json['error']), json: { error: j.json['error'] }, text: '' };
        }
        const code = (a.json['error'] as { code?: string } | undefined)?.code;
        record('aggregate (job, end to end)', performance.now() - t0, a.status, code);
        if (a.status === 200) leaves.push(a.json['leaf_index'] as number);
      } finally {
        aggregatesRunning--;
      }
    } else {
      const k = Math.random();
      const s = pick(sessions);
      const leaf = pick(leaves);
      if (k < 0.3) await http('log: checkpoint', 'GET', '/api/log/checkpoint');
      else if (k < 0.55 && s) await http('log: session entries', 'GET', `/api/logs/${s}`);
      else if (k < 0.75 && leaf !== undefined)
        await http('log: entry', 'GET', `/api/log/entries/${leaf}`);
      else if (k < 0.9 && leaf !== undefined)
        await http('log: inclusion proof', 'GET', `/api/log/proof/inclusion?leaf_index=${leaf}`);
      else if (leaves.length > 1) {
        const a = Math.min(...leaves) + 1;
        await http(
          'log: consistency proof',
          'GET',
          `/api/log/proof/consistency?from=${a}&to=${Math.max(...leaves) + 1}`,
        );
      } else await http('log: checkpoint', 'GET', '/api/log/checkpoint');
    }
  }

  // Pacing: one token every 1/RPS s, shared by the workers (an open loop would measure a queue).
  const started = Date.now();
  const endAt = started + MINUTES * 60_000;
  let nextAt = performance.now();
  const token = async (): Promise<void> => {
    const at = (nextAt = Math.max(nextAt + 1000 / RPS, performance.now()));
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  const samples: {
    t: number;
    hostRss: number;
    hostHeap: number;
    enclaveRss: number;
    hostSockets: number;
    enclaveSockets: number;
    requests: number;
  }[] = [];
  const total = () => [...stats.values()].reduce((a, s) => a + s.ms.length, 0);
  const sample = async () => {
    const e = enclavePid(hostPid);
    const s = {
      t: (Date.now() - started) / 60_000,
      hostRss: rssMiB(hostPid),
      hostHeap: await heapUsedMiB(base),
      enclaveRss: rssMiB(e),
      hostSockets: sockets(hostPid),
      enclaveSockets: sockets(e),
      requests: total(),
    };
    samples.push(s);
    log(
      `t=${s.t.toFixed(2)} min  host ${s.hostRss.toFixed(0)} MiB (heap ${s.hostHeap.toFixed(0)}), ${s.hostSockets} sockets  enclave ${s.enclaveRss.toFixed(0)} MiB, ${s.enclaveSockets} sockets  requests ${s.requests}`,
    );
  };
  await sample();
  const sampler = setInterval(() => void sample(), SAMPLE_S * 1000);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < endAt) {
        await token();
        await oneOp();
      }
    }),
  );
  clearInterval(sampler);
  await sample();
  const seconds = (Date.now() - started) / 1000;

  // --- report -------------------------------------------------------------------------------
  const rows: (string | number)[][] = [];
  let errors = 0;
  for (const [op, s] of [...stats].sort()) {
    const sorted = [...s.ms].sort((a, b) => a - b);
    const errs = [...s.errors].map(([k, v]) => `${v}× ${k}`).join(', ');
    errors += [...s.errors.values()].reduce((a, b) => a + b, 0);
    rows.push([
      op,
      s.ms.length,
      round(s.ms.length / seconds, 2),
      round(pct(sorted, 50), 1),
      round(pct(sorted, 99), 1),
      round(pct(sorted, 99.9), 1),
      errs || '0',
    ]);
  }
  const requests = total();
  process.stdout.write(
    `\nsoak: ${round(seconds / 60, 2)} min, ${requests} requests (${round(requests / seconds, 1)} req/s), ${errors} errors\n\n`,
  );
  table(['operation', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors'], rows);
  const all = [...stats.values()].flatMap((s) => s.ms).sort((a, b) => a - b);
  const second = samples.filter((s) => s.t >= samples[samples.length - 1]!.t / 2);
  const hostSlope = slope(
    second.map((s) => s.t),
    second.map((s) => s.hostRss),
  );
  const heapSlope = slope(
    second.map((s) => s.t),
    second.map((s) => s.hostHeap),
  );
  const enclaveSlope = slope(
    second.map((s) => s.t),
    second.map((s) => s.enclaveRss),
  );
  process.stdout.write('\n');
  table(
    [
      't (min)',
      'host RSS MiB',
      'host heap used MiB',
      'enclave RSS MiB',
      'host sockets',
      'enclave sockets',
      'requests',
    ],
    samples.map((s) => [
      s.t.toFixed(2),
      s.hostRss.toFixed(1),
      s.hostHeap.toFixed(1),
      s.enclaveRss.toFixed(1),
      s.hostSockets,
      s.enclaveSockets,
      s.requests,
    ]),
  );
  process.stdout.write(
    `\nRSS slope over the second half: host ${hostSlope.toFixed(2)} MiB/min (heap used ${heapSlope.toFixed(2)}), enclave ${enclaveSlope.toFixed(2)} MiB/min (limit ${MAX_SLOPE})\n`,
  );
  const unbounded = hostSlope > MAX_SLOPE || enclaveSlope > MAX_SLOPE;
  report(
    'soak',
    {
      minutes: fig(seconds / 60, 'min', 2),
      requests: fig(requests, 'requests', 0),
      throughput: fig(requests / seconds, 'req/s'),
      p50: fig(pct(all, 50), 'ms'),
      p99: fig(pct(all, 99), 'ms'),
      p999: fig(pct(all, 99.9), 'ms'),
      errors: fig(errors, 'requests', 0),
      host_rss_end: fig(samples[samples.length - 1]!.hostRss, 'MiB'),
      enclave_rss_end: fig(samples[samples.length - 1]!.enclaveRss, 'MiB'),
      host_rss_slope: fig(hostSlope, 'MiB/min', 2),
      host_heap_slope: fig(heapSlope, 'MiB/min', 2),
      enclave_rss_slope: fig(enclaveSlope, 'MiB/min', 2),
    },
    {},
    {},
  );
  if (unbounded) log('soak: FAIL — RSS grows over the second half');
  if (fatal5xx > 0) log(`soak: FAIL — ${fatal5xx} requests answered 5xx (not 503) or dropped`);
  return unbounded || fatal5xx > 0 ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  log(`soak: ${(e as Error).stack ?? String(e)}`);
} finally {
  await cleanup();
}
process.exit(code);
