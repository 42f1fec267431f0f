import { isIP } from 'node:net';
import { ConfigError, exchangeBaseUrls, loadConfig, rotationSchema } from '../runtime/config.js';

export interface ApiConfig {
  ENCLAVE_PORT: number;
  HOST: string;
  DATABASE_URL?: string;
  DATA_DIR: string;
  TEE_MODE: 'dev' | 'nitro';
  MAX_TTL_SECONDS: number;
  RATE_LIMIT_MAX: number;
  RATE_LIMIT_WINDOW: number;
  ALLOWED_ORIGINS: string[];
  REQUEST_TIMEOUT_MS: number;
  JOB_TIMEOUT_MS: number;
  ENCLAVE_SOCKET?: string;
  ENCLAVE_SPAWN: boolean;
  /** handed to the enclave it spawns: the Kraken verification tier of the accounts served */
  KRAKEN_TIER: 'starter' | 'intermediate' | 'pro';
  /** Nitro: the enclave's vsock address; the host bridges ENCLAVE_SOCKET to it with socat. */
  ENCLAVE_VSOCK_CID?: number;
  ENCLAVE_VSOCK_PORT?: number;
  /** Egress proxy: the exchange `host:port` pairs the enclave may reach (empty: no proxy). */
  EGRESS_ALLOW_HOSTS: string[];
  EGRESS_PROXY_PORT: number;
  /** Nitro: the vsock port on which the enclave's egress arrives (bridged to the proxy). */
  EGRESS_VSOCK_PORT?: number;
  SWEEP_INTERVAL_MS: number;
  LOG_LEVEL: string;
  /**
   * Whose `X-Forwarded-For` decides the client address (rate limits, logs): `false` nobody's (the
   * socket peer is the client), `true` every hop's (only when nothing can reach the host except
   * through a proxy that overwrites the header), or the addresses/CIDRs of the trusted proxies.
   */
  TRUST_PROXY: boolean | string[];
  /** Redis for rate-limit counters shared by every host instance; absent: per-process memory. */
  REDIS_URL?: string;
  /** Prefix of the rate-limit keys in Redis, to share one Redis between services or environments. */
  REDIS_KEY_PREFIX: string;
  /** How long SIGTERM waits for in-flight requests and jobs before the host exits anyway. */
  SHUTDOWN_GRACE_MS: number;
  /** Concurrent requests the enclave accepts; beyond it answers ENCLAVE_BUSY (503 at the edge). */
  ENCLAVE_MAX_INFLIGHT: number;
  /** Per-request timeout of the enclave's exchange calls (each retried a bounded number of times). */
  EXCHANGE_TIMEOUT_MS: number;
  /** How long the enclave remembers a passed submit-time key check, s (0: always ask). */
  KEY_CHECK_CACHE_SECONDS: number;
  /** start the bundled exchange simulator (src/api/demo-sim.ts); on by default in dev mode */
  EXCHANGE_SIM: boolean;
  KEY_ROTATION_HOURS: number;
  /** `local`: the dev key service (spawned unless KEYSERVICE_URL names one); `aws-kms`: AWS KMS. */
  KEY_SERVICE: 'local' | 'aws-kms';
  KEYSERVICE_URL?: string;
  /** Local key service policy (comma-separated PCR0); default: the enclave bundle being started. */
  KEYSERVICE_ALLOWED_PCR0?: string;
  KMS_KEY_ID?: string;
  KMS_REGION?: string;
  KMS_ENDPOINT?: string;
  /** Read the database credentials from this Secrets Manager secret (RDS secret JSON). */
  DATABASE_SECRET_ARN?: string;
  SECRETS_MANAGER_ENDPOINT?: string;
  AWS_REGION?: string;
  DATABASE_SECRET_REFRESH_MS: number;
  /** CA bundle for TLS to the database (verify-full); with a secret, TLS is on when this is set. */
  DATABASE_CA_FILE?: string;
  exchangeBaseUrls: Record<string, string>;
}

