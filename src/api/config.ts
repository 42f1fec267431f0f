import { exchangeBaseUrls, loadConfig } from '../runtime/config.js';

export interface ApiConfig {
  ENCLAVE_PORT: number;
  HOST: string;
  DATABASE_URL?: string;
  DATA_DIR: string;
  TEE_MODE: 'dev';
  MAX_TTL_SECONDS: number;
  RATE_LIMIT_MAX: number;
  RATE_LIMIT_WINDOW: number;
  ALLOWED_ORIGINS: string[];
  REQUEST_TIMEOUT_MS: number;
  ENCLAVE_SOCKET?: string;
  ENCLAVE_SPAWN: boolean;
  SWEEP_INTERVAL_MS: number;
  LOG_LEVEL: string;
  TRUST_PROXY: boolean;
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
    TEE_MODE: { type: 'string', enum: ['dev'], default: 'dev' },
    MAX_TTL_SECONDS: { type: 'integer', minimum: 60, maximum: 31536000, default: 604800 },
    RATE_LIMIT_MAX: { type: 'integer', minimum: 1, default: 100 },
    RATE_LIMIT_WINDOW: { type: 'integer', minimum: 1000, default: 900000 },
    ALLOWED_ORIGINS: {
      type: 'string',
      default: '',
      pattern: '^(https?://[^,\\s]+)?(,https?://[^,\\s]+)*$',
    },
    REQUEST_TIMEOUT_MS: { type: 'integer', minimum: 1000, maximum: 3600000, default: 120000 },
    ENCLAVE_SOCKET: { type: 'string', minLength: 1, maxLength: 100 },
    ENCLAVE_SPAWN: { type: 'boolean', default: true },
    SWEEP_INTERVAL_MS: { type: 'integer', minimum: 1000, default: 60000 },
    LOG_LEVEL: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'],
      default: 'info',
    },
    TRUST_PROXY: { type: 'boolean', default: false },
  },
};

export function loadApiConfig(env: NodeJS.ProcessEnv): Readonly<ApiConfig> {
  const raw = loadConfig<
    Omit<ApiConfig, 'ALLOWED_ORIGINS' | 'exchangeBaseUrls'> & { ALLOWED_ORIGINS: string }
  >(schema, env);
  return Object.freeze({
    ...raw,
    ALLOWED_ORIGINS: raw.ALLOWED_ORIGINS ? raw.ALLOWED_ORIGINS.split(',') : [],
    exchangeBaseUrls: exchangeBaseUrls(env),
  });
}
