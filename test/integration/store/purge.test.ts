/**
 * TTL (research/infra.md §4.2): expired envelopes are invisible at once and deleted by the purge
 * function, oldest first, in batches; live ones are never touched.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { openTestDb, type TestDb } from '../../helpers/db.js';
import { saveHistory } from '../../../src/store/history-store.js';
import { b64, backdate, count, newSession, rejectsWith } from './fixtures.js';

let t: TestDb | undefined;
before(async () => {
  t = await openTestDb();
});
// The purge is global: each test starts from empty tables so its counts see only its own rows.
beforeEach(() =>
  t!.db.exec('TRUNCATE sessions, credentials, session_history, aggregates, ops_logs, merkle_logs'),
);
after(() => t?.close());

async function seed(db: TestDb, expiredAgo: number[], live: number) {
  const expired = [];
  for (const ago of expiredAgo) {
    const s = newSession();
    await db.store.createSession(s);
    await backdate(db.db, s.sessionId, ago);
    expired.push(s.sessionId);
  }
  const alive = [];
  for (let i = 0; i < live; i++) {
    const s = newSession();
    await db.store.createSession(s);
    alive.push(s.sessionId);
  }
  return { expired, alive };
}

describe('credential expiry', () => {
  test('getCredential hides an expired credential before the purge runs', async () => {
    const { expired, alive } = await seed(t!, [1], 1);
    assert.equal(await t!.store.getCredential(expired[0]!), null);
    assert.notEqual(await t!.store.getCredential(alive[0]!), null);
    // Still stored: only the read is filtered. The session already reads as expired.
    assert.equal(
      await count(t!.db, 'SELECT 1 FROM credentials WHERE session_id = $1', [expired[0]]),
      1,
    );
    assert.equal((await t!.store.getSession(expired[0]!))?.status, 'expired');
    assert.equal(await t!.store.countActiveSessions(), 1);
  });

  test('purgeExpired deletes only expired credentials and marks their sessions expired', async () => {
    const { expired, alive } = await seed(t!, [10, 20], 2);
    assert.equal(await t!.store.purgeExpired(100), 2);

    const left = await t!.db.query<{ session_id: string }>(
      'SELECT session_id FROM credentials ORDER BY session_id',
    );
    assert.deepEqual(
      left.map((r) => r.session_id),
      [...alive].sort(),
    );
    const statuses = await t!.db.query<{ session_id: string; status: string }>(
      'SELECT session_id, status FROM sessions',
    );
    for (const r of statuses) {
      assert.equal(r.status, expired.includes(r.session_id) ? 'expired' : 'active');
    }
    const logs = await t!.db.query<{ session_id: string | null; detail: Record<string, unknown> }>(
      "SELECT session_id, detail FROM ops_logs WHERE event = 'credentials.purged'",
    );
    assert.deepEqual(logs, [{ session_id: null, detail: { count: 2, batch: 100 } }]);
    assert.equal(await t!.store.purgeExpired(100), 0, 'a second run finds nothing');
  });

  test('purgeExpired deletes the sealed history (migration 0006) of the sessions it expires, only theirs', async () => {
    const { expired, alive } = await seed(t!, [10], 1);
    for (const sid of [...expired, ...alive])
      assert.equal(await saveHistory(t!.appDb, sid, null, { version: 1, blob: b64(64) }), true);
    // the live session's history is readable; the lapsed one's is hidden before the purge runs
    assert.equal((await t!.store.getHistory(alive[0]!))?.version, 1);
    assert.equal(await t!.store.getHistory(expired[0]!), null);
    assert.equal(await t!.store.purgeExpired(100), 1);
    const left = await t!.db.query<{ session_id: string }>(
      'SELECT session_id FROM session_history',
    );
    assert.deepEqual(
      left.map((r) => r.session_id),
      alive,
    );
  });

  test('purgeExpired works in batches, oldest expiry first', async () => {
    const { expired } = await seed(t!, [300, 100, 200], 0);
    assert.equal(await t!.store.purgeExpired(2), 2);
    // The most recently expired (100 s ago) is the one left.
    const left = await t!.db.query<{ session_id: string }>('SELECT session_id FROM credentials');
    assert.deepEqual(
      left.map((r) => r.session_id),
      [expired[1]],
    );
    assert.equal(await t!.store.purgeExpired(2), 1);
    assert.equal(await t!.store.purgeExpired(2), 0);
  });

  test('purgeExpired leaves a revoked tombstone revoked', async () => {
    const { expired } = await seed(t!, [5], 0);
    const id = expired[0]!;
    // Revoke deletes the credential, so the purge has nothing of it; the status must stay.
    assert.equal(await t!.store.revokeSession(id), 'revoked');
    assert.equal(await t!.store.purgeExpired(10), 0);
    assert.equal((await t!.store.getSession(id))?.status, 'revoked');
  });

  test('purgeExpired rejects a batch outside 1..10000, in the store and in SQL', async () => {
    for (const batch of [0, -1, 1.5, 10_001, Number.NaN]) {
      await rejectsWith(t!.store.purgeExpired(batch), 'STORE_INVALID_ARGUMENT');
    }
    await rejectsWith(
      t!.db.query('SELECT purge_expired_credentials(0)'),
      'STORE_INVALID_ARGUMENT',
      {
        sqlState: '22023',
      },
    );
  });
});
