/**
 * Least privilege (research/infra.md §4.1): the operator can read everything but the sealed
 * envelope, and writes nothing; the host role has no DDL; nobody holds pg_read_all_data.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDb } from '../../../src/store/db.js';
import { openTestDb, queryAs, type TestDb } from '../../helpers/db.js';
import { newSession, rejects, rejectsWith } from './fixtures.js';

let t: TestDb;
const s = newSession();
before(async () => {
  t = await openTestDb();
  await t.store.createSession(s);
});
after(() => t.close());

const SECRET_COLUMNS = ['ephemeral_pub', 'nonce', 'ciphertext', 'tag'];
const TABLES = [
  'users',
  'sessions',
  'credentials',
  'aggregates',
  'merkle_logs',
  'ops_logs',
  'schema_migrations',
];
const denied = { sqlState: '42501' };

describe('operator_readonly', () => {
  test('gets permission denied on SELECT * FROM credentials', () =>
    rejects(
      queryAs(t.db, 'operator_readonly', 'SELECT * FROM credentials'),
      'STORE_PERMISSION',
      denied,
    ));

  for (const col of SECRET_COLUMNS) {
    test(`gets permission denied on credentials.${col}`, () =>
      rejects(
        queryAs(t.db, 'operator_readonly', `SELECT session_id, ${col} FROM credentials`),
        'STORE_PERMISSION',
        denied,
      ));
    test(`has_column_privilege is false for credentials.${col}`, async () => {
      const [r] = await t.db.query<{ ok: boolean }>(
        "SELECT has_column_privilege('operator_readonly', 'credentials', $1, 'SELECT') AS ok",
        [col],
      );
      assert.equal(r?.ok, false);
    });
  }

  test('reads the non-secret credential columns', async () => {
    const rows = await queryAs<{ session_id: string; key_id: string }>(
      t.db,
      'operator_readonly',
      'SELECT session_id, key_id, created_at, expires_at FROM credentials WHERE session_id = $1',
      [s.sessionId],
    );
    assert.deepEqual(
      rows.map((r) => [r.session_id, r.key_id]),
      [[s.sessionId, s.envelope.keyId]],
    );
  });

  for (const table of [
    'users',
    'sessions',
    'aggregates',
    'merkle_logs',
    'ops_logs',
    'schema_migrations',
  ]) {
    test(`reads ${table}`, async () => {
      await queryAs(t.db, 'operator_readonly', `SELECT * FROM ${table} LIMIT 1`);
    });
  }

  // Any column will do: the privilege check fails before a row is touched.
  const someColumn: Record<string, string> = {
    users: 'email',
    sessions: 'label',
    credentials: 'key_id',
    aggregates: 'account',
    merkle_logs: 'account',
    ops_logs: 'event',
    schema_migrations: 'version',
  };
  for (const table of TABLES) {
    test(`cannot INSERT, UPDATE, DELETE or TRUNCATE ${table}`, async () => {
      const col = someColumn[table]!;
      for (const sql of [
        `INSERT INTO ${table} DEFAULT VALUES`,
        `UPDATE ${table} SET ${col} = ${col}`,
        `DELETE FROM ${table}`,
        `TRUNCATE ${table}`,
      ]) {
        await rejectsWith(queryAs(t.db, 'operator_readonly', sql), 'STORE_PERMISSION', denied);
      }
    });
  }

  test('cannot read or write the sealed session history (migration 0006), not even its version', async () => {
    for (const sql of [
      'SELECT ciphertext FROM session_history',
      'SELECT version FROM session_history',
      'SELECT count(*) FROM session_history',
      'DELETE FROM session_history',
    ]) {
      await rejectsWith(queryAs(t.db, 'operator_readonly', sql), 'STORE_PERMISSION', denied);
    }
  });

  test('cannot run the purge function', () =>
    rejects(
      queryAs(t.db, 'operator_readonly', 'SELECT purge_expired_credentials(10)'),
      'STORE_PERMISSION',
      denied,
    ));
});

describe('app_service', () => {
  for (const sql of [
    'DROP TABLE ops_logs',
    'ALTER TABLE sessions ADD COLUMN x int',
    'TRUNCATE credentials',
    'TRUNCATE ops_logs',
    'CREATE TABLE evil (x int)',
    'CREATE FUNCTION evil() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$',
    'DROP FUNCTION purge_expired_credentials(integer)',
    'UPDATE credentials SET key_id = key_id',
    'UPDATE merkle_logs SET account = account',
    'DELETE FROM merkle_logs',
    'SELECT * FROM users',
    'ALTER FUNCTION purge_expired_credentials(integer) OWNER TO app_service',
    'CREATE ROLE evil',
  ]) {
    test(`is denied: ${sql}`, () =>
      rejects(queryAs(t.db, 'app_service', sql), 'STORE_PERMISSION', denied));
  }

  test('reads, writes and deletes session history, but cannot TRUNCATE or ALTER it', async () => {
    await queryAs(t.db, 'app_service', 'SELECT version, ciphertext FROM session_history');
    await queryAs(t.db, 'app_service', 'DELETE FROM session_history WHERE false');
    for (const sql of ['TRUNCATE session_history', 'ALTER TABLE session_history ADD COLUMN x int'])
      await rejects(queryAs(t.db, 'app_service', sql), 'STORE_PERMISSION', denied);
  });

  test('runs the purge function', async () => {
    const [r] = await queryAs<{ n: number }>(
      t.db,
      'app_service',
      'SELECT purge_expired_credentials(10) AS n',
    );
    assert.equal(typeof r?.n, 'number');
  });
});

describe('role attributes', () => {
  test('no role of ours is a member of pg_read_all_data, superuser, BYPASSRLS or LOGIN', async () => {
    const rows = await t.db.query<Record<string, unknown>>(
      `SELECT rolname, rolsuper, rolbypassrls, rolcanlogin, rolcreaterole, rolcreatedb,
              pg_has_role(rolname, 'pg_read_all_data', 'MEMBER') AS reads_all,
              pg_has_role(rolname, 'pg_write_all_data', 'MEMBER') AS writes_all
         FROM pg_roles WHERE rolname IN ('app_service', 'operator_readonly', 'purge_owner')
        ORDER BY rolname`,
    );
    assert.deepEqual(
      rows.map((r) => r['rolname']),
      ['app_service', 'operator_readonly', 'purge_owner'],
    );
    for (const r of rows) {
      const { rolname, ...flags } = r;
      assert.deepEqual(
        Object.values(flags),
        [false, false, false, false, false, false, false],
        `${String(rolname)}: ${JSON.stringify(flags)}`,
      );
    }
  });

  test('the purge function is SECURITY DEFINER with a pinned search_path and a non-superuser owner', async () => {
    const [r] = await t.db.query<{
      secdef: boolean;
      config: string[];
      owner_super: boolean;
      public_exec: boolean;
    }>(
      `SELECT p.prosecdef AS secdef, p.proconfig AS config, o.rolsuper AS owner_super,
              has_function_privilege('public', p.oid, 'EXECUTE') AS public_exec
         FROM pg_proc p JOIN pg_roles o ON o.oid = p.proowner
        WHERE p.proname = 'purge_expired_credentials'`,
    );
    assert.equal(r?.secdef, true);
    assert.deepEqual(r?.config, ['search_path=pg_catalog, public']);
    assert.equal(r?.owner_super, false);
    assert.equal(r?.public_exec, false);
  });
});

describe('openDb({ role })', () => {
  test('runs every connection as that role', async () => {
    if (t.kind === 'postgres') {
      const db = await openDb({
        databaseUrl: t.databaseUrl,
        dataDir: t.dataDir,
        role: 'app_service',
      });
      try {
        // Several at once, so the pool opens several connections, each through the hook.
        const users = await Promise.all(
          Array.from({ length: 4 }, () =>
            db.tx(async (q) => {
              const [r] = await q.query<{ u: string }>('SELECT current_user AS u, pg_sleep(0.05)');
              return r?.u;
            }),
          ),
        );
        assert.deepEqual(users, Array(4).fill('app_service'));
        await rejectsWith(db.query('TRUNCATE credentials'), 'STORE_PERMISSION', denied);
      } finally {
        await db.close();
      }
    } else {
      // PGlite is single-session: take a second fresh copy, and reopen it with the role.
      const u = await openTestDb();
      await u.db.close();
      const db = await openDb({ dataDir: u.dataDir, role: 'app_service' });
      try {
        const [r] = await db.query<{ u: string }>('SELECT current_user AS u');
        assert.equal(r?.u, 'app_service');
        await rejectsWith(db.query('TRUNCATE credentials'), 'STORE_PERMISSION', denied);
      } finally {
        await db.close();
        await u.close();
      }
    }
  });
});
