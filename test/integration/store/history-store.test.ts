/**
 * A session's sealed history (migration 0006): compare-and-swap writes, the CHECKs, the cascade
 * and revoke purge, and that it is only readable for a live session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { saveHistory } from '../../../src/store/history-store.js';
import { openTestDb, type TestDb } from '../../helpers/db.js';
import { b64, backdate, count, newSession, rejects } from './fixtures.js';

let t: TestDb;
before(async () => {
  t = await openTestDb();
});
after(() => t.close());

const blob = () => b64(96);
async function live(): Promise<string> {
  const s = newSession();
  await t.store.createSession(s);
  return s.sessionId;
}

describe('session history store', () => {
  test('first insert wins; updates and deletes are compare-and-swap on the version', async () => {
    const sid = await live();
    const [a, b, c] = [blob(), blob(), blob()];
    assert.equal(await t.store.getHistory(sid), null);
    assert.equal(await saveHistory(t.appDb, sid, null, { version: 1, blob: a }), true);
    assert.equal(await saveHistory(t.appDb, sid, null, { version: 1, blob: b }), false);
    assert.deepEqual(await t.store.getHistory(sid), { version: 1, blob: a });
    assert.equal(await saveHistory(t.appDb, sid, 1, { version: 2, blob: c }), true);
    assert.equal(await saveHistory(t.appDb, sid, 1, { version: 2, blob: b }), false, 'stale');
    assert.deepEqual(await t.store.getHistory(sid), { version: 2, blob: c });
    assert.equal(await saveHistory(t.appDb, sid, 1, null), false, 'a stale delete loses');
    assert.equal(await saveHistory(t.appDb, sid, 2, null), true);
    assert.equal(await t.store.getHistory(sid), null);
  });

  test('the blob must be base64 of at least 29 bytes; the version positive', async () => {
    const sid = await live();
    await rejects(
      saveHistory(t.appDb, sid, null, { version: 1, blob: 'not base64!'.repeat(5) }),
      'STORE_CONSTRAINT',
      { constraint: 'session_history_ciphertext_b64' },
    );
    await rejects(
      saveHistory(t.appDb, sid, null, { version: 1, blob: 'AAAA' }),
      'STORE_CONSTRAINT',
    );
    await rejects(
      saveHistory(t.appDb, sid, null, { version: 0, blob: blob() }),
      'STORE_CONSTRAINT',
      {
        constraint: 'session_history_version_pos',
      },
    );
    await rejects(
      saveHistory(t.appDb, sid, null, { version: 1, blob: 'A'.repeat(24_000_004) }),
      'STORE_CONSTRAINT',
    );
    // a large account's history (≈ 100,000 fills sealed) is kept
    const big = 'QUJD'.repeat(1_000_000);
    await saveHistory(t.appDb, sid, null, { version: 1, blob: big });
    assert.equal((await t.store.getHistory(sid))?.blob.length, big.length);
  });

  test('an expired session reads no history; revoke deletes it in its transaction', async () => {
    const old = await live();
    await saveHistory(t.appDb, old, null, { version: 1, blob: blob() });
    await backdate(t.db, old, 5);
    assert.equal(await t.store.getHistory(old), null);

    const sid = await live();
    await saveHistory(t.appDb, sid, null, { version: 1, blob: blob() });
    assert.equal(await t.store.revokeSession(sid), 'revoked');
    assert.equal(
      await count(t.db, 'SELECT 1 FROM session_history WHERE session_id = $1', [sid]),
      0,
    );
  });

  test('a history cannot exist without its session (foreign key, cascade)', async () => {
    await rejects(
      saveHistory(t.appDb, 'x'.repeat(43), null, { version: 1, blob: blob() }),
      'STORE_CONSTRAINT',
    );
    const sid = await live();
    await saveHistory(t.appDb, sid, null, { version: 1, blob: blob() });
    await t.db.query('DELETE FROM sessions WHERE session_id = $1', [sid]);
    assert.equal(
      await count(t.db, 'SELECT 1 FROM session_history WHERE session_id = $1', [sid]),
      0,
    );
  });
});
