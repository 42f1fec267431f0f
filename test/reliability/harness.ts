/**
 * Shared pieces of the reliability suite: the scale knobs, a real host (dist/api/main.js, which
 * spawns and supervises the real enclave) beside the Binance simulator, plain HTTP calls that
 * keep status, code and Retry-After, and the database integrity checks every fault test ends with.
 *
 * Scale (docs/reliability.md): the defaults are the bounded CI run; `RELIABILITY_SCALE=10` (loads,
 * durations) and `RELIABILITY_FUZZ_RUNS=10000` (requests per fuzzed endpoint) are the full run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CryptoHelper } from '../../src/client/crypto-helper.js';
import { fromHex } from '../../src/common/bytes.js';
import { keyId } from '../../src/crypto/key-id.js';
import { nodePlatform } from '../../src/platform/node.js';
import { fromBase64 } from '../../src/common/bytes.js';
import { openDb, type Db } from '../../src/store/db.js';
import { openCheckpoint } from '../../src/tlog/checkpoint.js';
import { noteKeyId } from '../../src/tlog/note-key.js';
import { verifyConsistency } from '../../src/tlog/verify.js';
import { openTestDb, type TestDb } from '../helpers/db.js';
import { freePort, startProcess, type Proc } from '../helpers/processes.js';

function envInt(name: string, def: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return n;
}

/** Multiplies loads and durations; 1 is the bounded CI run. */
export const SCALE = envInt('RELIABILITY_SCALE', 1, 1);
/** Requests per endpoint in the fuzz campaign; the full run uses 10 000. */
export const FUZZ_RUNS = envInt('RELIABILITY_FUZZ_RUNS', 300, 1);

export const DEMO = {
  exchange: 'binance',
  apiKey: 'demo-binance-key',
  apiSecret: 'demo-binance-secret',
};
/** A small simulator account: an aggregate over it takes a few seconds of paced exchange calls. */
export const SMALL = {
  apiKey: 'rel-small-key',
  apiSecret: 'rel-small-secret',
  fills: 20,
  days: 10,
};

export interface Answer {
  status: number;
  code: string | undefined;
  retryAfter: string | undefined;
  body: Record<string, unknown>;
  ms: number;
}

/** One HTTP call; a refused or reset connection answers status 0 (never throws). */
export async function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    return {
      status: res.status,
      code: (parsed['error'] as { code?: string } | undefined)?.code,
      retryAfter: res.headers.get('retry-after') ?? undefined,
      body: parsed,
      ms: performance.now() - t0,
    };
  } catch {
    return {
      status: 0,
      code: undefined,
      retryAfter: undefined,
      body: {},
      ms: performance.now() - t0,
    };
  }
}

