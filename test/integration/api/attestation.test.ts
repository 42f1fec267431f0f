import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { quote } from '../../helpers/client.js';

describe('GET /attestation/quote (protocol §2)', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  it('answers the protocol fields; the document verifies with the dev root, bound to both keys and the nonce', async () => {
    const nonce = Buffer.from('fresh-nonce-1234').toString('base64');
    const q = await quote(t.app, nonce);
    assert.equal(q.format, 'dev');
    assert.match(q.image_hash, /^[0-9a-f]{96}$/);
    assert.equal(Buffer.from(q.enclave_pubkey, 'base64').length, 32);
    assert.equal(Buffer.from(q.signing_pubkey, 'base64').length, 32);
    const root = (await t.app.inject({ method: 'GET', url: '/attestation/dev-root' })).body;
    assert.match(root, /^-----BEGIN CERTIFICATE-----/);
    const v = await CryptoHelper.verifyAttestation(q, q.image_hash, {
      trustedRoots: [root],
      nonce,
    });
    assert.equal(v.valid, true, JSON.stringify(v.checks));
    const names = v.checks.map((c) => c.name);
    for (const n of [
      'root',
      'chain',
      'signature',
      'pcrs',
      'public_key',
      'user_data',
      'nonce',
      'freshness',
      'image_hash',
    ])
      assert.ok(names.includes(n), n);
  });

  it('a dev quote under the default (AWS) root is an "untrusted root" verdict, not a pass', async () => {
    const q = await quote(t.app);
    const v = await CryptoHelper.verifyAttestation(q, q.image_hash);
    assert.equal(v.valid, false);
    assert.deepEqual(
      v.checks.find((c) => c.name === 'root'),
      { name: 'root', ok: false, code: 'ERR_ATTESTATION_UNTRUSTED_ROOT' },
    );
  });

  it('fails when the expected image hash, the nonce or the advertised key differ', async () => {
    const root = (await t.app.inject({ method: 'GET', url: '/attestation/dev-root' })).body;
    const q = await quote(t.app, 'AAAA');
    const wrongHash = await CryptoHelper.verifyAttestation(q, 'ab'.repeat(48), {
      trustedRoots: [root],
      nonce: 'AAAA',
    });
    assert.equal(wrongHash.valid, false);
    const wrongNonce = await CryptoHelper.verifyAttestation(q, q.image_hash, {
      trustedRoots: [root],
      nonce: 'AAAB',
    });
    assert.equal(wrongNonce.checks.find((c) => c.name === 'nonce')?.ok, false);
    const swappedKey = await CryptoHelper.verifyAttestation(
      { ...q, enclave_pubkey: Buffer.alloc(32, 7).toString('base64') },
      q.image_hash,
      { trustedRoots: [root], nonce: 'AAAA' },
    );
    assert.equal(swappedKey.checks.find((c) => c.name === 'public_key')?.ok, false);
  });

  it('rejects a nonce that is not 1..64 bytes of canonical base64 with INVALID_REQUEST', async () => {
    for (const bad of ['%%%', Buffer.alloc(65).toString('base64'), 'YQ']) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/attestation/quote?nonce=${encodeURIComponent(bad)}`,
      });
      assert.equal(res.statusCode, 400, bad);
      assert.equal(res.json().error.code, 'INVALID_REQUEST');
    }
  });
});

describe('CryptoHelper.verifyAttestation input handling', () => {
  it('a malformed root or quote gives a failed verdict, never a throw', async () => {
    const q = {
      quote: 'AAAA',
      enclave_pubkey: 'AAAA',
      signing_pubkey: 'AAAA',
      image_hash: '00',
      format: 'dev' as const,
    };
    const badRoot = await CryptoHelper.verifyAttestation(q, '00', { trustedRoots: ['not a pem'] });
    assert.equal(badRoot.valid, false);
    assert.equal(badRoot.checks[0]?.name, 'trusted_roots');
    const badQuote = await CryptoHelper.verifyAttestation({ ...q, quote: '%%' }, '00');
    assert.equal(badQuote.valid, false);
    assert.equal(badQuote.checks[0]?.code, 'ERR_ATTESTATION_MALFORMED');
  });
});
