/**
 * The Db layer gives the same JS types on both engines, and its errors carry no driver text,
 * SQL or parameters.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { StoreError } from '../../../src/store/db.js';
import { openTestDb, type TestDb } from '../../helpers/db.js';
import { b64, envelope, hex64, newSession, rejects, rejectsWith } from './fixtures.js';

let t: TestDb;
before(async () => {
  t = await openTestDb();
});
after(() => t.close());

describe('type normalisation', () => {
  test('int8 and count(*) come back as numbers', async () => {
    const [r] = await t.db.query<Record<string, unknown>>(
      'SELECT count(*) AS c, 9007199254740991::int8 AS max_safe, (-42)::int8 AS neg, 7::int4 AS i4',
    );
    assert.deepEqual(r, { c: 1, max_safe: Number.MAX_SAFE_INTEGER, neg: -42, i4: 7 });
  });

  test('an int8 beyond 2^53 fails instead of losing precision', () =>
    rejects(t.db.query('SELECT 9007199254740993::int8 AS big'), 'STORE_INVALID_ARGUMENT'));

  test('identity ids are numbers', async () => {
    await t.store.logOp({ sessionId: null, event: 'test.event', detail: {} });
    const [r] = await t.db.query<{ id: unknown }>('SELECT max(id) AS id FROM ops_logs');
    assert.equal(typeof r?.id, 'number');
  });

  test('bytea round-trips as a plain Uint8Array (not a Buffer)', async () => {
    const hash = new Uint8Array(randomBytes(32));
    await t.db.query(
      'INSERT INTO merkle_logs (leaf_index, leaf_hash, account) VALUES (0, $1, $2)',
      [hash, hex64()],
    );
    const [r] = await t.db.query<{ leaf_hash: Uint8Array; leaf_index: unknown }>(
      'SELECT leaf_index, leaf_hash FROM merkle_logs WHERE leaf_index = 0',
    );
    assert.equal(Object.getPrototypeOf(r?.leaf_hash), Uint8Array.prototype);
    assert.deepEqual(r?.leaf_hash, hash);
    assert.equal(r?.leaf_index, 0);
  });

  test('timestamptz is a Date and jsonb an object', async () => {
    const [r] = await t.db.query<{ at: unknown; j: unknown }>(
      `SELECT now() AS at, '{"a":[1,"x"]}'::jsonb AS j`,
    );
    assert.ok(r?.at instanceof Date);
    assert.deepEqual(r?.j, { a: [1, 'x'] });
  });
});

describe('store round trips', () => {
  test('createSession, getSession, getCredential, countActiveSessions', async () => {
    const s = newSession({ label: 'my main.acct-1' });
    await t.store.createSession(s);
    const row = await t.store.getSession(s.sessionId);
    assert.deepEqual(
      { ...row, createdAt: undefined },
      {
        sessionId: s.sessionId,
        exchange: 'binance',
        label: s.label,
        status: 'active',
        createdAt: undefined,
        expiresAt: s.expiresAt,
        revokedAt: null,
        account: null,
      },
    );
    assert.deepEqual(await t.store.getCredential(s.sessionId), s.envelope);
    assert.ok((await t.store.countActiveSessions()) >= 1);
    assert.equal(await t.store.getSession(randomBytes(32).toString('base64url')), null);
  });

  test('latestAggregate returns the newest payload exactly as stored', async () => {
    const s = newSession();
    await t.store.createSession(s);
    const account = hex64();
    // JCS text: key order and number rendering must survive byte for byte.
    const texts = ['{"pnl":1,"v":1}', '{"pnl":1e-7,"sharpe":null,"v":1,"z":"é"}'];
    for (const [i, payloadJson] of texts.entries()) {
      await t.store.saveAggregate({
        sessionId: s.sessionId,
        payloadJson,
        signature: b64(64),
        account,
        computedAt: new Date(Date.UTC(2024, 0, 1 + i)),
      });
    }
    const latest = await t.store.latestAggregate(s.sessionId);
    assert.equal(latest?.payloadJson, texts[1]);
    assert.deepEqual(latest?.computedAt, new Date(Date.UTC(2024, 0, 2)));
  });

  test('opsLogs returns a session’s events in order, session_created first', async () => {
    const s = newSession({ createdDetail: { ttl: 3600 } });
    await t.store.createSession(s); // writes session_created in the same statement
    await t.store.logOp({
      sessionId: s.sessionId,
      event: 'aggregates.computed',
      detail: { trades: 3 },
    });
    const logs = await t.store.opsLogs(s.sessionId);
    assert.deepEqual(
      logs.map((l) => [l.sessionId, l.event, l.detail]),
      [
        [s.sessionId, 'session_created', { ttl: 3600 }],
        [s.sessionId, 'aggregates.computed', { trades: 3 }],
      ],
    );
    assert.ok(logs.every((l) => l.at instanceof Date));
  });

  test('concurrent sessions are stored in multi-row batches, each row whole', async () => {
    const rows = Array.from({ length: 40 }, (_, i) =>
      newSession({ label: `batch ${i}`, createdDetail: { n: i } }),
    );
    await Promise.all(rows.map((s) => t.store.createSession(s)));
    for (const [i, s] of rows.entries()) {
      const row = await t.store.getSession(s.sessionId);
      assert.equal(row?.label, `batch ${i}`);
      assert.deepEqual(row?.expiresAt, s.expiresAt);
      assert.deepEqual(await t.store.getCredential(s.sessionId), s.envelope);
      const logs = await t.store.opsLogs(s.sessionId);
      assert.deepEqual(
        logs.map((l) => [l.event, l.detail]),
        [['session_created', { n: i }]],
      );
    }
    // Handed in during one turn, the 40 sessions go in one statement (maxBatch allowing).
    const [n] = await t.db.query<{ c: number }>(
      `SELECT count(DISTINCT xmin::text) AS c FROM sessions WHERE label LIKE 'batch %'`,
    );
    assert.ok(n!.c <= 4, `${n!.c} transactions for ${rows.length} sessions`);
  });

  test('a bad session among concurrent ones fails alone; the others are stored', async () => {
    const good = Array.from({ length: 10 }, () => newSession());
    const bad = newSession({ label: 'bad/label' }); // sessions_label_format refuses '/'
    const rows = [...good.slice(0, 5), bad, ...good.slice(5)];
    const outcomes = await Promise.allSettled(rows.map((s) => t.store.createSession(s)));
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [[i, o.reason]] : []));
    assert.equal(failed.length, 1);
    assert.equal(failed[0]![0], 5);
    assert.equal((failed[0]![1] as StoreError).code, 'STORE_CONSTRAINT');
    assert.equal((failed[0]![1] as StoreError).constraint, 'sessions_label_format');
    assert.equal(await t.store.getSession(bad.sessionId), null);
    for (const s of good) assert.deepEqual(await t.store.getCredential(s.sessionId), s.envelope);
  });

  test('ping resolves', () => t.store.ping());
});

describe('test helper', () => {
  test('dumpText finds a stored canary (positive control for canary scans)', async () => {
    const canary = `CANARY${randomBytes(16).toString('hex')}`;
    await t.store.logOp({ sessionId: null, event: 'test.canary', detail: { canary } });
    assert.ok((await t.dumpText()).includes(canary));
  });
});

describe('StoreError hygiene', () => {
  test('a rejected envelope’s error carries no value, SQL or driver text', async () => {
    const canary = 'CANARY' + randomBytes(8).toString('hex').toUpperCase();
    const s = newSession({ label: canary, envelope: envelope({ keyId: canary.toLowerCase() }) });
    const err = await rejectsWith(t.store.createSession(s), 'STORE_CONSTRAINT');
    const everything = JSON.stringify({
      err,
      cause: err.cause,
      message: err.message,
      stack: err.stack,
    });
    assert.ok(!everything.toLowerCase().includes(canary.toLowerCase()), everything);
    assert.ok(!/insert|failing row|violates/i.test(everything), everything);
    assert.deepEqual(Object.keys(err.cause as object).sort(), [
      'constraint',
      'routine',
      'sqlState',
      'table',
    ]);
  });

  test('a syntax error is STORE_QUERY with a fixed message', async () => {
    const err = await rejectsWith(t.db.query('SELEC 1'), 'STORE_QUERY', { sqlState: '42601' });
    assert.equal(err.message, 'database query failed');
    assert.ok(err instanceof StoreError);
  });
});

describe('connection loss (PostgreSQL)', () => {
  test('a connection killed while its transaction waits fails the transaction, not the process', async (ctx) => {
    if (t.db.kind !== 'postgres') return ctx.skip('PGlite has no connections to lose');
    const tx = t.db.tx(async (q) => {
      const [me] = await q.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // the server drops the connection while the transaction waits on something else (as a
      // restart does while the log's transaction waits on the enclave): the client hears the
      // socket close with no statement in flight
      await t.db.query('SELECT pg_terminate_backend($1)', [me!.pid]);
      await new Promise((r) => setTimeout(r, 300));
      await q.query('SELECT 1');
    });
    await rejectsWith(tx, 'STORE_UNAVAILABLE');
    assert.deepEqual(await t.db.query('SELECT 1 AS x'), [{ x: 1 }], 'the pool serves on');
  });
});
