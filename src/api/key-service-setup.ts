/**
 * How the enclave reaches its key service, decided by the host's config:
 * - `local` (development): the local key service (dist/keyservice/main.js) speaking the KMS API on
 *   loopback, spawned and supervised here unless KEYSERVICE_URL names one already running on the
 *   same DATA_DIR. Its key policy allows KEYSERVICE_ALLOWED_PCR0, by default the SHA-384 of the
 *   enclave bundle about to start (the dev PCR0, src/enclave/measure.ts): like a deploy pipeline
 *   that updates the KMS key policy for the image it ships.
 * - `aws-kms`: AWS KMS; the enclave signs with the host's AWS identity (instance role), which
 *   the host resolves with the SDK's provider chain and hands over on every `init`.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { readPublicState } from '../keyservice/state.js';
import type { WireAwsCredentials } from '../wire/messages.js';
import type { ApiConfig } from './config.js';
import { superviseEnclave, type Supervisor } from './supervisor.js';

export interface KeyServiceSetup {
  /** Environment for the enclave process: KMS_KEY_ID, KMS_REGION, KMS_ENDPOINT. */
  enclaveEnv: Record<string, string>;
  credentials: () => Promise<WireAwsCredentials>;
  supervisor: Supervisor | null;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

export async function setUpKeyService(
  config: Readonly<ApiConfig>,
  opts: {
    dataDir: string;
    enclaveBundle: string;
    keyServiceBundle: string;
    log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  },
): Promise<KeyServiceSetup> {
  if (config.KEY_SERVICE === 'aws-kms') {
    const kms = new KMSClient({ region: config.KMS_REGION! });
    return {
      enclaveEnv: {
        KMS_KEY_ID: config.KMS_KEY_ID!,
        KMS_REGION: config.KMS_REGION!,
        ...(config.KMS_ENDPOINT && { KMS_ENDPOINT: config.KMS_ENDPOINT }),
      },
      async credentials() {
        const c = await kms.config.credentials();
        return {
          access_key_id: c.accessKeyId,
          secret_access_key: c.secretAccessKey,
          session_token: c.sessionToken ?? null,
        };
      },
      supervisor: null,
    };
  }

  let url = config.KEYSERVICE_URL?.replace(/\/$/, '');
  let supervisor: Supervisor | null = null;
  if (!url) {
    // A fixed port for the life of the host, so a restarted key service keeps the enclave's endpoint.
    const port = await freeLoopbackPort();
    const pcr0 =
      config.KEYSERVICE_ALLOWED_PCR0 ??
      createHash('sha384').update(readFileSync(opts.enclaveBundle)).digest('hex');
    url = `http://127.0.0.1:${port}`;
    await new Promise<void>((ready) => {
      supervisor = superviseEnclave({
        bundle: opts.keyServiceBundle,
        env: {
          DATA_DIR: opts.dataDir,
          KEYSERVICE_PORT: String(port),
          KEYSERVICE_ALLOWED_PCR0: pcr0,
          LOG_LEVEL: config.LOG_LEVEL,
        },
        readyMarker: '"event":"keyservice_listening"',
        onLog: (line) => process.stderr.write(`${line}\n`),
        onReady: () => ready(),
        onExit: (code, signal) =>
          opts.log.warn(
            { event: 'keyservice_exit', code, signal },
            'key service exited; restarting',
          ),
      });
    });
    opts.log.info({ event: 'keyservice_ready', url }, 'local key service ready');
  }
  const state = readPublicState(opts.dataDir);
  return {
    enclaveEnv: { KMS_KEY_ID: state.key_arn, KMS_REGION: 'local', KMS_ENDPOINT: url },
    credentials: async () => {
      const s = readPublicState(opts.dataDir);
      return {
        access_key_id: s.access_key_id,
        secret_access_key: s.secret_access_key,
        session_token: null,
      };
    },
    supervisor,
  };
}
