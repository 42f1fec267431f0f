/**
 * One small database interface over PGlite (embedded, dev/tests) and node-postgres (production),
 * with the same JS types from both and errors that never carry driver text.
 *
 * @example
 * const db = await openDb({ dataDir: './.data', role: 'app_service' });
 * const [row] = await db.query<{ n: number }>('SELECT count(*) AS n FROM sessions');
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { CodedError } from '../common/errors.js';
import { migrate } from './migrate.js';
import type { DbSecret, DbSecretSource } from './db-secret.js';

/**
 * Store failures with stable codes. The API maps them to HTTP statuses; nothing here ever carries
 * driver text, SQL or bind parameters, because those hold session ids, ciphertext and connection
 * details (a PGlite error even carries the query's `params`).
 */
export type StoreCode =
  | 'STORE_UNAVAILABLE' // cannot reach the database, or it is shutting down
  | 'STORE_TIMEOUT' // statement_timeout or cancel
  | 'STORE_CONSTRAINT' // a CHECK / UNIQUE / FK / NOT NULL rejected the row
  | 'STORE_PERMISSION' // the role lacks a privilege (a bug or an attack, never a user error)
  | 'STORE_CONFLICT' // serialization failure or deadlock: safe to retry
  | 'STORE_INVALID_ARGUMENT' // data exception (bad value for a type, out-of-range batch…)
  | 'STORE_SESSION_INACTIVE' // write for a session that is revoked, expired or unknown
  | 'STORE_MIGRATION' // a recorded migration no longer matches its file
  | 'STORE_QUERY'; // anything else

const MESSAGES: Record<StoreCode, string> = {
  STORE_UNAVAILABLE: 'database unavailable',
  STORE_TIMEOUT: 'database operation timed out',
  STORE_CONSTRAINT: 'value rejected by a database constraint',
  STORE_PERMISSION: 'database permission denied',
  STORE_CONFLICT: 'database conflict, retry',
  STORE_INVALID_ARGUMENT: 'invalid value for the database',
  STORE_SESSION_INACTIVE: 'session is not active',
  STORE_MIGRATION: 'database migration failed',
  STORE_QUERY: 'database query failed',
};

/**
 * The only fields of a driver error we keep. All are identifiers chosen by us or by PostgreSQL,
 * never data: message, detail ("Failing row contains (…)"), query, params and where are dropped.
 */
export interface DriverErrorSummary {
  sqlState?: string;
  constraint?: string;
  table?: string;
  column?: string;
  routine?: string;
  /** Node system error code (ECONNREFUSED…) for connection failures. */
  errno?: string;
}

export class StoreError extends CodedError<StoreCode> {
  /** SQLSTATE of the driver error, when there was one (for example '23514', '42501'). */
  readonly sqlState: string | undefined;
  /** Name of the violated constraint, when there was one. */
  readonly constraint: string | undefined;

  constructor(code: StoreCode, summary: DriverErrorSummary = {}) {
    // The cause is a scrubbed summary, not the driver error itself: loggers serialise `cause`.
    super(code, MESSAGES[code], { cause: summary });
    this.sqlState = summary.sqlState;
    this.constraint = summary.constraint;
  }
}

function pickString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : undefined;
}

/** Maps a SQLSTATE (or its absence) to a store code. */
export function codeForSqlState(state: string | undefined): StoreCode {
  if (state === undefined) return 'STORE_UNAVAILABLE'; // socket errors, closed pool/PGlite
  if (state === '42501') return 'STORE_PERMISSION';
  if (state === '57014') return 'STORE_TIMEOUT';
  if (state === '40001' || state === '40P01' || state === '55P03') return 'STORE_CONFLICT';
  const cls = state.slice(0, 2);
  if (cls === '23') return 'STORE_CONSTRAINT';
  if (cls === '22') return 'STORE_INVALID_ARGUMENT';
  if (cls === '08' || cls === '53' || cls === '57' || cls === '28' || state === '3D000') {
    return 'STORE_UNAVAILABLE';
  }
  return 'STORE_QUERY';
}