const schema = {
  type: 'object',
  properties: {
    ENCLAVE_PORT: { type: 'integer', minimum: 0, maximum: 65535, default: 3000 },
    HOST: { type: 'string', minLength: 1, default: '127.0.0.1' },
    // No default: a database URL can carry a password. Absent means the embedded PGlite.
    DATABASE_URL: { type: 'string', pattern: '^postgres(ql)?://' },
    DATA_DIR: { type: 'string', minLength: 1, default: './.data' },
    TEE_MODE: { type: 'string', enum: ['dev', 'nitro'], default: 'dev' },
    ...rotationSchema(),
    RATE_LIMIT_MAX: { type: 'integer', minimum: 1, default: 100 },
    RATE_LIMIT_WINDOW: { type: 'integer', minimum: 1000, default: 900000 },
    ALLOWED_ORIGINS: {
      type: 'string',
      default: '',
      pattern: '^(https?://[^,\\s]+)?(,https?://[^,\\s]+)*$',
    },
    REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 1000, maximum: 3600000, default: 120000 },
    // How long a background aggregates job may run (a full history download can take many minutes).
    JOB_TIMEOUT_MS: { type: 'integer', minimum: 1000, maximum: 86400000, default: 1800000 },
    ENCLAVE_SOCKET: { type: 'string', minLength: 1, maxLength: 100 },
    ENCLAVE_SPAWN: { type: 'boolean', default: true },
    KRAKEN_TIER: { type: 'string', enum: ['starter', 'intermediate', 'pro'], default: 'starter' },
    // CID 1 is VMADDR_CID_LOCAL (loopback); Nitro enclaves get 4 and up. 2^32-1 is VMADDR_CID_ANY.
    ENCLAVE_VSOCK_CID: { type: 'integer', minimum: 1, maximum: 4294967294 },
    ENCLAVE_VSOCK_PORT: { type: 'integer', minimum: 1, maximum: 4294967294 },
    // The host's own list, never read from the enclave: e.g. api.binance.com:443,api1.binance.com:443
    EGRESS_ALLOW_HOSTS: {
      type: 'string',
      default: '',
      pattern: '^([a-z0-9.-]+:[0-9]{1,5}(,[a-z0-9.-]+:[0-9]{1,5})*)?$',
    },
    EGRESS_PROXY_PORT: { type: 'integer', minimum: 1, maximum: 65535, default: 3128 },
    EGRESS_VSOCK_PORT: { type: 'integer', minimum: 1, maximum: 4294967294 },
    SWEEP_INTERVAL_MS: { type: 'integer', minimum: 1000, default: 60000 },
    LOG_LEVEL: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'],
      default: 'info',
    },
    TRUST_PROXY: { type: 'string', minLength: 1, maxLength: 2000, default: 'false' },
    // No default: the URL can carry a password.
    REDIS_URL: { type: 'string', pattern: '^rediss?://' },
    REDIS_KEY_PREFIX: {
      type: 'string',
      pattern: '^[A-Za-z0-9:_.-]{1,64}$',
      default: 'perf-aggregator:rl:',
    },
    SHUTDOWN_GRACE_MS: { type: 'integer', minimum: 0, maximum: 600000, default: 10000 },
    ENCLAVE_MAX_INFLIGHT: { type: 'integer', minimum: 1, maximum: 10000, default: 64 },
    EXCHANGE_TIMEOUT_MS: { type: 'integer', minimum: 100, maximum: 120000, default: 10000 },
    KEY_CHECK_CACHE_SECONDS: { type: 'integer', minimum: 0, maximum: 3600, default: 60 },
    // No default here: absent means "on in dev mode" (loadApiConfig).
    EXCHANGE_SIM: { type: 'boolean' },
    KEY_SERVICE: { type: 'string', enum: ['local', 'aws-kms'], default: 'local' },
    KEYSERVICE_URL: {
      type: 'string',
      pattern: '^http://(127\\.0\\.0\\.1|\\[::1\\]|localhost):\\d{1,5}/?$',
    },
    KEYSERVICE_ALLOWED_PCR0: { type: 'string', pattern: '^[0-9a-fA-F]{96}(,[0-9a-fA-F]{96})*$' },
    KMS_KEY_ID: {
      type: 'string',
      pattern: '^arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[A-Za-z0-9-]{1,64}$',
    },
    KMS_REGION: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' },
    KMS_ENDPOINT: { type: 'string', pattern: '^https://[^/\\s]+/?$' },
    DATABASE_SECRET_ARN: {
      type: 'string',
      pattern:
        '^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\\d{12}:secret:[A-Za-z0-9/_+=.@!-]{1,512}$',
    },
    SECRETS_MANAGER_ENDPOINT: { type: 'string', pattern: '^https?://[^/\\s]+/?$' },
    AWS_REGION: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' },
    DATABASE_SECRET_REFRESH_MS: { type: 'integer', minimum: 10_000, default: 3_600_000 },
    DATABASE_CA_FILE: { type: 'string', minLength: 1 },
  },
};

