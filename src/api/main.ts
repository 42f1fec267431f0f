/**
 * The host process: the one wiring file. Config → database (migrated) → enclave (spawned and
 * supervised, or connected to) → HTTP API.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { exitOnConfigError } from '../runtime/config.js';
import { startBridge } from '../runtime/socat-bridge.js';
import { createLogger } from '../runtime/logger.js';
import { openDb } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { createLogStore } from '../store/log-store.js';
import { createKeyRingStore } from '../store/keyring-store.js';
import { secretsManagerSource } from '../store/db-secret.js';
import { createStore } from '../store/store.js';
import { nodePlatform } from '../platform/node.js';
import { buildApp } from './app.js';
import { loadApiConfig, type ApiConfig } from './config.js';
import { createEnclaveClient } from './enclave-client.js';
import { createEnclaveLink } from './enclave-link.js';
import { setUpKeyService } from './key-service-setup.js';
import { startEgressProxy } from './egress-proxy.js';
import { createMetrics } from './metrics.js';
import { startDemoSimulator } from './demo-sim.js';
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

  // With DATABASE_SECRET_ARN the credentials come from Secrets Manager, re-read on rotation.
  const secret = config.DATABASE_SECRET_ARN
    ? {
        source: secretsManagerSource({
          secretArn: config.DATABASE_SECRET_ARN,
          region: config.AWS_REGION!,
          endpoint: config.SECRETS_MANAGER_ENDPOINT,
        }),
        refreshMs: config.DATABASE_SECRET_REFRESH_MS,
        ca: config.DATABASE_CA_FILE ? readFileSync(config.DATABASE_CA_FILE, 'utf8') : undefined,
      }
    : undefined;
  if (config.DATABASE_URL || secret) {
    // Migrations run with the connecting user's rights; the service itself then works as app_service.
    const owner = await openDb({ databaseUrl: config.DATABASE_URL, dataDir, secret });
    await migrate(owner);
    await owner.close();
  }
  // PGlite (no DATABASE_URL) migrates inside openDb, then drops to the role for its single session.
  const db = await openDb({
    databaseUrl: config.DATABASE_URL,
    dataDir,
    secret,
    role: 'app_service',
  });
  const store = createStore(db);
  const logStore = createLogStore(db);
  const metrics = createMetrics(() => store.countActiveSessions());

  const here = dirname(fileURLToPath(import.meta.url));
  // Development mode: the bundled simulator stands in for every exchange not configured otherwise.
  const sim = config.EXCHANGE_SIM
    ? await startDemoSimulator(resolve(here, '../sim/main.js'), (line) =>
        process.stderr.write(`${line}\n`),
      )
    : null;
  const exchangeUrls = {
    ...Object.fromEntries(Object.entries(sim?.exchanges ?? {}).map(([id, e]) => [id, e.url])),
    ...config.exchangeBaseUrls,
  };
  if (sim)
    log.info(
      { event: 'exchange_sim', exchanges: Object.keys(sim.exchanges) },
      'development mode: exchanges are simulated (EXCHANGE_SIM=false for real ones)',
    );

  const sock = resolve(config.ENCLAVE_SOCKET ?? socketPath(dataDir));
  // Nitro: the RPC client keeps using a Unix socket; socat carries it over vsock (ADR 0005).
  const rpcBridge =
    config.ENCLAVE_VSOCK_CID !== undefined && config.ENCLAVE_VSOCK_PORT !== undefined
      ? await startBridge({
          name: 'rpc',
          log,
          listen: { kind: 'unix-listen', path: sock },
          connect: {
            kind: 'vsock-connect',
            cid: config.ENCLAVE_VSOCK_CID,
            port: config.ENCLAVE_VSOCK_PORT,
          },
        })
      : null;
  // Egress: the enclave reaches exchanges only through this proxy, which relays TLS it cannot read.
  const egress =
    config.EGRESS_ALLOW_HOSTS.length > 0
      ? await startEgressProxy({
          allow: config.EGRESS_ALLOW_HOSTS,
          host: '127.0.0.1',
          port: config.EGRESS_PROXY_PORT,
          log,
        })
      : null;
  const egressBridge =
    egress && config.EGRESS_VSOCK_PORT !== undefined
      ? await startBridge({
          name: 'egress',
          log,
          listen: { kind: 'vsock-listen', port: config.EGRESS_VSOCK_PORT },
          connect: { kind: 'tcp-connect', host: '127.0.0.1', port: egress.port },
        })
      : null;
  const client = createEnclaveClient({
    socketPath: sock,
    defaultTimeoutMs: 10_000,
    onCall: (method, seconds, outcome) =>
      metrics.enclaveLatency.observe({ method, outcome }, seconds),
  });
  const enclaveBundle = resolve(here, '../enclave/main.js');
  const keys = await setUpKeyService(config, {
    dataDir,
    enclaveBundle,
    keyServiceBundle: resolve(here, '../keyservice/main.js'),
    log,
  });
  const enclave = createEnclaveLink(client, {
    ring: createKeyRingStore(db),
    kmsCredentials: keys.credentials,
  });
  const tlog = createTransparencyLog({ enclave, logStore, platform: nodePlatform });
  const supervisor = config.ENCLAVE_SPAWN
    ? superviseEnclave({
        bundle: enclaveBundle,
        env: {
          ENCLAVE_SOCKET: sock,
          DATA_DIR: dataDir,
          TEE_MODE: config.TEE_MODE,
          LOG_LEVEL: config.LOG_LEVEL,
          KEY_ROTATION_HOURS: String(config.KEY_ROTATION_HOURS),
          MAX_TTL_SECONDS: String(config.MAX_TTL_SECONDS),
          KRAKEN_TIER: config.KRAKEN_TIER,
          ...keys.enclaveEnv,
          ...(egress && { EGRESS_PROXY_URL: `http://127.0.0.1:${egress.port}` }),
          ENCLAVE_MAX_INFLIGHT: String(config.ENCLAVE_MAX_INFLIGHT),
          EXCHANGE_TIMEOUT_MS: String(config.EXCHANGE_TIMEOUT_MS),
          KEY_CHECK_CACHE_SECONDS: String(config.KEY_CHECK_CACHE_SECONDS),
          ...Object.fromEntries(
            Object.entries(exchangeUrls).map(([id, url]) => [
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

  // Rate-limit counters shared by every host instance. No offline queue and one retry: while Redis
  // is unreachable a request must not wait for it (the limiter then lets requests through).
  const redis = config.REDIS_URL
    ? new Redis(config.REDIS_URL, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 2000,
        lazyConnect: false,
      })
    : null;
  redis?.on('error', (e: { code?: string }) =>
    log.warn({ event: 'redis_error', code: e.code }, 'rate-limit store unavailable'),
  );

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
    demoAccounts: () =>
      sim
        ? Object.fromEntries(
            Object.entries(sim.exchanges)
              .filter(([id]) => !(id in config.exchangeBaseUrls))
              .map(([id, { url: _url, ...creds }]) => [id, creds]),
          )
        : null,
    now: () => Date.now(),
    ...(redis && { rateLimitRedis: { client: redis, nameSpace: config.REDIS_KEY_PREFIX } }),
  });
  const sweeper = startSweeper(store, metrics, config.SWEEP_INTERVAL_MS, log);
  // Key ring sync: picks up rotation (this enclave's or another instance's) well within a period.
  const syncMs = Math.min(60_000, Math.max(1000, (config.KEY_ROTATION_HOURS * 3_600_000) / 10));
  const ringSync = setInterval(() => {
    enclave.sync().then(
      (id) => log.debug({ event: 'keyring_synced', key_id: id.key_id }, 'key ring synced'),
      (e: unknown) =>
        log.warn(
          { event: 'keyring_sync_failed', code: (e as { code?: string }).code },
          'key ring sync failed',
        ),
    );
  }, syncMs);
  ringSync.unref();
  await app.listen({ port: config.ENCLAVE_PORT, host: config.HOST });

  // Graceful shutdown: stop intake (the listener closes, requests on open connections get 503),
  // let in-flight requests and jobs finish for up to SHUTDOWN_GRACE_MS, then stop the enclave, which
  // drops its key ring and any decrypted credential, and close the pool. Exit 0 either way: work cut
  // off at the bound stored nothing (every write is one transaction) and its clients retry.
  let closing = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    const started = Date.now();
    log.info({ event: 'shutdown', signal, grace_ms: config.SHUTDOWN_GRACE_MS }, 'shutting down');
    sweeper.stop();
    clearInterval(ringSync);
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      app.close().then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), config.SHUTDOWN_GRACE_MS))),
    ]);
    clearTimeout(timer);
    enclave.close();
    await supervisor?.stop();
    await sim?.stop();
    await keys.supervisor?.stop();
    await rpcBridge?.stop();
    await egressBridge?.stop();
    await egress?.close();
    await db.close().catch(() => undefined);
    redis?.disconnect();
    log.info({ event: 'shutdown_done', drained, ms: Date.now() - started }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
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
