/**
 * The key ring across enclave instances, with the enclave's clock injected (no waiting):
 * restart, a second instance opening the first's sessions, rotation and destruction of old keys,
 * two instances rotating at once (compare-and-swap), and the key service's PCR0 policy.
 * Runs on PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { newSessionId } from '../../../src/api/session-id.js';
import type { EnclaveIdentity } from '../../../src/api/enclave-link.js';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { fromBase64, toHex } from '../../../src/common/bytes.js';
import { decodeCoseSign1 } from '../../../src/attestation/cose.js';
import { decodeAttestationDocument } from '../../../src/attestation/nitro-document.js';
import { verifySignedJson } from '../../../src/crypto/signed-json.js';
import { nodePlatform } from '../../../src/platform/node.js';
import { createKeyRingStore, type KeyRingStore } from '../../../src/store/keyring-store.js';
import type { WireEnvelope } from '../../../src/wire/messages.js';
import { openTestDb, type TestDb } from '../../helpers/db.js';
import {
  HOUR,
  startInProcessEnclave,
  startLocalKms,
  type InProcessEnclave,
  type LocalKms,
} from '../../helpers/inprocess-enclave.js';
import { startSimProcess, type Proc } from '../../helpers/processes.js';

const PCR_A = nodePlatform.sha384(new TextEncoder().encode('enclave bundle A'));
const PCR_B = nodePlatform.sha384(new TextEncoder().encode('enclave bundle B (changed)'));
const DEMO = { exchange: 'binance', apiKey: 'demo-binance-key', apiSecret: 'demo-binance-secret' };

function seal(id: EnclaveIdentity, keyId = id.key_id): WireEnvelope {
  const k = id.credential_keys.find((c) => c.key_id === keyId)!;
  const s = CryptoHelper.encryptCredentials(DEMO, k.public_key, nodePlatform);
  return {
    ephemeral_pub: s.ephemeral_pub,
    nonce: s.nonce,
    ciphertext: s.ciphertext,
    tag: s.tag,
    key_id: keyId,
  };
}

const codeOf = (e: unknown): string | undefined => (e as { code?: string }).code;

describe('enclave key ring: restart, second instance, rotation', { timeout: 120_000 }, () => {
  let testDb: TestDb;
  let ring: KeyRingStore;
  let kms: LocalKms;
  let sim: Proc & { url: string };
  const clock = { now: Date.now() };
  const open: InProcessEnclave[] = [];
  const start = async (pcr0 = PCR_A, k = kms): Promise<InProcessEnclave> => {
    const e = await startInProcessEnclave({ kms: k, ring, pcr0, clock, exchangeBaseUrl: sim.url });
    open.push(e);
    return e;
  };

  before(async () => {
    [testDb, sim] = await Promise.all([openTestDb(), startSimProcess()]);
    ring = createKeyRingStore(testDb.appDb);
    kms = await startLocalKms([toHex(PCR_A)]);
  });
  after(async () => {
    for (const e of open) await e.close();
    await kms?.close();
    await sim?.stop();
    await testDb?.close();
  });

  let a: InProcessEnclave;
  let b: InProcessEnclave;
  let first: EnclaveIdentity;

  it('the first start stores the ring; a restarted enclave gets the same keys without writing', async () => {
    const a0 = await start();
    first = await a0.link.identity();
    assert.equal((await ring.load())?.version, 1);
    assert.equal(first.credential_keys.length, 1);
    await a0.close();
    a = await start();
    const again = await a.link.identity();
    assert.equal(again.key_id, first.key_id);
    assert.equal(again.signing_key_id, first.signing_key_id);
    assert.equal((await ring.load())?.version, 1, 'an unchanged ring is not rewritten');
  });

  it('a second instance opens and computes a session submitted to the first', async () => {
    b = await start();
    assert.equal((await b.link.identity()).key_id, first.key_id);
    const envelope = seal(first);
    await a.link.call('open_envelope', { envelope, exchange: 'binance' });
    const { signed } = await b.link.call('compute_aggregates', {
      session_id: newSessionId(),
      exchange: 'binance',
      label: 'second-instance',
      envelope,
      from: null,
      to: null,
      daily: false,
      history: null,
    });
    assert.ok(verifySignedJson(nodePlatform, fromBase64(first.signing_pubkey), signed));
    assert.equal(signed.payload['key_id'], first.signing_key_id);
  });

  let rotated: EnclaveIdentity;

  it('rotates after KEY_ROTATION_HOURS: the quote names the new key, the old one still opens', async () => {
    clock.now += 24 * HOUR;
    rotated = await a.link.sync();
    assert.notEqual(rotated.key_id, first.key_id);
    assert.deepEqual(
      rotated.credential_keys.map((k) => k.key_id),
      [first.key_id, rotated.key_id],
    );
    assert.equal(rotated.signing_key_id, first.signing_key_id);
    assert.equal((await ring.load())?.version, 2);

    // The quote attests the current key.
    const { document } = await a.link.call('attest', { nonce: null, key_id: rotated.key_id });
    const doc = decodeAttestationDocument(decodeCoseSign1(fromBase64(document)).payload);
    assert.deepEqual(doc.public_key, fromBase64(rotated.enclave_pubkey));

    // B has not synced: it learns the new key on the first envelope sealed to it.
    await b.link.call('open_envelope', { envelope: seal(rotated), exchange: 'binance' });
    assert.equal((await b.link.identity()).key_id, rotated.key_id);
    // A quote fetched just before rotation still works within the grace period.
    await b.link.call('open_envelope', {
      envelope: seal(rotated, first.key_id),
      exchange: 'binance',
    });
  });

  it('a retired key takes no new sessions after the grace period but opens stored ones until destroyed', async () => {
    clock.now += 11 * 60_000;
    const old = seal(rotated, first.key_id);
    await assert.rejects(
      a.link.call('open_envelope', { envelope: old, exchange: 'binance' }),
      (e) => codeOf(e) === 'UNKNOWN_ENCLAVE_KEY',
    );
    await assert.rejects(
      a.link.call('attest', { nonce: null, key_id: first.key_id }),
      (e) => codeOf(e) === 'UNKNOWN_ENCLAVE_KEY',
    );
    const session = {
      session_id: newSessionId(),
      exchange: 'binance',
      label: 'old-key',
      envelope: old,
      from: null,
      to: null,
      daily: false,
      history: null,
    };
    await a.link.call('compute_aggregates', session);

    // Past MAX_TTL_SECONDS after retirement (plus the grace), the key is destroyed.
    clock.now += 7 * 24 * HOUR;
    const later = await a.link.sync();
    assert.ok(!later.credential_keys.some((k) => k.key_id === first.key_id));
    await assert.rejects(
      a.link.call('compute_aggregates', { ...session, session_id: newSessionId() }),
      (e) => codeOf(e) === 'UNKNOWN_ENCLAVE_KEY',
    );
  });

  it('two instances rotating at the same moment agree on one ring (compare-and-swap)', async () => {
    const before = (await ring.load())!.version;
    await b.link.sync();
    clock.now += 24 * HOUR;
    const [ia, ib] = await Promise.all([a.link.sync(), b.link.sync()]);
    assert.equal(ia.key_id, ib.key_id);
    assert.deepEqual(
      ia.credential_keys.map((k) => k.key_id),
      ib.credential_keys.map((k) => k.key_id),
    );
    assert.equal((await ring.load())!.version, before + 1, 'exactly one rotation was stored');
    const env = seal(ia);
    await a.link.call('open_envelope', { envelope: env, exchange: 'binance' });
    await b.link.call('open_envelope', { envelope: env, exchange: 'binance' });
  });

  it('a changed enclave image (PCR0 not in the key policy) cannot unwrap the ring', async () => {
    const changed = await start(PCR_B);
    await assert.rejects(changed.link.identity(), (e) => codeOf(e) === 'KEY_SERVICE_DENIED');
    assert.ok(
      kms.logs.some(
        (l) => l['event'] === 'kms_refused' && l['reason'] === 'image_sha384_not_allowed',
      ),
    );
    // The stored ring is untouched by the refused instance.
    const stored = await ring.load();
    const current = await a.link.identity();
    assert.equal((await a.link.sync()).key_id, current.key_id);
    assert.equal((await ring.load())!.version, stored!.version);
  });

  it('once the policy allows the new PCR0 too (a rollout), the new image opens the same ring', async () => {
    const both = await startLocalKms([toHex(PCR_A), toHex(PCR_B)], kms.dataDir);
    try {
      const upgraded = await start(PCR_B, both);
      const id = await upgraded.link.identity();
      assert.equal(id.key_id, (await a.link.identity()).key_id);
      assert.equal(id.image_hash, toHex(PCR_B));
    } finally {
      await both.close();
    }
  });
});