/** proxy-addr's named ranges, accepted as Fastify passes the list to it. */
const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyEntry(e: string): boolean {
  if (PROXY_KEYWORDS.has(e)) return true;
  const [addr, bits, ...rest] = e.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const max = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/** `false` | `true` | a comma-separated list of IP addresses, CIDRs or proxy-addr keywords. */
export function parseTrustProxy(raw: string): boolean | string[] {
  if (raw === 'false') return false;
  if (raw === 'true') return true;
  const list = raw.split(',').map((e) => e.trim());
  if (list.length === 0 || !list.every(isProxyEntry)) throw new ConfigError(['TRUST_PROXY']);
  return list;
}

export function loadApiConfig(env: NodeJS.ProcessEnv): Readonly<ApiConfig> {
  const raw = loadConfig<
    Omit<
      ApiConfig,
      'ALLOWED_ORIGINS' | 'EGRESS_ALLOW_HOSTS' | 'exchangeBaseUrls' | 'EXCHANGE_SIM' | 'TRUST_PROXY'
    > & {
      ALLOWED_ORIGINS: string;
      EGRESS_ALLOW_HOSTS: string;
      EXCHANGE_SIM?: boolean;
      TRUST_PROXY: string;
    }
  >(schema, env);
  const dev = raw.TEE_MODE === 'dev';
  const bad: string[] = [];
  // The exchange simulator is for TEE_MODE=dev only.
  if (raw.EXCHANGE_SIM === true && !dev) bad.push('EXCHANGE_SIM');
  if (raw.KEY_SERVICE === 'aws-kms' && !raw.KMS_KEY_ID) bad.push('KMS_KEY_ID');
  if (raw.KEY_SERVICE === 'aws-kms' && !raw.KMS_REGION) bad.push('KMS_REGION');
  if (raw.DATABASE_SECRET_ARN && raw.DATABASE_URL) bad.push('DATABASE_URL', 'DATABASE_SECRET_ARN');
  if (raw.DATABASE_SECRET_ARN && !raw.AWS_REGION) bad.push('AWS_REGION');
  // Retired keys live MAX_TTL_SECONDS after rotation: the enclave bounds its ring (1000 keys).
  if (raw.MAX_TTL_SECONDS / (raw.KEY_ROTATION_HOURS * 3600) > 998)
    bad.push('KEY_ROTATION_HOURS', 'MAX_TTL_SECONDS');
  const vsock = [raw.ENCLAVE_VSOCK_CID, raw.ENCLAVE_VSOCK_PORT].filter((v) => v !== undefined);
  if (vsock.length === 1) bad.push('ENCLAVE_VSOCK_CID', 'ENCLAVE_VSOCK_PORT');
  // A Nitro (or vsock) enclave is started by nitro-cli, never by this process.
  if ((vsock.length === 2 || raw.TEE_MODE === 'nitro') && raw.ENCLAVE_SPAWN)
    bad.push('ENCLAVE_SPAWN');
  const egress = raw.EGRESS_ALLOW_HOSTS ? raw.EGRESS_ALLOW_HOSTS.split(',') : [];
  if (egress.some((e) => Number(e.split(':')[1]) > 65535 || Number(e.split(':')[1]) < 1))
    bad.push('EGRESS_ALLOW_HOSTS');
  if (raw.EGRESS_VSOCK_PORT !== undefined && egress.length === 0) bad.push('EGRESS_ALLOW_HOSTS');
  if (bad.length > 0) throw new ConfigError([...new Set(bad)]);
  return Object.freeze({
    ...raw,
    EXCHANGE_SIM: raw.EXCHANGE_SIM ?? dev,
    EGRESS_ALLOW_HOSTS: egress,
    TRUST_PROXY: parseTrustProxy(raw.TRUST_PROXY),
    ALLOWED_ORIGINS: raw.ALLOWED_ORIGINS ? raw.ALLOWED_ORIGINS.split(',') : [],
    exchangeBaseUrls: exchangeBaseUrls(env),
  });
}
