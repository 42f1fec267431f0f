/**
 * A fresh, migrated database per call, on the engine the run targets:
 * - DATABASE_URL set → `CREATE DATABASE t_<random>` on that server, migrated, dropped on close;
 * - otherwise → a copy of the PGlite template (.cache/pglite-template, kept by
 *   scripts/prepare-test-db.mjs) in a tmp dir, removed on close.
 *
 * `db` is connected as the superuser/owner, for arranging fixtures and inspecting storage; `store`
 * runs every statement as app_service, so store tests also prove the host's grants suffice.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { openDb, type Db, type Queryable } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/types.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const templateDir = join(root, '.cache/pglite-template/pgdata');
// Copying the 39 MB template to tmpfs takes ~0.1 s, to this disk ~1–1.8 s.
const scratchDir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

export interface TestDb {
  db: Db;
  store: Store;
  /** The same database as `db`, every statement run as app_service (what the host uses). */
  appDb: Db;
  dataDir: string;
  kind: Db['kind'];
  /** URL of the fresh database (postgres runs only). */
  databaseUrl: string | undefined;
  /** Everything the database holds, as text, for canary searches (see dumpText below). */
  dumpText(): Promise<string>;
  close(): Promise<void>;
}

let templateReady = false;

function ensureTemplate(): void {
  if (templateReady) return;
  // Cheap when fresh (one hash); builds it when the run skipped `pretest` or migrations changed.
  execFileSync(process.execPath, [join(root, 'scripts/prepare-test-db.mjs')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'], // a failed build explains itself on stderr
  });
  templateReady = true;
}

function asAppService(db: Db): { appDb: Db; store: Store } {
  const appDb = asRole(db, 'app_service');
  return { appDb, store: createStore(appDb) };
}

/** Runs every statement of `db` as `role`, inside a transaction with SET LOCAL ROLE. */
export function asRole(db: Db, role: string): Db {
  if (!/^[a-z_][a-z0-9_]*$/.test(role)) throw new Error('bad role name');
  // SET LOCAL, not SET: the role cannot leak to the next statement, even on failure, and a pool
  // cannot run the SET and the query on two different connections.
  const setRole = `SET LOCAL ROLE "${role}"`;
  const inRole = <T>(fn: (q: Queryable) => Promise<T>) =>
    db.tx(async (q) => {
      await q.query(setRole);
      return fn(q);
    });
  return {
    kind: db.kind,
    query: (sql, params) => inRole((q) => q.query(sql, params)),
    exec: (sql) => inRole((q) => q.exec(sql)),
    tx: inRole,
    close: () => db.close(),
  };
}

/** Runs one statement as `role` (e.g. 'operator_readonly') and resets the role afterwards. */
export function queryAs<T = Record<string, unknown>>(
  db: Db,
  role: string,
  sql: string,
  params?: readonly unknown[],
): Promise<T[]> {
  return asRole(db, role).query<T>(sql, params);
}

async function readAllFiles(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) parts.push((await readFile(join(e.parentPath, e.name))).toString('latin1'));
  }
  return parts.join('\n');
}

async function openPgliteTestDb(): Promise<TestDb> {
  ensureTemplate();
  const dataDir = await mkdtemp(join(scratchDir, 'perf-agg-test-'));
  await cp(templateDir, join(dataDir, 'pgdata'), { recursive: true });
  const db = await openDb({ dataDir });
  await migrate(db); // no-op; fails loudly if the template were stale
  return {
    db,
    ...asAppService(db),
    dataDir,
    kind: db.kind,
    databaseUrl: undefined,
    async dumpText() {
      // Raw bytes of every file (heap, WAL, indexes…): what a disk thief would get. CHECKPOINT
      // first so pages still in PGlite's shared buffers reach the files.
      await db.exec('CHECKPOINT');
      return readAllFiles(join(dataDir, 'pgdata'));
    },
    async close() {
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function openPostgresTestDb(adminUrl: string): Promise<TestDb> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const dataDir = await mkdtemp(join(tmpdir(), 'perf-agg-test-'));
  const db = await openDb({ databaseUrl, dataDir });
  await migrate(db);
  return {
    db,
    ...asAppService(db),
    dataDir,
    kind: db.kind,
    databaseUrl,
    async dumpText() {
      // pg_dump: schema and live rows. Dead tuples and WAL are not visible this way.
      const { stdout } = await promisify(execFile)(
        'pg_dump',
        ['--no-owner', '--dbname', databaseUrl],
        {
          maxBuffer: 256 << 20,
        },
      );
      return stdout;
    },
    async close() {
      await db.close();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function openTestDb(): Promise<TestDb> {
  const adminUrl = process.env['DATABASE_URL'];
  return adminUrl ? openPostgresTestDb(adminUrl) : openPgliteTestDb();
}
