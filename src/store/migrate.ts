/**
 * Forward-only SQL migrations from `./migrations/NNNN_name.sql`, each applied in its own
 * transaction and recorded with its SHA-256 in `schema_migrations`. Safe on every start and from
 * several processes at once: a transaction-scoped advisory lock serialises appliers of one
 * database, and a file edited after it was applied is refused rather than silently skipped.
 *
 * @example
 * const db = await openDb({ dataDir: './.data' });
 * const { applied } = await migrate(db); // ['0001_init', …] the first time, [] afterwards
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { StoreError, type Db, type Queryable } from './db.js';

export interface Migration {
  version: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  /** Every version recorded after this run. */
  current: string[];
}

/** Where the SQL files live; bundlers must copy this directory next to the built module. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

// Arbitrary constant shared by every migrator of this schema ("perf-agg" in ASCII).
const LOCK_KEY = 0x70657266_616767n;
const FILE_RE = /^(\d{4}_[a-z0-9_]+)\.sql$/;

export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => FILE_RE.test(n)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name), 'utf8');
      const version = FILE_RE.exec(name)![1]!;
      return { version, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

async function tableExists(q: Queryable): Promise<boolean> {
  // A plain query on pg_tables, not to_regclass(): to_regclass reads the catalog cache, which may
  // not yet show a table that a concurrent migrator committed while we waited for the lock.
  const [row] = await q.query<{ ok: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = 'public' AND tablename = 'schema_migrations') AS ok",
  );
  return row?.ok === true;
}

async function recorded(q: Queryable): Promise<Map<string, string>> {
  if (!(await tableExists(q))) return new Map();
  const rows = await q.query<{ version: string; checksum: string }>(
    'SELECT version, checksum FROM schema_migrations ORDER BY version',
  );
  return new Map(rows.map((r) => [r.version, r.checksum]));
}

function checkDrift(m: Migration, seen: Map<string, string>): boolean {
  const sum = seen.get(m.version);
  if (sum === undefined) return false;
  if (sum !== m.checksum) throw new StoreError('STORE_MIGRATION');
  return true;
}

/** Applies pending migrations in order. Throws StoreError('STORE_MIGRATION') on checksum drift. */
export async function migrate(db: Db, migrations?: Migration[]): Promise<MigrateResult> {
  const all = migrations ?? (await loadMigrations());
  // Fast path, lock-free: the usual start finds everything applied. This is also all a
  // role-restricted host (SELECT on schema_migrations only) can do.
  const before = await recorded(db);
  if (all.every((m) => checkDrift(m, before))) {
    return { applied: [], current: [...before.keys()] };
  }

  const applied: string[] = [];
  for (const m of all) {
    const didApply = await db.tx(async (q) => {
      // Held until this transaction ends; a concurrent migrator waits here, then sees our row.
      await q.query('SELECT pg_advisory_xact_lock($1::bigint)', [LOCK_KEY.toString()]);
      if (!(await tableExists(q))) {
        await q.exec(`CREATE TABLE schema_migrations (
          version    text        PRIMARY KEY,
          checksum   text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      }
      if (checkDrift(m, await recorded(q))) return false;
      await q.exec(m.sql);
      await q.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [
        m.version,
        m.checksum,
      ]);
      return true;
    });
    if (didApply) applied.push(m.version);
  }
  return { applied, current: [...(await recorded(db)).keys()] };
}
