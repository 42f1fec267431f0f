/**
 * Key rotation through the HTTP API (protocol §2–3), with a real enclave process whose rotation
 * period is configured short (KEY_ROTATION_HOURS=0.001, 3.6 s) and the host's clock injected:
 * the quote names the current key; submit_key takes an envelope sealed to the previous key while
 * it is within its grace period, and refuses it after, storing nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { parseTime } from '../../../src/common/time.js';
import { startBinanceSim, type BinanceSim } from '../../../src/sim/binance.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { META, quote, submit } from '../../helpers/client.js';

const SHORT = { ...META, ttl: 300 };
const DEMO = { exchange: 'binance', apiKey: 'demo-binance-key', apiSecret: 'demo-binance-secret' };

describe('key rotation over HTTP', { timeout: 60_000 }, () => {
  let t: TestApp;
  let sim: BinanceSim;
  before(async () => {
    // submit_key asks the exchange what the key may do: the demo key lives on the simulator
    sim = await startBinanceSim({ seed: 3 });
    t = await startTestApp({
      exchangeBaseUrl: sim.url,
      enclaveEnv: { KEY_ROTATION_HOURS: '0.001', MAX_TTL_SECONDS: '600' },
      config: { MAX_TTL_SECONDS: 600 },
    });
  });
  after(async () => {
    await t?.close();
    await sim?.close();
  });

  const sessions = async () =>
    (await t.db.db.query<{ n: number }>('SELECT count(*) AS n FROM sessions'))[0]!.n;

  it('the quote follows the current key; an older key is accepted only within its grace', async () => {
    const q1 = await quote(t.app);
    const sealedOld = CryptoHelper.encryptCredentials(DEMO, q1.enclave_pubkey);
    await new Promise((r) => setTimeout(r, 3_700)); // one rotation period of the enclave's clock
    const rotated = await t.link.sync();
    const q2 = await quote(t.app);
    assert.notEqual(q2.enclave_pubkey, q1.enclave_pubkey);
    assert.equal(q2.enclave_pubkey, rotated.enclave_pubkey);
    const verdict = await CryptoHelper.verifyAttestation(q2, q2.image_hash, {
      trustedRoots: [(await t.app.inject({ method: 'GET', url: '/attestation/dev-root' })).body],
    });
    assert.ok(verdict.ok, 'the new quote attests the new key');

    const r1 = await submit(t.app, { ...sealedOld, metadata: SHORT });
    assert.equal(r1.statusCode, 201, r1.body);
    const r2 = await submit(t.app, {
      ...CryptoHelper.encryptCredentials(DEMO, q2.enclave_pubkey),
      metadata: SHORT,
    });
    assert.equal(r2.statusCode, 201, r2.body);

    // The host's clock past the old key's grace: refused before the enclave is asked.
    const old = rotated.credential_keys.find((k) => k.public_key === q1.enclave_pubkey)!;
    t.clock.now = parseTime(old.accepts_until!)! + 1;
    const before = await sessions();
    const r3 = await submit(t.app, { ...sealedOld, metadata: SHORT });
    assert.equal(r3.statusCode, 400);
    assert.equal(r3.json().error.code, 'UNKNOWN_ENCLAVE_KEY');
    assert.equal(await sessions(), before, 'nothing stored');
  });
});
