/**
 * Revocation (protocol §5): one transaction purges the credential, aggregate payloads and
 * per-session log detail, keeps a tombstone (for 410) and the log leaves, and touches no other
 * session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { openTestDb, type TestDb } from '../../helpers/db.js';
import { count, hex64, newSession, newSessionId, rejectsWith, signature } from './fixtures.js';
import type { NewSession } from '../../../src/store/types.js';

let t: TestDb;
before(async () => {
  t = await openTestDb();
});
after(() => t.close());

/** A session with everything revoke must purge: credential, two aggregates, log detail, a leaf. */
async function fullSession(): Promise<NewSession & { account: string }> {
  const s = newSession();
  const account = hex64();
  await t.store.createSession(s);
  for (const [i, pnl] of [1.5, 2.5].entries()) {
    await t.store.saveAggregate({
      sessionId: s.sessionId,
      payloadJson: JSON.stringify({ pnl, v: 1 }),
      signature: signature(),
      account,
      computedAt: new Date(Date.now() + i),
    });
  }
  await t.store.logOp({
    sessionId: s.sessionId,
    event: 'aggregates.computed',
    detail: { trades: 150 },
  });
  const [leaf] = await t.db.query<{ n: number }>(
    'SELECT coalesce(max(leaf_index) + 1, 0) AS n FROM merkle_logs',
  );
  await t.db.query(
    'INSERT INTO merkle_logs (leaf_index, leaf_hash, session_id, account) VALUES ($1, $2, $3, $4)',
    [leaf!.n, new Uint8Array(randomBytes(32)), s.sessionId, account],
  );
  return { ...s, account };
}

/** Everything the store keeps about a session, read as the owner. */
async function snapshot(sessionId: string) {
  return {
    session: await t.db.query(
      'SELECT status, revoked_at IS NOT NULL AS tomb FROM sessions WHERE session_id = $1',
      [sessionId],
    ),
    credentials: await count(t.db, 'SELECT 1 FROM credentials WHERE session_id = $1', [sessionId]),
    payloads: await count(
      t.db,
      'SELECT 1 FROM aggregates WHERE session_id = $1 AND payload IS NOT NULL',
      [sessionId],
    ),
    signatures: await count(
      t.db,
      'SELECT 1 FROM aggregates WHERE session_id = $1 AND signature IS NOT NULL',
      [sessionId],
    ),
    aggregateRows: await count(t.db, 'SELECT 1 FROM aggregates WHERE session_id = $1', [sessionId]),
    logs: await t.db.query('SELECT event, detail FROM ops_logs WHERE session_id = $1 ORDER BY id', [
      sessionId,
    ]),
    leaves: await count(t.db, 'SELECT 1 FROM merkle_logs WHERE session_id = $1', [sessionId]),
  };
}

