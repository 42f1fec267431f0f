/**
 * Database credentials from AWS Secrets Manager (DATABASE_SECRET_ARN): the RDS secret JSON
 * (`username`, `password`, `host`, `port`, `dbname`, `engine`), read at start and again when the
 * secret rotates. No password is ever in config files, the environment or IaC state; it lives in
 * this process's memory and goes to PostgreSQL over the connection only.
 *
 * @example
 * const source = secretsManagerSource({ secretArn, region: 'eu-west-1' });
 * const db = await openDb({ dataDir, secret: source, role: 'app_service' });
 */
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { CodedError } from '../common/errors.js';

export type DbSecretCode = 'DB_SECRET_UNAVAILABLE' | 'DB_SECRET_INVALID';
export class DbSecretError extends CodedError<DbSecretCode> {}

export interface DbSecret {
  versionId: string;
  username: string;
  password: string;
  host: string;
  port: number;
  dbname: string;
}

export interface DbSecretSource {
  /** The cached secret, fetched on first use; `fresh` fetches the current version again. */
  get(fresh?: boolean): Promise<DbSecret>;
}

export interface SecretsManagerSourceOptions {
  secretArn: string;
  region: string;
  /** Override (a VPC endpoint, or a local fake in tests); default the regional endpoint. */
  endpoint?: string | undefined;
  /** Default: the SDK's provider chain (instance role in production). */
  credentials?: SecretsManagerClientConfig['credentials'];
}

const NAME_RE = /^[A-Za-z0-9_.@-]{1,63}$/;
const HOST_RE = /^[A-Za-z0-9.-]{1,253}$/;

/** Validates the RDS secret JSON; the error never contains the secret's text. */
export function parseDbSecret(text: string, versionId: string): DbSecret {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new DbSecretError('DB_SECRET_INVALID', 'the database secret is not JSON');
  }
  const port = typeof o['port'] === 'string' ? Number(o['port']) : o['port'];
  const dbname = o['dbname'] ?? 'postgres';
  if (
    typeof o !== 'object' ||
    o === null ||
    (o['engine'] !== undefined && o['engine'] !== 'postgres') ||
    typeof o['username'] !== 'string' ||
    !NAME_RE.test(o['username']) ||
    typeof o['password'] !== 'string' ||
    o['password'].length === 0 ||
    o['password'].length > 1024 ||
    typeof o['host'] !== 'string' ||
    !HOST_RE.test(o['host']) ||
    !Number.isInteger(port) ||
    (port as number) < 1 ||
    (port as number) > 65535 ||
    typeof dbname !== 'string' ||
    !NAME_RE.test(dbname)
  )
    throw new DbSecretError('DB_SECRET_INVALID', 'the database secret lacks a valid field');
  return {
    versionId,
    username: o['username'],
    password: o['password'],
    host: o['host'],
    port: port as number,
    dbname,
  };
}

export function secretsManagerSource(opts: SecretsManagerSourceOptions): DbSecretSource {
  const client = new SecretsManagerClient({
    region: opts.region,
    ...(opts.endpoint && { endpoint: opts.endpoint }),
    ...(opts.credentials && { credentials: opts.credentials }),
    maxAttempts: 3,
  });
  let cached: Promise<DbSecret> | null = null;
  const fetch = async (): Promise<DbSecret> => {
    let out;
    try {
      out = await client.send(new GetSecretValueCommand({ SecretId: opts.secretArn }));
    } catch (e) {
      throw new DbSecretError('DB_SECRET_UNAVAILABLE', 'the database secret could not be read', {
        cause: { name: (e as { name?: string }).name },
      });
    }
    if (typeof out.SecretString !== 'string' || typeof out.VersionId !== 'string')
      throw new DbSecretError('DB_SECRET_INVALID', 'the database secret has no SecretString');
    return parseDbSecret(out.SecretString, out.VersionId);
  };
  return {
    get(fresh = false) {
      if (fresh || !cached) {
        const next = fetch();
        cached = next;
        // A failed fetch is not cached: the next caller tries again.
        next.catch(() => {
          if (cached === next) cached = null;
        });
      }
      return cached;
    },
  };
}