export interface Stack {
  base: string;
  host: Proc;
  dataDir: string;
  testDb: TestDb | null;
  /** the database this host uses (PostgreSQL only) */
  databaseUrl: string | null;
  /** the local key service the host spawned (null when it uses another host's) */
  keyServiceUrl: string | null;
  /** Stops the host (SIGTERM) if still running, then opens its database for inspection. */
  inspect<T>(fn: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The real host process and its supervised enclave, on a fresh PostgreSQL database when
 * DATABASE_URL is set, else on PGlite in its DATA_DIR. With `peerOf`, a second instance of the
 * same deployment: the peer's database, DATA_DIR (dev attestation root) and key service, so its
 * enclave loads the same key ring; its own enclave socket. A peer needs PostgreSQL.
 */
export async function startStack(
  env: Record<string, string> = {},
  opts: { peerOf?: Stack } = {},
): Promise<Stack> {
  const peer = opts.peerOf;
  if (peer && !peer.databaseUrl) throw new Error('a peer stack needs PostgreSQL');
  const dataDir = peer?.dataDir ?? mkdtempSync(join(tmpdir(), 'pa-rel-'));
  const port = await freePort();
  const testDb = !peer && process.env['DATABASE_URL'] ? await openTestDb() : null;
  const databaseUrl = peer?.databaseUrl ?? testDb?.databaseUrl ?? null;
  const host = await startProcess(
    ['dist/api/main.js'],
    {
      DATA_DIR: dataDir,
      ENCLAVE_PORT: String(port),
      LOG_LEVEL: 'info',
      RATE_LIMIT_MAX: '1000000',
      ...(databaseUrl && { DATABASE_URL: databaseUrl }),
      ...(peer && {
        KEYSERVICE_URL: peer.keyServiceUrl!,
        ENCLAVE_SOCKET: join(dataDir, `enclave-${port}.sock`),
      }),
      ...env,
    },
    /"event":"enclave_ready"/,
  );
  const ready = host.lines.find((l) => l.includes('"event":"keyservice_ready"'));
  const keyServiceUrl = ready ? (JSON.parse(ready) as { url: string }).url : null;
  const stop = () => host.stop();
  return {
    base: `http://127.0.0.1:${port}`,
    host,
    dataDir,
    testDb,
    databaseUrl,
    keyServiceUrl,
    async inspect(fn) {
      if (peer) return peer.inspect(fn);
      if (testDb) return fn(testDb.db);
      await stop(); // PGlite is single-process: the host must let go of the data dir first
      const db = await openDb({ dataDir });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    },
    async close() {
      await stop();
      if (peer) return; // the database and DATA_DIR are the first instance's
      await testDb?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The pid of the host's enclave child, from ps. */
export function enclaveChildPid(hostPid: number): number | null {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(hostPid)], {
    encoding: 'utf8',
  });
  const line = out.split('\n').find((l) => l.includes('enclave/main.js'));
  return line ? Number(line.trim().split(/\s+/)[0]) : null;
}

/** Resident set size of a process in bytes (/proc/<pid>/status VmRSS). */
export function rssBytes(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) * 1024 : 0;
}

export async function until<T>(fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function quote(base: string) {
  const q = await call(base, 'GET', '/attestation/quote');
  assert.equal(q.status, 200, JSON.stringify(q.body));
  return q.body as { enclave_pubkey: string; signing_pubkey: string; image_hash: string };
}

export function sealFor(
  enclavePubkey: string,
  creds: { exchange: string; apiKey: string; apiSecret: string } = DEMO,
) {
  return CryptoHelper.encryptCredentials(creds, enclavePubkey, nodePlatform);
}

export async function addSimAccount(simUrl: string, spec: object): Promise<void> {
  const r = await fetch(`${simUrl}/__sim/accounts`, { method: 'POST', body: JSON.stringify(spec) });
  if (r.status !== 201 && r.status !== 400) throw new Error(`sim account: ${r.status}`);
}

export async function setSimFaults(simUrl: string, rules: object[]): Promise<void> {
  const r = await fetch(`${simUrl}/__sim/faults`, {
    method: 'POST',
    body: JSON.stringify({ rules }),
  });
  assert.equal(r.status, 200, await r.text());
}

export interface Head {
  size: number;
  root: Uint8Array;
  text: string;
}

/** The current checkpoint, its signature checked against the enclave's signing key. */
export async function signedHead(base: string, signingPubkey: string): Promise<Head> {
  const res = await fetch(`${base}/api/log/checkpoint`);
  assert.equal(res.status, 200);
  const text = await res.text();
  const pub = fromBase64(signingPubkey);
  const origin = `perf-aggregator/log/${keyId(nodePlatform, pub)}`;
  const { checkpoint } = openCheckpoint(
    nodePlatform,
    text,
    [{ name: origin, keyId: noteKeyId(nodePlatform, origin, pub), publicKey: pub }],
    origin,
  );
  return { size: checkpoint.size, root: checkpoint.rootHash, text };
}

/** Asserts that `later` extends `earlier` (RFC 9162 consistency proof from the public endpoint). */
export async function assertConsistent(base: string, earlier: Head, later: Head): Promise<void> {
  assert.ok(later.size >= earlier.size, 'the log never shrinks');
  if (earlier.size === 0) return; // everything extends the empty tree
  const res = await call(
    base,
    'GET',
    `/api/log/proof/consistency?from=${earlier.size}&to=${later.size}`,
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const proof = (res.body['proof'] as string[]).map(fromHex);
  assert.ok(
    verifyConsistency(nodePlatform, earlier.size, later.size, proof, earlier.root, later.root),
    `consistency ${earlier.size} → ${later.size}`,
  );
}

export interface Integrity {
  sessions: number;
  aggregates: number;
  leaves: number;
  treeSize: number;
}

/**
 * Nothing half-written: every session has its credential (until revoked, when both are purged)
 * and its creation record; every aggregate has its leaf and every leaf its aggregate; leaves are
 * numbered 0..n-1 without gap or duplicate, and the stored head covers exactly them.
 */
export async function checkIntegrity(db: Db): Promise<Integrity> {
  const one = async (sql: string): Promise<number> =>
    Number(Object.values((await db.query<Record<string, unknown>>(sql))[0]!)[0]);
  assert.equal(
    await one(`SELECT count(*) FROM sessions s LEFT JOIN credentials c USING (session_id)
               WHERE s.status = 'active' AND c.session_id IS NULL`),
    0,
    'an active session without its credential',
  );
  assert.equal(
    await one(`SELECT count(*) FROM sessions s WHERE NOT EXISTS
               (SELECT 1 FROM ops_logs o WHERE o.session_id = s.session_id AND o.event = 'session_created')`),
    0,
    'a session without its creation record',
  );
  assert.equal(
    await one(
      `SELECT count(*) FROM credentials c LEFT JOIN sessions s USING (session_id) WHERE s.session_id IS NULL`,
    ),
    0,
    'a credential without its session',
  );
  assert.equal(
    await one('SELECT count(*) FROM aggregates WHERE leaf_index IS NULL'),
    0,
    'an aggregate without its log leaf',
  );
  assert.equal(
    await one(`SELECT count(*) FROM merkle_logs m LEFT JOIN aggregates a ON a.leaf_index = m.leaf_index
               WHERE a.id IS NULL`),
    0,
    'a log leaf without its aggregate',
  );
  const leaves = await one('SELECT count(*) FROM merkle_logs');
  const maxLeaf = await one('SELECT coalesce(max(leaf_index), -1) FROM merkle_logs');
  assert.equal(maxLeaf, leaves - 1, 'leaf indexes have a gap');
  const treeSize = await one('SELECT coalesce(max(tree_size), 0) FROM log_head');
  assert.equal(treeSize, leaves, 'the stored head does not cover exactly the stored leaves');
  return {
    sessions: await one('SELECT count(*) FROM sessions'),
    aggregates: await one('SELECT count(*) FROM aggregates'),
    leaves,
    treeSize,
  };
}

/** Counts of every table a request could write to (fuzz: rejected requests write nothing). */
export async function rowCounts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of [
    'sessions',
    'credentials',
    'aggregates',
    'merkle_logs',
    'merkle_nodes',
    'ops_logs',
  ]) {
    const [r] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`);
    out[t] = r!.n;
  }
  return out;
}

/** Percentile of a sorted array (nearest rank). */
export function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