describe('revokeSession', () => {
  test('purges credential, payloads, signatures and log detail; keeps tombstone and leaves', async () => {
    const s = await fullSession();
    assert.equal(await t.store.revokeSession(s.sessionId), 'revoked');
    assert.deepEqual(await snapshot(s.sessionId), {
      session: [{ status: 'revoked', tomb: true }],
      credentials: 0,
      payloads: 0,
      signatures: 0,
      aggregateRows: 2,
      logs: [{ event: 'revoked', detail: {} }],
      leaves: 1,
    });
    assert.equal(await t.store.getCredential(s.sessionId), null);
    assert.equal(await t.store.latestAggregate(s.sessionId), null);
    const row = await t.store.getSession(s.sessionId);
    assert.equal(row?.status, 'revoked');
    assert.ok(row?.revokedAt instanceof Date);
  });

  test('no live row anywhere still holds the ciphertext, payload or log detail', async () => {
    const marker = randomBytes(12).toString('hex');
    const ciphertext = Buffer.from(`ct-${marker}`.repeat(8)).toString('base64');
    const s = newSession({ envelope: { ...newSession().envelope, ciphertext } });
    await t.store.createSession(s);
    await t.store.saveAggregate({
      sessionId: s.sessionId,
      payloadJson: `{"m":"pl-${marker}"}`,
      signature: signature(),
      account: hex64(),
      computedAt: new Date(),
    });
    await t.store.logOp({
      sessionId: s.sessionId,
      event: 'aggregates.computed',
      detail: { m: `lg-${marker}` },
    });
    // Logical scan (what pg_dump or any SQL reader sees). Physical residue is another matter:
    // dead tuples until VACUUM and WAL until its segment is overwritten.
    const hits = async () => {
      let n = 0;
      for (const table of [
        'users',
        'sessions',
        'credentials',
        'aggregates',
        'merkle_logs',
        'ops_logs',
      ]) {
        n += await count(
          t.db,
          `SELECT 1 FROM ${table} x WHERE strpos(x::text, $1) > 0 OR strpos(x::text, $2) > 0`,
          [marker, ciphertext],
        );
      }
      return n;
    };
    assert.equal(await hits(), 3, 'positive control: credential, aggregate and log row');
    await t.store.revokeSession(s.sessionId);
    assert.equal(await hits(), 0);
  });

  test('leaves every other session untouched', async () => {
    const victim = await fullSession();
    const other = await fullSession();
    const before = await snapshot(other.sessionId);
    const credential = await t.store.getCredential(other.sessionId);
    const latest = await t.store.latestAggregate(other.sessionId);

    assert.equal(await t.store.revokeSession(victim.sessionId), 'revoked');

    assert.deepEqual(await snapshot(other.sessionId), before);
    assert.deepEqual(await t.store.getCredential(other.sessionId), credential);
    assert.deepEqual(await t.store.latestAggregate(other.sessionId), latest);
    assert.deepEqual(JSON.parse(latest!.payloadJson), { pnl: 2.5, v: 1 });
  });

  test('answers already_revoked for a tombstone and not_found for an unknown id', async () => {
    const s = await fullSession();
    assert.equal(await t.store.revokeSession(s.sessionId), 'revoked');
    assert.equal(await t.store.revokeSession(s.sessionId), 'already_revoked');
    assert.equal(await t.store.revokeSession(newSessionId()), 'not_found');
    assert.equal(
      (await snapshot(s.sessionId)).logs.length,
      1,
      'a repeated revoke logs nothing more',
    );
  });

  test('concurrent revokes of one session: exactly one revoked', async () => {
    const s = await fullSession();
    const results = await Promise.all([1, 2, 3].map(() => t.store.revokeSession(s.sessionId)));
    assert.deepEqual(results.sort(), ['already_revoked', 'already_revoked', 'revoked']);
  });

  test('revokes an expired session too, purging what the purge had not reached', async () => {
    const s = await fullSession();
    await t.db.query(
      "UPDATE sessions SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 hour' WHERE session_id = $1",
      [s.sessionId],
    );
    assert.equal(await t.store.revokeSession(s.sessionId), 'revoked');
    assert.equal((await snapshot(s.sessionId)).payloads, 0);
  });

  test('is all-or-nothing: a failure at the last step leaves the session as it was', async () => {
    const s = await fullSession();
    const before = await snapshot(s.sessionId);
    // Make the final INSERT of the 'revoked' event fail, after every purge step has run.
    await t.db.exec(`
      CREATE FUNCTION fail_revoke() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = 'raise_exception'; END $$;
      CREATE TRIGGER fail_revoke BEFORE INSERT ON ops_logs
        FOR EACH ROW WHEN (NEW.event = 'revoked') EXECUTE FUNCTION fail_revoke();`);
    try {
      await rejectsWith(t.store.revokeSession(s.sessionId), 'STORE_QUERY', { sqlState: 'P0001' });
    } finally {
      await t.db.exec('DROP TRIGGER fail_revoke ON ops_logs; DROP FUNCTION fail_revoke();');
    }
    assert.deepEqual(await snapshot(s.sessionId), before);
    assert.notEqual(await t.store.getCredential(s.sessionId), null);
    assert.equal(await t.store.revokeSession(s.sessionId), 'revoked', 'a retry succeeds');
  });
});

describe('writes after revocation', () => {
  test('saveAggregate refuses a revoked session and stores nothing', async () => {
    const s = await fullSession();
    await t.store.revokeSession(s.sessionId);
    await rejectsWith(
      t.store.saveAggregate({
        sessionId: s.sessionId,
        payloadJson: '{"pnl":9}',
        signature: signature(),
        account: s.account,
        computedAt: new Date(),
      }),
      'STORE_SESSION_INACTIVE',
    );
    assert.equal((await snapshot(s.sessionId)).payloads, 0);
  });

  test('a saveAggregate or logOp racing a revoke never leaves a payload or detail behind', async () => {
    for (let i = 0; i < 5; i++) {
      const s = await fullSession();
      const racers = await Promise.allSettled([
        t.store.saveAggregate({
          sessionId: s.sessionId,
          payloadJson: '{"pnl":9}',
          signature: signature(),
          account: s.account,
          computedAt: new Date(),
        }),
        t.store.logOp({
          sessionId: s.sessionId,
          event: 'aggregates.computed',
          detail: { trades: 1 },
        }),
        t.store.revokeSession(s.sessionId),
      ]);
      assert.equal(racers[2].status, 'fulfilled');
      const after = await snapshot(s.sessionId);
      assert.equal(after.payloads, 0);
      assert.ok(
        after.logs.every((l) => JSON.stringify((l as { detail: unknown }).detail) === '{}'),
      );
    }
  });

  test('logOp keeps the event of a revoked session but drops its detail', async () => {
    const s = await fullSession();
    await t.store.revokeSession(s.sessionId);
    await t.store.logOp({
      sessionId: s.sessionId,
      event: 'request.rejected',
      detail: { reason: 'SESSION_REVOKED' },
    });
    const logs = await t.store.opsLogs(s.sessionId);
    assert.deepEqual(
      logs.map((l) => [l.event, l.detail]),
      [
        ['revoked', {}],
        ['request.rejected', {}],
      ],
    );
  });
});
