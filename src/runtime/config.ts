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
    return Object.freeze(envSchema<T>({ schema, data: { ...env }, dotenv: false }));
  } catch (e) {
    const errors = (e as { errors?: { instancePath?: string; params?: { missingProperty?: string } }[] }).errors ?? [];
    const names = errors.map((x) => x.params?.missingProperty ?? (x.instancePath ?? '').replace(/^\//, '')).filter(Boolean);
    throw new ConfigError(names.length > 0 ? [...new Set(names)] : ['(unknown)']);
  }
}

/** Collects `PREFIX<ID>` variables, e.g. EXCHANGE_BASE_URL_BINANCE → { binance: url }. */
export function prefixed(env: NodeJS.ProcessEnv, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith(prefix) && v) out[k.slice(prefix.length).toLowerCase()] = v;
  return out;
}

/** Exit path for entry points: one line naming the variables, exit code 78 (EX_CONFIG). */
export function exitOnConfigError(e: unknown): never {
  if (e instanceof ConfigError) {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: e.message, variables: e.variables })}\n`);
    process.exit(78);
  }
  throw e;
}
