/**
 * Config is validated once at start against a JSON Schema (env-schema, from the Fastify
 * ecosystem), then frozen. A failure names the bad variables, never their values.
 */
import envSchema from 'env-schema';
import { CodedError } from '../common/errors.js';

export class ConfigError extends CodedError<'ERR_CONFIG'> {
  constructor(readonly variables: string[]) {
    super('ERR_CONFIG', `invalid configuration: ${variables.join(', ')}`);
  }
}

export function loadConfig<T>(schema: object, env: NodeJS.ProcessEnv): Readonly<T> {
  try {
    // Copy only strings: env-schema coerces in place.
    return Object.freeze(envSchema<T>({ schema, data: { ...env }, env: false, dotenv: false }));
  } catch (e) {
    const errors =
      (e as { errors?: { instancePath?: string; params?: { missingProperty?: string } }[] })
        .errors ?? [];
    const names = errors
      .map((x) => x.params?.missingProperty ?? (x.instancePath ?? '').replace(/^\//, ''))
      .filter(Boolean);
    throw new ConfigError(names.length > 0 ? [...new Set(names)] : ['(unknown)']);
  }
}

/**
 * Collects and validates `EXCHANGE_BASE_URL_<ID>` variables, e.g. EXCHANGE_BASE_URL_BINANCE →
 * { binance: url }. A base URL is a scheme and host (and port) only: paths are kept from ccxt.
 */
export function exchangeBaseUrls(env: NodeJS.ProcessEnv): Record<string, string> {
  const prefix = 'EXCHANGE_BASE_URL_';
  const names = Object.keys(env).filter((k) => k.startsWith(prefix) && env[k]);
  const properties = Object.fromEntries(
    names.map((k) => [k, { type: 'string', pattern: '^https?://[^/\\s]+/?$' }]),
  );
  const valid = loadConfig<Record<string, string>>(
    { type: 'object', properties },
    Object.fromEntries(names.map((k) => [k, env[k]])),
  );
  return Object.fromEntries(names.map((k) => [k.slice(prefix.length).toLowerCase(), valid[k]!]));
}

/** Shared by host and enclave config: the credential-key rotation period and the session TTL bound. */
export function rotationSchema() {
  return {
    // Fractions allowed (0.001 h = 3.6 s) so a short rotation can be configured for a demo.
    KEY_ROTATION_HOURS: { type: 'number', minimum: 0.001, maximum: 8760, default: 24 },
    MAX_TTL_SECONDS: { type: 'integer', minimum: 60, maximum: 31536000, default: 604800 },
  } as const;
}

/** Exit path for entry points: one line naming the variables, exit code 78 (EX_CONFIG). */
export function exitOnConfigError(e: unknown): never {
  if (e instanceof ConfigError) {
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', msg: e.message, variables: e.variables })}\n`,
    );
    process.exit(78);
  }
  throw e;
}
