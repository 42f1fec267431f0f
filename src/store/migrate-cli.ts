/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL, or to PGlite in
 * `${DATA_DIR:-./.data}/pgdata`, and prints one JSON line. Exit 1 on failure, naming only the
 * error code: never the URL (it may hold a password) nor driver text.
 */
import { openDb, StoreError } from './db.js';
import { migrate } from './migrate.js';
import { CodedError } from '../common/errors.js';

async function main(): Promise<number> {
  const started = performance.now();
  const databaseUrl = process.env['DATABASE_URL'] || undefined;
  const dataDir = process.env['DATA_DIR'] || './.data';
  let db;
  try {
    db = await openDb({ databaseUrl, dataDir });
    const { applied, current } = await migrate(db);
    const ms = Math.round(performance.now() - started);
    console.log(JSON.stringify({ ok: true, kind: db.kind, applied, current, ms }));
    return 0;
  } catch (err) {
    const code = err instanceof CodedError ? err.code : 'UNKNOWN';
    // SQLSTATE and routine are PostgreSQL's identifiers, not data: they make a failure debuggable.
    const cause = err instanceof StoreError ? err.cause : undefined;
    console.log(JSON.stringify({ ok: false, code, cause }));
    return 1;
  } finally {
    await db?.close().catch(() => {});
  }
}

process.exitCode = await main();
