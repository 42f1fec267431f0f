/**
 * The sealed key ring's row (migration 0005): compare-and-swap writes, the base64 CHECK, and the
 * roles: the host may read and write but never delete it; the operator sees only its version.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKeyRingStore } from '../../../src/store/keyring-store.js';
import { openTestDb, queryAs, type TestDb } from '../../helpers/db.js';
import { rejects } from './fixtures.js';

let t: TestDb;
before(async () => {
  t = await openTestDb();
});
after(() => t.close());

describe('key ring store', () => {
  test('first insert wins; updates are compare-and-swap on the version', async () => {
    const ring = createKeyRingStore(t.appDb);
    assert.equal(await ring.load(), null);
    assert.equal(await ring.save(null, 'AAAA'), true);
    assert.equal(await ring.save(null, 'BBBB'), false, 'a second first-writer loses');
    assert.deepEqual(await ring.load(), { version: 1, sealed: 'AAAA' });
    assert.equal(await ring.save(1, 'CCCC'), true);
    assert.equal(await ring.save(1, 'DDDD'), false, 'a writer with a stale version loses');
    assert.deepEqual(await ring.load(), { version: 2, sealed: 'CCCC' });
  });

  test('the blob must be canonical base64', () =>
    rejects(createKeyRingStore(t.appDb).save(2, 'not base64!'), 'STORE_CONSTRAINT'));

  test('app_service cannot delete the ring', () =>
    rejects(queryAs(t.db, 'app_service', 'DELETE FROM enclave_keyring'), 'STORE_PERMISSION', {
      sqlState: '42501',
    }));

  test('operator_readonly sees the version and time, not the sealed blob', async () => {
    const [row] = await queryAs<{ version: number }>(
      t.db,
      'operator_readonly',
      'SELECT version, updated_at FROM enclave_keyring',
    );
    assert.equal(row?.version, 2);
    await rejects(
      queryAs(t.db, 'operator_readonly', 'SELECT sealed FROM enclave_keyring'),
      'STORE_PERMISSION',
      { sqlState: '42501' },
    );
  });
});
