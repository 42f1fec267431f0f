/**
 * A host app wired like src/api/main.ts, but with injected config, store and clock, talking to a
 * real enclave process over a real socket. HTTP is exercised with fastify's inject().
 */
import { Writable } from 'node:stream';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDeps } from '../../src/api/app.js';
import { createEnclaveClient } from '../../src/api/enclave-client.js';
import { createEnclaveLink, type EnclaveLink } from '../../src/api/enclave-link.js';
import { createMetrics } from '../../src/api/metrics.js';
import { createTransparencyLog } from '../../src/api/transparency-log.js';
import { nodePlatform } from '../../src/platform/node.js';
import { createLogStore } from '../../src/store/log-store.js';
import { createKeyRingStore } from '../../src/store/keyring-store.js';
import { createLogger } from '../../src/runtime/logger.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { openDb } from '../../src/store/db.js';
import { createStore } from '../../src/store/store.js';
import { asRole, openTestDb, type TestDb } from './db.js';
import { startEnclaveProcess, type EnclaveProcess } from './enclave-process.js';
import { readFileSync } from 'node:fs';

export interface TestApp {
  app: FastifyInstance;
  db: TestDb;
  enclave: EnclaveProcess;
  link: EnclaveLink;
  logLines: string[];
  clock: { now: number | null };
  close(): Promise<void>;
}

export async function startTestApp(
  opts: {
    config?: Partial<AppDeps['config']>;
    exchangeBaseUrl?: string;
    /** Extra enclave environment, e.g. KEY_ROTATION_HOURS or EXCHANGE_BASE_URL_BYBIT. */
    enclaveEnv?: Record<string, string>;
    /**
     * Start a second host instance beside `peer`: its own connection pool to the same PostgreSQL
     * database and its own RPC connection to the same enclave (PostgreSQL runs only).
     */
    peer?: TestApp;
    /** optional dependencies, e.g. the shared rate-limit store */
    extra?: Pick<AppDeps, 'rateLimitRedis'>;
  } = {},
): Promise<TestApp> {
  const db = opts.peer ? await openPeerDb(opts.peer.db) : await openTestDb();
  const enclave =
    opts.peer?.enclave ??
    (await startEnclaveProcess({
      env: {
        // the simulator serves spot and USD-M on one origin
        ...(opts.exchangeBaseUrl && {
          EXCHANGE_BASE_URL_BINANCE: opts.exchangeBaseUrl,
          EXCHANGE_BASE_URL_BINANCEUSDM: opts.exchangeBaseUrl,
        }),
        ...opts.enclaveEnv,
      },
    }));
  const link = createEnclaveLink(
    createEnclaveClient({ socketPath: enclave.socketPath, defaultTimeoutMs: 10_000 }),
    {
      ring: createKeyRingStore(db.appDb),
      kmsCredentials: async () => enclave.keyService.credentials,
    },
  );
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  const clock: { now: number | null } = { now: null };
  const logStore = createLogStore(db.appDb);
  const app = await buildApp({
    logStore,
    tlog: createTransparencyLog({ enclave: link, logStore, platform: nodePlatform }),
    config: {
      MAX_TTL_SECONDS: 604800,
      RATE_LIMIT_MAX: 10_000,
      RATE_LIMIT_WINDOW: 60_000,
      ALLOWED_ORIGINS: [],
      REQUEST_TIMEOUT_MS: 60_000,
      JOB_TIMEOUT_MS: 120_000,
      TRUST_PROXY: false,
      ...opts.config,
    },
    store: db.store,
    enclave: link,
    metrics: createMetrics(() => db.store.countActiveSessions()),
    logger: createLogger('host', 'info', sink),
    devRootPem: () => readFileSync(join(enclave.dataDir, 'dev-root', 'root.pem'), 'utf8'),
    now: () => clock.now ?? Date.now(),
    ...opts.extra,
  });
  await app.ready();
  return {
    app,
    db,
    enclave,
    link,
    logLines,
    clock,
    async close() {
      await app.close();
      link.close();
      if (!opts.peer) await enclave.stop();
      await db.close();
    },
  };
}

/** A second pool on a test database: what another host instance would open. */
async function openPeerDb(peer: TestDb): Promise<TestDb> {
  if (!peer.databaseUrl) throw new Error('a second host instance needs PostgreSQL (DATABASE_URL)');
  const dataDir = await mkdtemp(join(tmpdir(), 'perf-agg-peer-'));
  const db = await openDb({ databaseUrl: peer.databaseUrl, dataDir });
  const appDb = asRole(db, 'app_service');
  return {
    ...peer,
    db,
    appDb,
    store: createStore(appDb),
    dataDir,
    close: () => db.close(),
  };
}