/** Converts anything a driver threw into a StoreError; StoreErrors pass through unchanged. */
export function toStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const o = typeof err === 'object' && err !== null ? (err as Record<string, unknown>) : {};
  const rawCode = pickString(o, 'code');
  // SQLSTATEs are five [0-9A-Z] chars; Node system errors use E-prefixed names.
  // No SQLSTATE class starts with E, so EPIPE is not mistaken for one.
  const errno = rawCode !== undefined && /^E[A-Z0-9_]+$/.test(rawCode) ? rawCode : undefined;
  const sqlState =
    errno === undefined && rawCode !== undefined && /^[0-9A-Z]{5}$/.test(rawCode)
      ? rawCode
      : undefined;
  const summary: DriverErrorSummary = {};
  if (sqlState !== undefined) summary.sqlState = sqlState;
  if (errno !== undefined) summary.errno = errno;
  for (const k of ['constraint', 'table', 'column', 'routine'] as const) {
    const v = pickString(o, k);
    if (v !== undefined) summary[k] = v;
  }
  return new StoreError(codeForSqlState(sqlState), summary);
}

// ---------------------------------------------------------------------------------------------
// The interface

/** Something that runs SQL: the database itself, or one transaction of it. */
export interface Queryable {
  /** One parameterized statement; rows as objects with normalised types (see below). */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements, no parameters: migrations only. */
  exec(sql: string): Promise<void>;
}

/**
 * Types are the same on both engines: int8/count → number (throws beyond 2^53), bytea →
 * Uint8Array (a copy, never a Buffer), timestamptz → Date, json/jsonb → parsed, numeric → string.
 */
export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction on one connection; rolls back if it throws. Not reentrant. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Idempotent. */
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /** postgres:// URL; without it (and without `secret`), PGlite stores the database in `<dataDir>/pgdata`. */
  databaseUrl?: string | undefined;
  /**
   * PostgreSQL credentials from a rotating secret (Secrets Manager). On an authentication failure
   * the secret is fetched again and the pool rebuilt; it is also re-read every `refreshMs`.
   */
  secret?: { source: DbSecretSource; refreshMs: number; ca?: string | undefined } | undefined;
  dataDir: string;
  /**
   * Role every connection switches to (`SET ROLE`), for example 'app_service', so the host runs
   * with that role's rights only. PGlite is migrated first, as its superuser, then switched.
   */
  role?: string | undefined;
}

const OID_INT8 = 20;
const OID_BYTEA = 17;

function int8ToNumber(text: string): number {
  const n = Number(text);
  // Counts and identities stay far below 2^53; anything beyond would silently lose precision.
  if (!Number.isSafeInteger(n)) throw new StoreError('STORE_INVALID_ARGUMENT');
  return n;
}

const ROLE_RE = /^[a-z_][a-z0-9_]{0,62}$/;

function quoteRole(role: string): string {
  // An identifier cannot be a bind parameter; accept only plain lowercase names.
  if (!ROLE_RE.test(role)) throw new StoreError('STORE_INVALID_ARGUMENT');
  return `"${role}"`;
}

/**
 * Runs a driver call and converts what it throws. Errors thrown by a caller's own callback must
 * not pass through here, so that tx() rethrows them untouched.
 */
async function guard<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw toStoreError(err);
  }
}

// ---------------------------------------------------------------------------------------------
// PGlite

interface PgliteLike {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  exec(sql: string): Promise<unknown>;
}

function pgliteQueryable(conn: PgliteLike): Queryable {
  return {
    query: <T>(sql: string, params: readonly unknown[] = []) =>
      guard(async () => (await conn.query<T>(sql, [...params])).rows),
    exec: (sql) => guard(async () => void (await conn.exec(sql))),
  };
}

