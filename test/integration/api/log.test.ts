import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import type { AggregatesResponseV1 } from '../../../src/client/verify-aggregates.js';
import { fromHex, toHex } from '../../../src/common/bytes.js';
import { nodePlatform } from '../../../src/platform/node.js';
import { startBinanceSim, type BinanceSim } from '../../../src/sim/binance.js';
import { verifyConsistency } from '../../../src/tlog/verify.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { META, quote, submit } from '../../helpers/client.js';

describe('transparency log over the API (protocol §4 log fields, §6)', () => {
  let t: TestApp;
  let sim: BinanceSim;
  let root: string;
  before(async () => {
    sim = await startBinanceSim({ port: 0, seed: 3 });
    sim.addAccount({ apiKey: 'log-key', apiSecret: 'log-secret', fills: 30, uid: 99 });
    t = await startTestApp({ exchangeBaseUrl: sim.url });
    root = (await t.app.inject({ method: 'GET', url: '/attestation/dev-root' })).body;
  });
  after(async () => {
    await t.close();
    await sim.close();
  });

  async function aggregate(): Promise<{ sid: string; body: AggregatesResponseV1 }> {
    const q = await quote(t.app);
    const sealed = CryptoHelper.encryptCredentials(
      { exchange: 'binance', apiKey: 'log-key', apiSecret: 'log-secret' },
      q.enclave_pubkey,
    );
    const sid = (await submit(t.app, { ...sealed, metadata: META })).json().session_id as string;
    const res = await t.app.inject({
      method: 'POST',
      url: '/enclave/request_aggregates',
      payload: { session_id: sid },
    });
    assert.equal(res.statusCode, 200, res.body);
    return { sid, body: res.json() };
  }

  it('every result is appended; the whole response verifies, and each tampering fails its named check', async () => {
    const q = await quote(t.app);
    const first = await aggregate();
    const second = await aggregate();
    assert.equal(second.body.leaf_index, first.body.leaf_index + 1);
    assert.equal(second.body.tree_size, first.body.tree_size + 1);
    const opts = { attestation: q, expectedImageHash: q.image_hash, trustedRoots: [root] };
    const ok = await CryptoHelper.verifyAggregates(second.body, opts);
    assert.equal(ok.valid, true, JSON.stringify(ok.checks));
    assert.deepEqual(
      ok.checks.map((c) => c.name),
      ['attestation', 'key_binding', 'signature', 'image_hash', 'inclusion', 'checkpoint'],
    );

    const failing = async (mutate: (r: AggregatesResponseV1) => AggregatesResponseV1) =>
      (await CryptoHelper.verifyAggregates(mutate(structuredClone(second.body)), opts)).checks
        .filter((c) => !c.ok)
        .map((c) => c.name);
    assert.deepEqual(
      await failing((r) => ({
        ...r,
        aggregates_signed: {
          ...r.aggregates_signed,
          payload: { ...r.aggregates_signed.payload, pnl: 1e9 },
        },
      })),
      ['signature', 'inclusion'],
    );
    assert.deepEqual(await failing((r) => ({ ...r, leaf_index: r.leaf_index - 1 })), ['inclusion']);
    assert.deepEqual(await failing((r) => ({ ...r, merkle_root: toHex(new Uint8Array(32)) })), [
      'inclusion',
      'checkpoint',
    ]);
    assert.deepEqual(
      await failing((r) => ({ ...r, checkpoint: r.checkpoint.replace(/— \S+ /, '— x ') })),
      ['checkpoint'],
    );
    assert.deepEqual(
      (
        await CryptoHelper.verifyAggregates(second.body, {
          ...opts,
          expectedImageHash: '1'.repeat(96),
        })
      ).checks
        .filter((c) => !c.ok)
        .map((c) => c.name),
      ['attestation', 'image_hash'],
    );

    // Consistency between the two tree heads, from the public endpoint.
    const c = await t.app.inject({
      method: 'GET',
      url: `/api/log/proof/consistency?from=${first.body.tree_size}&to=${second.body.tree_size}`,
    });
    assert.equal(c.statusCode, 200, c.body);
    assert.equal(
      verifyConsistency(
        nodePlatform,
        first.body.tree_size,
        second.body.tree_size,
        c.json().proof.map(fromHex),
        fromHex(first.body.merkle_root),
        fromHex(second.body.merkle_root),
      ),
      true,
    );
    const cp = await t.app.inject({ method: 'GET', url: '/api/log/checkpoint' });
    assert.equal(cp.body, second.body.checkpoint);
  });

  it('an account shows every leaf, revoked ones as hashes; entries and tiles are served', async () => {
    const a = await aggregate();
    const account = a.body.aggregates_signed.payload['account'] as string;
    await t.app.inject({ method: 'POST', url: '/enclave/revoke', payload: { session_id: a.sid } });
    const hist = (
      await t.app.inject({ method: 'GET', url: `/api/log/accounts/${account}` })
    ).json();
    const mine = hist.entries.find(
      (e: { leaf_index: number }) => e.leaf_index === a.body.leaf_index,
    );
    assert.equal(mine.status, 'revoked');
    assert.equal(mine.aggregates_signed, null);
    assert.match(mine.leaf_hash, /^[0-9a-f]{64}$/);
    assert.ok(hist.count >= 3 && hist.entries.some((e: { status: string }) => e.status === 'live'));

    const entry = await t.app.inject({
      method: 'GET',
      url: `/api/log/entries/${a.body.leaf_index}`,
    });
    assert.equal(entry.json().status, 'revoked');
    assert.equal(entry.json().leaf_hash, mine.leaf_hash);
    const incl = await t.app.inject({
      method: 'GET',
      url: `/api/log/proof/inclusion?leaf_index=0&tree_size=${a.body.tree_size}`,
    });
    assert.equal(incl.statusCode, 200);

    const size = hist.tree_size as number;
    const tile = await t.app.inject({ method: 'GET', url: `/api/log/tile/0/000.p/${size}` });
    assert.equal(tile.statusCode, 200);
    assert.equal(tile.rawPayload.length, 32 * size);
    assert.equal(
      toHex(tile.rawPayload.subarray(32 * a.body.leaf_index, 32 * a.body.leaf_index + 32)),
      mine.leaf_hash,
    );
    assert.equal(
      (await t.app.inject({ method: 'GET', url: `/api/log/tile/0/000.p/${size + 1}` })).statusCode,
      404,
    );
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/log/proof/consistency?from=0&to=1' }))
        .statusCode,
      400,
    );
  });
});
