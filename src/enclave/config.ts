import { exchangeBaseUrls, loadConfig } from '../runtime/config.js';

export interface EnclaveConfig {
  ENCLAVE_SOCKET: string;
  DATA_DIR: string;
  TEE_MODE: 'dev';
  ENCLAVE_MAX_INFLIGHT: number;
  LOG_LEVEL: string;
  exchangeBaseUrls: Record<string, string>;
}

const schema = {
  type: 'object',
  required: ['ENCLAVE_SOCKET'],
  properties: {
    ENCLAVE_SOCKET: { type: 'string', minLength: 1, maxLength: 100 },
    DATA_DIR: { type: 'string', minLength: 1, default: './.data' },
    TEE_MODE: { type: 'string', enum: ['dev'], default: 'dev' },
    ENCLAVE_MAX_INFLIGHT: { type: 'integer', minimum: 1, maximum: 10000, default: 64 },
    LOG_LEVEL: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'silent'],
      default: 'info',
    },
  },
};

export function loadEnclaveConfig(env: NodeJS.ProcessEnv): Readonly<EnclaveConfig> {
  const base = loadConfig<Omit<EnclaveConfig, 'exchangeBaseUrls'>>(schema, env);
  return Object.freeze({ ...base, exchangeBaseUrls: exchangeBaseUrls(env) });
}
