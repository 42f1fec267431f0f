import { ConfigError, exchangeBaseUrls, loadConfig, rotationSchema } from '../runtime/config.js';
import { MAX_CREDENTIAL_KEYS } from './keyring.js';

export interface EnclaveConfig {
  ENCLAVE_SOCKET: string;
  DATA_DIR: string;
  TEE_MODE: 'dev' | 'nitro';
  /** nitro: the nsm-attest helper binary and the device it opens. */
  NSM_HELPER: string;
  NSM_DEVICE: string;
  /** Nitro: the vsock port the host connects to; socat bridges it to ENCLAVE_SOCKET. */
  ENCLAVE_VSOCK_PORT?: number;
  /** Exchange HTTPS goes through this local CONNECT proxy (the host's egress proxy). */
  EGRESS_PROXY_URL?: string;
  /** Nitro: carry the proxy port over vsock to the parent (CID 3) on this port. */
  EGRESS_VSOCK_PORT?: number;
  ENCLAVE_MAX_INFLIGHT: number;
  /** per-request timeout of exchange calls, ms (each call is retried a bounded number of times) */
  EXCHANGE_TIMEOUT_MS: number;
  LOG_LEVEL: string;
  /** The KMS key that wraps the ring: a full key ARN (KMS answers with the ARN; it is checked). */
  KMS_KEY_ID: string;
  KMS_REGION: string;
  /** Default: the regional AWS endpoint. Plain http only in dev mode (the local key service). */
  KMS_ENDPOINT?: string;
  KEY_ROTATION_HOURS: number;
  MAX_TTL_SECONDS: number;
  /**
   * The verification tier of the Kraken accounts this enclave serves (ratelimits.md): it sets the
   * per-key call counter the adapter paces itself to. Kraken's API does not report it, so the
   * operator states it; the default is Starter, the slowest, which is safe for every account.
   */
  KRAKEN_TIER: 'starter' | 'intermediate' | 'pro';
  /** how long a passed submit-time key check is remembered, s (0: ask the exchange every time) */
  KEY_CHECK_CACHE_SECONDS: number;
  exchangeBaseUrls: Record<string, string>;
}

const schema = {
  type: 'object',
  required: ['ENCLAVE_SOCKET', 'KMS_KEY_ID'],
  properties: {
    ENCLAVE_SOCKET: { type: 'string', minLength: 1, maxLength: 100 },
    DATA_DIR: { type: 'string', minLength: 1, default: './.data' },
    TEE_MODE: { type: 'string', enum: ['dev', 'nitro'], default: 'dev' },
    NSM_HELPER: { type: 'string', pattern: '^/', default: '/usr/local/bin/nsm-attest' },
    NSM_DEVICE: { type: 'string', pattern: '^/', default: '/dev/nsm' },
    ENCLAVE_VSOCK_PORT: { type: 'integer', minimum: 1, maximum: 4294967294 },
    // Local only: in Nitro it is the enclave end of the egress bridge, in dev the host's proxy.
    EGRESS_PROXY_URL: {
      type: 'string',
      pattern: '^http://(127\\.0\\.0\\.1|localhost):[1-9][0-9]{0,4}/?$',
    },
    EGRESS_VSOCK_PORT: { type: 'integer', minimum: 1, maximum: 4294967294 },
    ENCLAVE_MAX_INFLIGHT: { type: 'integer', minimum: 1, maximum: 10000, default: 64 },
    EXCHANGE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 120000, default: 10000 },
    LOG_LEVEL: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'],
      default: 'info',
    },
    KMS_KEY_ID: {
      type: 'string',
      pattern: '^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]{1,64}$',
    },
    KMS_REGION: { type: 'string', pattern: '^[a-z0-9-]{1,32}$', default: 'local' },
    KMS_ENDPOINT: { type: 'string', pattern: '^https?://[^/\\s]+/?$' },
    KRAKEN_TIER: { type: 'string', enum: ['starter', 'intermediate', 'pro'], default: 'starter' },
    KEY_CHECK_CACHE_SECONDS: { type: 'integer', minimum: 0, maximum: 3600, default: 60 },
    ...rotationSchema(),
  },
};

export function loadEnclaveConfig(env: NodeJS.ProcessEnv): Readonly<EnclaveConfig> {
  const base = loadConfig<Omit<EnclaveConfig, 'exchangeBaseUrls'>>(schema, env);
  // TLS to KMS must end in here: plain http is for the dev key service on loopback only.
  if (
    base.KMS_ENDPOINT?.startsWith('http://') &&
    (base.TEE_MODE !== 'dev' ||
      !/^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:\d+)?\/?$/.test(base.KMS_ENDPOINT))
  )
    throw new ConfigError(['KMS_ENDPOINT']);
  // Retired keys live MAX_TTL_SECONDS after rotation: keep the ring to a bounded size.
  if (base.MAX_TTL_SECONDS / (base.KEY_ROTATION_HOURS * 3600) > MAX_CREDENTIAL_KEYS - 2)
    throw new ConfigError(['KEY_ROTATION_HOURS', 'MAX_TTL_SECONDS']);
  if (base.EGRESS_VSOCK_PORT !== undefined && base.EGRESS_PROXY_URL === undefined)
    throw new ConfigError(['EGRESS_PROXY_URL']);
  return Object.freeze({ ...base, exchangeBaseUrls: exchangeBaseUrls(env) });
}
