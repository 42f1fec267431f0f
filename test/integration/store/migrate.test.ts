/**
 * migrate() is safe on every start and from several callers at once, applies each migration in
 * its own transaction exactly once, and refuses a migration edited after it was applied.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadMigrations, migrate, type Migration } from '../../../src/store/migrate.js';
import { openTestDb, type TestDb } from '../../helpers/db.js';
import { count, rejectsWith } from './fixtures.js';

let t: TestDb;
let files: Migration[];
before(async () => {
  t = await openTestDb();
  files = await loadMigrations();
});
after(() => t.close());

function extra(version: string, sql: string): Migration {
  return { version, sql, checksum: createHash('sha256').update(sql).digest('hex') };
}

const tableExists = async (name: string) =>
  (await count(t.db, "SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = $1", [
    name,
  ])) === 1;

describe('migrate', () => {
  test('is a no-op when up to date, also when called concurrently', async () => {
    const results = await Promise.all([1, 2, 3].map(() => migrate(t.db)));
    for (const r of results) {
      assert.deepEqual(r, { applied: [], current: files.map((m) => m.version) });
    }
  });

  test('applies a new migration exactly once when callers race', async () => {
    const withNew = [...files, extra('9001_race', 'CREATE TABLE race_probe (x int)')];
    const results = await Promise.all([1, 2, 3].map(() => migrate(t.db, withNew)));
    assert.deepEqual(results.map((r) => r.applied).flat(), ['9001_race']);
    assert.ok(await tableExists('race_probe'));
  });

  test('rolls a failing migration back entirely and does not record it', async () => {
    const bad = extra('9002_bad', 'CREATE TABLE half_done (x int); SELECT 1 / 0;');
    await rejectsWith(migrate(t.db, [...files, bad]), 'STORE_INVALID_ARGUMENT', {
      sqlState: '22012',
    });
    assert.equal(await tableExists('half_done'), false);
    assert.equal(
      await count(t.db, "SELECT 1 FROM schema_migrations WHERE version = '9002_bad'"),
      0,
    );
  });

  test('refuses a migration whose file changed after it was applied', async () => {
    const edited = files.map((m, i) => (i === 0 ? extra(m.version, `${m.sql}\n-- edited`) : m));
    await rejectsWith(migrate(t.db, edited), 'STORE_MIGRATION');
  });

  test('records every file with its SHA-256', async () => {
    const rows = await t.db.query<{ version: string; checksum: string }>(
      "SELECT version, checksum FROM schema_migrations WHERE version < '9' ORDER BY version",
    );
    assert.deepEqual(
      rows,
      files.map((m) => ({ version: m.version, checksum: m.checksum })),
    );
  });
});
