import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMetrics } from '../../../src/api/metrics.js';
import { startSweeper } from '../../../src/api/sweeper.js';
import { openTestDb, type TestDb } from '../../helpers/db.js';
import { backdate, newSession } from '../store/fixtures.js';

describe('TTL sweeper', () => {
  let t: TestDb;
  before(async () => {
    t = await openTestDb();
  });
  after(() => t.close());

  it('purges expired credentials through the SQL function and counts the run', async () => {
    const live = newSession();
    const old = newSession();
    await t.store.createSession(live);
    await t.store.createSession(old);
    await backdate(t.db, old.sessionId);
    const metrics = createMetrics(() => t.store.countActiveSessions());
    const warnings: object[] = [];
    const sweeper = startSweeper(t.store, metrics, 3_600_000, {
      warn: (o) => void warnings.push(o),
    });
    try {
      assert.equal(await sweeper.run(), 1);
      assert.equal(await sweeper.run(), 0);
    } finally {
      sweeper.stop();
    }
    assert.equal(await t.store.getCredential(old.sessionId), null);
    assert.notEqual(await t.store.getCredential(live.sessionId), null);
    assert.equal((await t.store.getSession(old.sessionId))?.status, 'expired');
    const text = await metrics.registry.metrics();
    assert.match(text, /pa_ttl_cleanup_runs_total\{outcome="ok"\} 2/);
    assert.match(text, /pa_ttl_purged_credentials_total 1/);
    assert.deepEqual(warnings, []);
  });
});
