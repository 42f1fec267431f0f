/**
 * The local key service process (development; production uses AWS KMS). `npm start` runs it
 * beside the enclave: the host spawns it when KEY_SERVICE=local. See server.ts for what it checks.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pemToDer } from '../attestation/pem.js';
import { exitOnConfigError, loadConfig } from '../runtime/config.js';
import { createLogger } from '../runtime/logger.js';
import { createKeyService } from './server.js';
import { loadOrCreateState } from './state.js';
import { exitWithParent } from '../runtime/lifeline.js';

interface KeyServiceConfig {
  DATA_DIR: string;
  KEYSERVICE_HOST: string;
  KEYSERVICE_PORT: number;
  KEYSERVICE_REGION: string;
  KEYSERVICE_ALLOWED_PCR0: string;
  LOG_LEVEL: string;
}

const schema = {
  type: 'object',
  required: ['KEYSERVICE_ALLOWED_PCR0'],
  properties: {
    DATA_DIR: { type: 'string', minLength: 1, default: './.data' },
    KEYSERVICE_HOST: { type: 'string', enum: ['127.0.0.1', '::1'], default: '127.0.0.1' },
    KEYSERVICE_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 0 },
    KEYSERVICE_REGION: { type: 'string', pattern: '^[a-z0-9-]{1,32}$', default: 'local' },
    // The key policy: comma-separated PCR0 values (96 hex), like kms:RecipientAttestation:ImageSha384.
    KEYSERVICE_ALLOWED_PCR0: { type: 'string', pattern: '^[0-9a-fA-F]{96}(,[0-9a-fA-F]{96})*$' },
    LOG_LEVEL: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'],
      default: 'info',
    },
  },
};

function main(): void {
  let config: Readonly<KeyServiceConfig>;
  try {
    config = loadConfig<KeyServiceConfig>(schema, process.env);
  } catch (e) {
    exitOnConfigError(e);
  }
  const log = createLogger('keyservice', config.LOG_LEVEL, process.stderr as never);
  const dataDir = resolve(config.DATA_DIR);
  const state = loadOrCreateState(dataDir, config.KEYSERVICE_REGION);
  const rootFile = join(dataDir, 'dev-root', 'root.pem');
  const server = createKeyService({
    masterKey: state.masterKey,
    keyArn: state.keyArn,
    region: config.KEYSERVICE_REGION,
    credentials: { accessKeyId: state.accessKeyId, secretAccessKey: state.secretAccessKey },
    allowedPcr0: config.KEYSERVICE_ALLOWED_PCR0.split(','),
    // Read per request: the dev root appears when the enclave first starts, after this process.
    trustedRoot: () => (existsSync(rootFile) ? pemToDer(readFileSync(rootFile, 'utf8')) : null),
    now: () => Date.now(),
    log,
  });
  server.listen(config.KEYSERVICE_PORT, config.KEYSERVICE_HOST, () => {
    const { port } = server.address() as { port: number };
    const host = config.KEYSERVICE_HOST.includes(':')
      ? `[${config.KEYSERVICE_HOST}]`
      : config.KEYSERVICE_HOST;
    // The host waits for this line before it starts anything else: written whatever LOG_LEVEL says.
    log
      .child({}, { level: 'info' })
      .info(
        { event: 'keyservice_listening', url: `http://${host}:${port}`, key_arn: state.keyArn },
        'key service listening',
      );
  });
  const stop = (): void => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  exitWithParent(stop);
}

main();
