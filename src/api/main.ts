/**
 * The host process: the one wiring file. Config → database (migrated) → enclave (spawned and
 * supervised, or connected to) → HTTP API.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { exitOnConfigError } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { openDb } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { createLogStore } from '../store/log-store.js';
import { createStore } from '../store/store.js';
import { nodePlatform } from '../platform/node.js';
import { buildApp } from './app.js';
import { loadApiConfig, type ApiConfig } from './config.js';
import { createEnclaveClient } from './enclave-client.js';
import { createEnclaveLink } from './enclave-link.js';
import { createMetrics } from './metrics.js';
import { startSweeper } from './sweeper.js';
import { createTransparencyLog } from './transparency-log.js';
import { superviseEnclave } from './supervisor.js';

/** Unix socket paths are limited to 107 bytes; fall back to a short per-data-dir path in tmp. */
function socketPath(dataDir: string): string {
  const p = join(dataDir, 'enclave.sock');
  return p.length < 100
    ? p
    : join(
        tmpdir(),
        `perf-agg-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}.sock`,
      );
}

async function main(): Promise<void> {
  let config: Readonly<ApiConfig>;
  try {
    config = loadApiConfig(process.env);
  } catch (e) {
    exitOnConfigError(e);
  }
  const log = createLogger('host', config.LOG_LEVEL);
  const dataDir = resolve(config.DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  if (config.DATABASE_URL) {
    // Migrations run with the connecting user's rights; the service itself then works as app_service.
    const owner = await openDb({ databaseUrl: config.DATABASE_URL, dataDir });
    await migrate(owner);
    await owner.close();
  }
  // PGlite (no DATABASE_URL) migrates inside openDb, then drops to the role for its single session.
  const db = await openDb({ databaseUrl: config.DATABASE_URL, dataDir, role: 'app_service' });
  const store = createStore(db);
  const logStore = createLogStore(db);
  const metrics = createMetrics(() => store.countActiveSessions());

  const sock = resolve(config.ENCLAVE_SOCKET ?? socketPath(dataDir));
  const client = createEnclaveClient({
    socketPath: sock,
    defaultTimeoutMs: 10_000,
    onCall: (method, seconds, outcome) =>
      metrics.enclaveLatency.observe({ method, outcome }, seconds),
  });
  const enclave = createEnclaveLink(client, join(dataDir, 'enclave-keyring.sealed'));
  const tlog = createTransparencyLog({ enclave, logStore, platform: nodePlatform });
  const supervisor = config.ENCLAVE_SPAWN
    ? superviseEnclave({
        bundle: resolve(dirname(fileURLToPath(import.meta.url)), '../enclave/main.js'),
        env: {
          ENCLAVE_SOCKET: sock,
          DATA_DIR: dataDir,
          TEE_MODE: config.TEE_MODE,
          LOG_LEVEL: config.LOG_LEVEL,
          ...Object.fromEntries(
            Object.entries(config.exchangeBaseUrls).map(([id, url]) => [
              `EXCHANGE_BASE_URL_${id.toUpperCase()}`,
              url,
            ]),
          ),
        },
        onLog: (line) => process.stderr.write(`${line}\n`),
        onReady: () => {
          enclave.reset();
          enclave.identity().then(
            (id) =>
              log.info(
                { event: 'enclave_ready', image_hash: id.image_hash, key_id: id.key_id },
                'enclave ready',
              ),
            (e: unknown) =>
              log.warn(
                { event: 'enclave_init_failed', code: (e as { code?: string }).code },
                'enclave init failed',
              ),
          );
        },
        onExit: (code, signal) =>
          log.warn({ event: 'enclave_exit', code, signal }, 'enclave exited; restarting'),
      })
    : null;

  const rootFile = join(dataDir, 'dev-root', 'root.pem');
  const app = await buildApp({
    config,
    store,
    logStore,
    tlog,
    enclave,
    metrics,
    logger: log,
    devRootPem: () =>
      config.TEE_MODE === 'dev' && existsSync(rootFile) ? readFileSync(rootFile, 'utf8') : null,
    now: () => Date.now(),
  });
  const sweeper = startSweeper(store, metrics, config.SWEEP_INTERVAL_MS, log);
  await app.listen({ port: config.ENCLAVE_PORT, host: config.HOST });

  let closing = false;
  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    log.info({ event: 'shutdown' }, 'shutting down');
    sweeper.stop();
    await app.close();
    enclave.close();
    await supervisor?.stop();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

void main().catch((e: unknown) => {
  // Kind, code and, for system errors, the syscall and path: enough to act on, never a driver message.
  const { name, code, syscall, path } = (e ?? {}) as {
    name?: string;
    code?: string;
    syscall?: string;
    path?: string;
  };
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', msg: 'host failed to start', kind: name, code, syscall, path })}\n`,
  );
  process.exit(1);
});