async function openPglite(dataDir: string, role: string | undefined): Promise<Db> {
  const dir = join(dataDir, 'pgdata');
  await mkdir(dir, { recursive: true });
  const lite = await guard(() =>
    PGlite.create(dir, {
      parsers: { [pgliteTypes.INT8]: int8ToNumber },
    }),
  );
  let closed = false;
  const db: Db = {
    kind: 'pglite',
    ...pgliteQueryable(lite),
    async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      // PGlite's transaction() rethrows the callback's own error; remember it to tell it apart
      // from a BEGIN/COMMIT failure, which is the driver's and must be converted.
      let own: { err: unknown } | undefined;
      try {
        return await lite.transaction(async (t) => {
          try {
            return await fn(pgliteQueryable(t));
          } catch (err) {
            own = { err };
            throw err;
          }
        });
      } catch (err) {
        if (own !== undefined && own.err === err) throw err;
        throw toStoreError(err);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await guard(() => lite.close());
    },
  };
  if (role !== undefined) {
    const quoted = quoteRole(role);
    try {
      // Embedded: there is no separate migration step with owner credentials, so migrate here,
      // as the superuser, and only then drop to the role for the life of this single session.
      await migrate(db);
      await db.exec(`SET ROLE ${quoted}`);
    } catch (err) {
      await db.close();
      throw err;
    }
  }
  return db;
}

// ---------------------------------------------------------------------------------------------
// node-postgres

function pgTypeParser(oid: number, format?: string): (value: string) => unknown {
  if (oid === OID_INT8) return int8ToNumber;
  if (oid === OID_BYTEA) {
    const parseBytea = pg.types.getTypeParser(OID_BYTEA, 'text') as (v: string) => Buffer;
    // Copy: a small Buffer is a view into a shared pool, whose other bytes must not leak.
    return (v) => new Uint8Array(parseBytea(v));
  }
  return pg.types.getTypeParser(oid, format as 'text') as (value: string) => unknown;
}

/**
 * Named (prepared) statements: PostgreSQL parses and plans each statement text once per
 * connection instead of on every call, which took about a third of the database's CPU per
 * submit_key (docs/benchmarks.md). pg prepares a name on each connection the first time it runs
 * there. The store's statements are constant texts, so the map stays small; past the cap (some
 * caller building SQL dynamically) statements run unnamed rather than accumulate on the server.
 */
const statementNames = new Map<string, string>();
const MAX_NAMED_STATEMENTS = 256;
function statementName(sql: string): string | undefined {
  let name = statementNames.get(sql);
  if (name === undefined && statementNames.size < MAX_NAMED_STATEMENTS) {
    name = `pa_${statementNames.size}`;
    statementNames.set(sql, name);
  }
  return name;
}

function pgQueryable(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    query: <T>(sql: string, params: readonly unknown[] = []) =>
      guard(async () => {
        const name = statementName(sql);
        const values = [...params];
        const res = await client.query(
          name === undefined ? { text: sql, values } : { name, text: sql, values },
        );
        return res.rows as T[];
      }),
    // No values → the simple protocol, which accepts several statements.
    exec: (sql) => guard(async () => void (await client.query(sql))),
  };
}

function openPostgres(connection: string | pg.PoolConfig, role: string | undefined): Db {
  const setRole = role === undefined ? undefined : `SET ROLE ${quoteRole(role)}`;
  const pool = new pg.Pool({
    ...(typeof connection === 'string' ? { connectionString: connection } : connection),
    // 20, not 10: at 32 concurrent submit_key requests a pool of 10 queues checkouts (each with its
    // own connect timer) and commits group less; 20 gave 10–18 % more req/s at lower CPU per
    // request in paired runs (docs/benchmarks.md). Idle connections close after 30 s.
    max: 20,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // No waiting inside the database: a stuck statement or transaction fails instead of piling up.
    statement_timeout: 15_000,
    idle_in_transaction_session_timeout: 30_000,
    application_name: 'perf-aggregator',
    types: { getTypeParser: pgTypeParser as typeof pg.types.getTypeParser },
    // Awaited by pg-pool before the connection is handed out; a failure fails the checkout.
    onConnect:
      setRole === undefined ? undefined : async (client) => void (await client.query(setRole)),
  });
  // An idle connection that dies emits 'error' on the pool; without a listener Node would crash.
  // The next checkout opens a fresh connection or fails as STORE_UNAVAILABLE.
  pool.on('error', () => {});
  let closed = false;
  return {
    kind: 'postgres',
    ...pgQueryable(pool),
    async tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
      const client = await guard(() => pool.connect());
      let destroy = false;
      // A checked-out connection that dies (the server restarts while this transaction waits on
      // something else, e.g. the enclave) emits 'error' on the client, where the pool listens only
      // while it is idle: unheard, Node would crash the host. The statement in progress, or the
      // next one, fails as STORE_UNAVAILABLE; the connection is discarded on release.
      const onError = () => {
        destroy = true;
      };
      client.on('error', onError);
      try {
        await guard(() => client.query('BEGIN'));
        const out = await fn(pgQueryable(client));
        await guard(() => client.query('COMMIT'));
        return out;
      } catch (err) {
        // err is either already a StoreError (driver) or the callback's own error: rethrow as is.
        try {
          await client.query('ROLLBACK');
        } catch {
          destroy = true; // the connection is in an unknown state: do not reuse it
        }
        throw err;
      } finally {
        client.removeListener('error', onError);
        client.release(destroy);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await guard(() => pool.end());
    },
  };
}

