import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { concatBytes, utf8 } from '../../../src/common/bytes.js';
import { CryptoError } from '../../../src/crypto/errors.js';
import { openEnvelope, sealEnvelope, type Envelope } from '../../../src/crypto/envelope.js';
import { nodePlatform } from '../../../src/platform/node.js';
import { webPlatform } from '../../../src/platform/web.js';

const enclave = nodePlatform.x25519Generate();
const isDecryptError = (e: unknown) =>
  e instanceof CryptoError &&
  e.code === 'ERR_ENVELOPE_DECRYPT' &&
  e.message === 'envelope could not be opened';

describe('credential envelope (protocol §3)', () => {
  it('a browser-sealed envelope opens with node:crypto, and the reverse', () => {
    const msg = utf8('{"exchange":"binance","apiKey":"k","apiSecret":"s"}');
    assert.deepEqual(
      openEnvelope(nodePlatform, enclave, sealEnvelope(webPlatform, enclave.publicKey, msg)),
      msg,
    );
    assert.deepEqual(
      openEnvelope(webPlatform, enclave, sealEnvelope(nodePlatform, enclave.publicKey, msg)),
      msg,
    );
  });

  it('matches the protocol derivation step by step (HKDF salt and AAD are E || enclave_pub)', () => {
    const env = sealEnvelope(nodePlatform, enclave.publicKey, utf8('x'));
    const shared = nodePlatform.x25519(enclave.privateKey, env.ephemeralPub);
    const binding = concatBytes(env.ephemeralPub, enclave.publicKey);
    const key = nodePlatform.hkdfSha256(
      shared,
      binding,
      utf8('perf-aggregator/v1/credentials'),
      32,
    );
    const plain = nodePlatform.aesGcmOpen(
      key,
      env.nonce,
      concatBytes(env.ciphertext, env.tag),
      binding,
    );
    assert.deepEqual(plain, utf8('x'));
  });

  it('openEnvelope › when any bit of any field is flipped › throws the same ERR_ENVELOPE_DECRYPT', () => {
    const env = sealEnvelope(nodePlatform, enclave.publicKey, utf8('{"apiSecret":"canary"}'));
    const fields: (keyof Envelope)[] = ['ephemeralPub', 'nonce', 'ciphertext', 'tag'];
    fc.assert(
      fc.property(
        fc.constantFrom(...fields),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (field, pos, bit) => {
          const copy = { ...env, [field]: env[field].slice() } as Envelope;
          copy[field][pos % copy[field].length]! ^= 1 << bit;
          assert.throws(() => openEnvelope(nodePlatform, enclave, copy), isDecryptError);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('openEnvelope › when sealed to another enclave key › fails', () => {
    const other = nodePlatform.x25519Generate();
    const env = sealEnvelope(nodePlatform, other.publicKey, utf8('x'));
    assert.throws(() => openEnvelope(nodePlatform, enclave, env), isDecryptError);
  });

  it('openEnvelope › when the ephemeral key is a low-order point (all-zero shared secret) › fails', () => {
    const env = sealEnvelope(nodePlatform, enclave.publicKey, utf8('x'));
    const zeroPoint = new Uint8Array(32); // u = 0 is of small order: X25519 output is all zero
    assert.throws(
      () => openEnvelope(webPlatform, enclave, { ...env, ephemeralPub: zeroPoint }),
      (e: unknown) => e instanceof Error,
    );
    assert.throws(
      () => openEnvelope(nodePlatform, enclave, { ...env, ephemeralPub: zeroPoint }),
      (e: unknown) => e instanceof Error,
    );
  });

  it('openEnvelope › when field lengths are wrong › throws ERR_ENVELOPE_MALFORMED', () => {
    const env = sealEnvelope(nodePlatform, enclave.publicKey, utf8('x'));
    for (const bad of [
      { nonce: new Uint8Array(11) },
      { tag: new Uint8Array(15) },
      { ephemeralPub: new Uint8Array(31) },
      { ciphertext: new Uint8Array(0) },
      { ciphertext: new Uint8Array(8193) },
    ]) {
      assert.throws(() => openEnvelope(nodePlatform, enclave, { ...env, ...bad }), {
        code: 'ERR_ENVELOPE_MALFORMED',
      });
    }
  });

  it('two seals of the same plaintext never share a nonce or ephemeral key', () => {
    const a = sealEnvelope(nodePlatform, enclave.publicKey, utf8('x'));
    const b = sealEnvelope(nodePlatform, enclave.publicKey, utf8('x'));
    assert.notDeepEqual(a.nonce, b.nonce);
    assert.notDeepEqual(a.ephemeralPub, b.ephemeralPub);
  });
});
