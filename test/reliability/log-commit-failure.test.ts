/**
 * Fault: the database fails after the enclave signed a log extension but before the host's
 * transaction committed it (the window a database restart can hit; too narrow to hit reliably
 * by restarting PostgreSQL, so it is injected here with a trigger that fails the head update once).
 * The request answers 503 STORE_UNAVAILABLE and stores nothing; the next append works, and the log
 * stays one consistent tree. Before the fix in src/enclave/log-signer.ts the enclave refused every
 * later append as a rollback until it was restarted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fromHex } from '../../src/common/bytes.js';
import { nodePlatform } from '../../src/platform/node.js';
import { startBinanceSim, type BinanceSim } from '../../src/sim/binance.js';
import { verifyConsistency } from '../../src/tlog/verify.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { seal, submit } from '../helpers/client.js';
import { checkIntegrity, SMALL } from './harness.js';

describe(
  'fault: the log head fails to commit after the enclave signed it',
  { timeout: 120_000 },
  () => {
    let sim: BinanceSim;
    let t: TestApp;
    before(async () => {
      sim = await startBinanceSim({});
      sim.addAccount(SMALL);
      t = await startTestApp({ exchangeBaseUrl: sim.url });
    });
    after(async () => {
      await t?.close();
      await sim?.close();
    });

    const aggregate = (sessionId: string, from: string) =>
      t.app.inject({
        method: 'POST',
        url: '/enclave/request_aggregates',
        payload: { session_id: sessionId, from },
      });

    it('answers 503, stores nothing, and the next append extends the same tree', async () => {
      const sealed = await seal(t.app, { exchange: 'binance', ...SMALL });
      const s = await submit(t.app, {
        ...sealed,
        metadata: { exchange: 'binance', label: 'commit', ttl: 3600 },
      });
      assert.equal(s.statusCode, 201);
      const sessionId = s.json().session_id as string;
      const first = await aggregate(sessionId, '2020-01-01T00:00:00Z');
      assert.equal(first.statusCode, 200, first.body);

      // The next update of the stored head fails once (nextval is not rolled back with the failure).
      await t.db.db.exec(`
      CREATE SEQUENCE fault_once;
      CREATE FUNCTION fail_head_once() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
      BEGIN
        IF nextval('fault_once') = 1 THEN RAISE EXCEPTION 'injected commit failure' USING ERRCODE = '08006'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fail_head_once BEFORE UPDATE ON log_head FOR EACH ROW EXECUTE FUNCTION fail_head_once();
    `);
      const failed = await aggregate(sessionId, '2020-01-02T00:00:00Z');
      assert.equal(failed.statusCode, 503, failed.body);
      assert.equal(failed.json().error.code, 'STORE_UNAVAILABLE');

      const next = await aggregate(sessionId, '2020-01-03T00:00:00Z');
      assert.equal(next.statusCode, 200, next.body);
      const a = first.json();
      const b = next.json();
      assert.equal(b.leaf_index, a.leaf_index + 1, 'no gap: the failed append left no leaf');
      const proof = await t.app.inject({
        method: 'GET',
        url: `/api/log/proof/consistency?from=${a.tree_size}&to=${b.tree_size}`,
      });
      assert.equal(proof.statusCode, 200);
      assert.ok(
        verifyConsistency(
          nodePlatform,
          a.tree_size,
          b.tree_size,
          (proof.json().proof as string[]).map(fromHex),
          fromHex(a.merkle_root),
          fromHex(b.merkle_root),
        ),
      );
      const integrity = await checkIntegrity(t.db.db);
      assert.equal(integrity.aggregates, 2);
      assert.equal(integrity.leaves, 2);
    });
  },
);