// ---------------------------------------------------------------------------------------------
// node-postgres with rotating credentials

/** invalid_password, invalid_authorization_specification (e.g. a role renamed by rotation). */
const AUTH_FAILED = new Set(['28P01', '28000']);
/** Do not hammer Secrets Manager when the database keeps refusing: one forced re-read per second. */
const MIN_FORCED_REFRESH_MS = 1000;

function poolConfig(s: DbSecret, ca: string | undefined): pg.PoolConfig {
  return {
    host: s.host,
    port: s.port,
    database: s.dbname,
    user: s.username,
    password: s.password,
    // RDS sets rds.force_ssl; with the CA bundle given, verify the server fully.
    ...(ca !== undefined && { ssl: { ca, rejectUnauthorized: true } }),
  };
}

async function openPostgresWithSecret(
  secret: NonNullable<OpenDbOptions['secret']>,
  role: string | undefined,
): Promise<Db> {
  const first = await secret.source.get();
  let current = { version: first.versionId, db: openPostgres(poolConfig(first, secret.ca), role) };
  let refreshing: Promise<void> | null = null;
  let lastForced = 0;
  let closed = false;

  const refresh = (): Promise<void> => {
    refreshing ??= (async () => {
      try {
        const s = await secret.source.get(true);
        if (closed || s.versionId === current.version) return;
        const old = current;
        current = { version: s.versionId, db: openPostgres(poolConfig(s, secret.ca), role) };
        // pool.end() waits for checked-out clients: in-flight work finishes on the old pool.
        void old.db.close().catch(() => {});
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  };

  const timer = setInterval(() => void refresh().catch(() => {}), secret.refreshMs);
  timer.unref();

  /** Runs `fn`; when the database refuses the credentials, re-reads the secret and retries once. */
  const withRecovery = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
    const db = current.db;
    try {
      return await fn(db);
    } catch (err) {
      if (!(err instanceof StoreError) || !AUTH_FAILED.has(err.sqlState ?? '')) throw err;
      if (db === current.db) {
        if (Date.now() - lastForced < MIN_FORCED_REFRESH_MS) throw err;
        lastForced = Date.now();
        await refresh().catch(() => {
          throw err;
        });
        if (db === current.db) throw err; // the secret has not changed (yet): fail this request
      }
      // Authentication happens at connect, before `fn` ran a statement, so retrying is safe.
      return fn(current.db);
    }
  };

  return {
    kind: 'postgres',
    query: (sql, params) => withRecovery((db) => db.query(sql, params)),
    exec: (sql) => withRecovery((db) => db.exec(sql)),
    tx: (fn) => withRecovery((db) => db.tx(fn)),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await current.db.close();
    },
  };
}

/**
 * Opens PGlite in `<dataDir>/pgdata`, or a pool on `databaseUrl` or on the credentials in `secret`.
 * Does not migrate PostgreSQL.
 */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.secret !== undefined) return openPostgresWithSecret(opts.secret, opts.role);
  if (opts.databaseUrl !== undefined && opts.databaseUrl !== '') {
    return openPostgres(opts.databaseUrl, opts.role);
  }
  return openPglite(opts.dataDir, opts.role);
}
