/**
 * The enclave process (TEE_MODE dev or nitro). It has no database driver and no HTTP server: it listens
 * on one stream socket for the host's RPC, and reaches exchanges only through its egress allow-list.
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodePlatform } from '../platform/node.js';
import { exitOnConfigError } from '../runtime/config.js';
import { exitWithParent } from '../runtime/lifeline.js';
import { startBridge, type Bridge } from '../runtime/socat-bridge.js';
import { createLogger } from '../runtime/logger.js';
import { loadEnclaveConfig, type EnclaveConfig } from './config.js';
import { LimiterRegistry } from '../exchanges/limiter.js';
import {
  createDevAttestationProvider,
  createNitroAttestationProvider,
  type AttestationProvider,
} from './attestation-provider.js';
import { candlePriceSource, exchangeEndpoints, exchangeFactory } from './exchanges.js';
import { SUBMIT_GRACE_MS } from './keyring.js';
import { createKmsKeyService } from './kms-key-service.js';
import { createRpcServer } from './rpc-server.js';
import { createEnclaveService } from './service.js';

/** The parent instance's vsock CID as seen from inside a Nitro enclave. */
const PARENT_CID = 3;

async function main(): Promise<void> {
  let config: Readonly<EnclaveConfig>;
  try {
    config = loadEnclaveConfig(process.env);
  } catch (e) {
    exitOnConfigError(e);
  }
  const log = createLogger('enclave', config.LOG_LEVEL, process.stderr as never);
  const bundle = fileURLToPath(import.meta.url);
  const dataDir = resolve(config.DATA_DIR);
  const attester: AttestationProvider =
    config.TEE_MODE === 'nitro'
      ? await createNitroAttestationProvider({
          helper: config.NSM_HELPER,
          device: config.NSM_DEVICE,
        })
      : await createDevAttestationProvider({
          dataDir,
          bundle,
          lockfile: resolve(dirname(bundle), '../../package-lock.json'),
        });
  const pcr0 = attester.pcrs.get(0)!;
  // one limiter registry for sessions and price lookups alike
  const limiters = new LimiterRegistry();
  const endpoints = exchangeEndpoints(config.exchangeBaseUrls, {
    ...(config.EGRESS_PROXY_URL !== undefined && { httpsProxy: config.EGRESS_PROXY_URL }),
  });
  const service = createEnclaveService({
    platform: nodePlatform,
    attester,
    pcr0,
    keyService: createKmsKeyService({
      keyArn: config.KMS_KEY_ID,
      region: config.KMS_REGION,
      endpoint: config.KMS_ENDPOINT,
      // Nitro: KMS goes out through the same egress proxy as the exchanges (TLS ends in here).
      egressProxy: config.EGRESS_PROXY_URL,
      // The RSA key goes in public_key; user_data and nonce stay empty for the key service.
      attest: (publicKey) => attester.attest({ publicKey }),
    }),
    rotation: {
      rotationMs: config.KEY_ROTATION_HOURS * 3_600_000,
      maxTtlMs: config.MAX_TTL_SECONDS * 1000,
      submitGraceMs: SUBMIT_GRACE_MS,
    },
    exchanges: exchangeFactory(endpoints, limiters, {
      krakenTier: config.KRAKEN_TIER,
      timeoutMs: config.EXCHANGE_TIMEOUT_MS,
    }),
    prices: candlePriceSource(endpoints, limiters),
    now: () => Date.now(),
    log,
    keyCheckTtlMs: config.KEY_CHECK_CACHE_SECONDS * 1000,
  });
  let egressBridge: Bridge | null = null;
  // Nitro: the proxy URL's port is the enclave end of a vsock bridge to the host's egress proxy.
  if (config.EGRESS_VSOCK_PORT !== undefined && config.EGRESS_PROXY_URL !== undefined) {
    const url = new URL(config.EGRESS_PROXY_URL);
    egressBridge = await startBridge({
      name: 'egress',
      log,
      listen: { kind: 'tcp-listen', host: '127.0.0.1', port: Number(url.port) },
      connect: { kind: 'vsock-connect', cid: PARENT_CID, port: config.EGRESS_VSOCK_PORT },
    });
  }
  const server = createRpcServer({ service, maxInflight: config.ENCLAVE_MAX_INFLIGHT, log });
  if (existsSync(config.ENCLAVE_SOCKET)) unlinkSync(config.ENCLAVE_SOCKET);
  // Nitro: the host reaches this socket over vsock through socat (docs/adr/0005-vsock-transport.md).
  let bridge: Bridge | null = null;
  server.listen(config.ENCLAVE_SOCKET, () => {
    chmodSync(config.ENCLAVE_SOCKET, 0o600);
    // The supervisor waits for this line, so it is written whatever LOG_LEVEL says.
    const ready = (): void =>
      log.child({}, { level: 'info' }).info({ event: 'enclave_listening' }, 'enclave listening');
    if (config.ENCLAVE_VSOCK_PORT === undefined) return ready();
    startBridge({
      name: 'rpc',
      log,
      listen: { kind: 'vsock-listen', port: config.ENCLAVE_VSOCK_PORT },
      connect: { kind: 'unix-connect', path: resolve(config.ENCLAVE_SOCKET) },
    }).then(
      (b) => {
        bridge = b;
        ready();
      },
      () => {
        log.error({ event: 'bridge_failed' }, 'vsock bridge did not start');
        process.exit(1);
      },
    );
  });
  // SIGTERM (the host's graceful shutdown): forget every secret first, then stop answering. A call
  // still running fails ENCLAVE_NOT_READY or SESSION_REVOKED: nothing more is signed.
  const stop = (): void => {
    const { aborted } = service.dropPlaintext();
    log.info({ event: 'enclave_stopping', plaintext_dropped: true, aborted }, 'enclave stopping');
    void bridge?.stop();
    void egressBridge?.stop();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  exitWithParent(stop);
}

void main();
