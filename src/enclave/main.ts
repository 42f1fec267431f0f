/**
 * The enclave process (development TEE). It has no database driver and no HTTP server: it listens
 * on one stream socket for the host's RPC, and reaches exchanges only through its egress allow-list.
 */
import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodePlatform } from '../platform/node.js';
import { exitOnConfigError } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { loadEnclaveConfig, type EnclaveConfig } from './config.js';
import { createDevNsm } from './dev-nsm.js';
import { devSealKey } from './dev-seal.js';
import { candlePrices, exchangeEndpoints, exchangeFactory } from './exchanges.js';
import { measureDev } from './measure.js';
import { createRpcServer } from './rpc-server.js';
import { createEnclaveService } from './service.js';

async function main(): Promise<void> {
  let config: Readonly<EnclaveConfig>;
  try {
    config = loadEnclaveConfig(process.env);
  } catch (e) {
    exitOnConfigError(e);
  }
  const log = createLogger('enclave', config.LOG_LEVEL, process.stderr as never);
  const bundle = fileURLToPath(import.meta.url);
  const pcrs = measureDev(bundle, resolve(dirname(bundle), '../../package-lock.json'));
  const dataDir = resolve(config.DATA_DIR);
  const nsm = await createDevNsm({ dataDir, moduleId: 'perf-aggregator-dev-enclave', pcrs });
  const service = createEnclaveService({
    platform: nodePlatform,
    attester: { format: 'dev', attest: (req) => nsm.attest(req) },
    pcr0: pcrs.get(0)!,
    sealKey: devSealKey(nodePlatform, dataDir, pcrs.get(0)!),
    exchanges: exchangeFactory(exchangeEndpoints(config.exchangeBaseUrls)),
    prices: candlePrices,
    now: () => Date.now(),
    log,
  });
  const server = createRpcServer({ service, maxInflight: config.ENCLAVE_MAX_INFLIGHT, log });
  if (existsSync(config.ENCLAVE_SOCKET)) unlinkSync(config.ENCLAVE_SOCKET);
  server.listen(config.ENCLAVE_SOCKET, () => {
    chmodSync(config.ENCLAVE_SOCKET, 0o600);
    log.info({ event: 'enclave_listening' }, 'enclave listening');
  });
  const stop = (): void => {
    log.info({ event: 'enclave_stopping' }, 'enclave stopping');
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

void main();
