/**
 * Two host instances on one PostgreSQL database append to the log at the same time (issue: "appends
 * are serialized through the database, so two host instances cannot fork the log"). Each has its
 * own connection pool and its own RPC connection to the enclave, like two machines behind a load
 * balancer. PGlite is one process's embedded database, so this runs on PostgreSQL only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { fromHex } from '../../../src/common/bytes.js';
import { nodePlatform as P } from '../../../src/platform/node.js';
import { startBinanceSim, type BinanceSim } from '../../../src/sim/binance.js';
import { verifyConsistency } from '../../../src/tlog/verify.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { META, quote, submit } from '../../helpers/client.js';

const ACCOUNT = { apiKey: 'two-hosts-key', apiSecret: 'two-hosts-secret', fills: 30, uid: 7 };
// Four aggregates at once: more would trip the simulator's per-IP /sapi limits (Binance's 10/s).
const PER_HOST = 2;

describe(
  'transparency log: two host instances appending concurrently',
  { skip: process.env['DATABASE_URL'] ? false : 'needs PostgreSQL (DATABASE_URL)' },
  () => {
    let a: TestApp;
    let b: TestApp;
    let sim: BinanceSim;
    before(async () => {
      sim = await startBinanceSim({ port: 0, seed: 3 });
      sim.addAccount(ACCOUNT);
      a = await startTestApp({ exchangeBaseUrl: sim.url });
      b = await startTestApp({ peer: a });
    });
    after(async () => {
      await b?.close();
      await a?.close();
      await sim?.close();
    });

    async function session(host: TestApp): Promise<string> {
      const q = await quote(host.app);
      const sealed = CryptoHelper.encryptCredentials(
        { exchange: 'binance', apiKey: ACCOUNT.apiKey, apiSecret: ACCOUNT.apiSecret },
        q.enclave_pubkey,
      );
      const res = await submit(host.app, { ...sealed, metadata: META });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().session_id;
    }

    it('every result gets its own index, and all checkpoints form one consistent tree', async () => {
      const hosts = [...Array(PER_HOST).fill(a), ...Array(PER_HOST).fill(b)] as TestApp[];
      const sids = await Promise.all(hosts.map(session));
      const results = await Promise.all(
        hosts.map(async (host, i) => {
          const res = await host.app.inject({
            method: 'POST',
            url: '/enclave/request_aggregates',
            payload: { session_id: sids[i] },
          });
          assert.equal(res.statusCode, 200, res.body);
          return res.json() as { leaf_index: number; tree_size: number; merkle_root: string };
        }),
      );
      const indices = results.map((r) => r.leaf_index).sort((x, y) => x - y);
      assert.deepEqual(
        indices,
        hosts.map((_, i) => i),
        'indices 0..n-1, no gap, no duplicate',
      );
      // Every root a client was given is consistent with every later one, by proofs either host serves.
      const bySize = [...results].sort((x, y) => x.tree_size - y.tree_size);
      for (let k = 1; k < bySize.length; k++) {
        const [r1, r2] = [bySize[k - 1]!, bySize[k]!];
        assert.ok(r1.tree_size < r2.tree_size, 'each append made a larger tree');
        const host = k % 2 ? a : b;
        const proof = (
          await host.app.inject({
            method: 'GET',
            url: `/api/log/proof/consistency?from=${r1.tree_size}&to=${r2.tree_size}`,
          })
        ).json().proof as string[];
        assert.ok(
          verifyConsistency(
            P,
            r1.tree_size,
            r2.tree_size,
            proof.map(fromHex),
            fromHex(r1.merkle_root),
            fromHex(r2.merkle_root),
          ),
          `consistency ${r1.tree_size} → ${r2.tree_size}`,
        );
      }
      const [ca, cb] = await Promise.all(
        [a, b].map(async (h) => (await h.app.inject({ url: '/api/log/checkpoint' })).body),
      );
      assert.equal(ca, cb, 'both hosts serve the same signed head');
      assert.equal(Number(ca!.split('\n')[1]), hosts.length);
    });
  },
);
