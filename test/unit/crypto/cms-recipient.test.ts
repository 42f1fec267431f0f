/**
 * CMS EnvelopedData as KMS returns it in `CiphertextForRecipient`. The vectors in
 * test/vectors/cms/ were made by OpenSSL 3.0 (`openssl cms -encrypt -keyid -aes256 -keyopt
 * rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256`, with `-stream`
 * for BER with indefinite lengths and a chunked content), so the parser is checked against an
 * independent encoder, not only against our own.
 */
import assert from 'node:assert/strict';
import {
  createCipheriv,
  createPrivateKey,
  createPublicKey,
  publicEncrypt,
  constants,
  randomBytes,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CmsError,
  decodeRecipientEnvelope,
  encodeRecipientEnvelope,
} from '../../../src/crypto/cms-recipient.js';
import {
  createRecipientKey,
  openRecipientEnvelope,
  RecipientError,
} from '../../../src/enclave/recipient-key.js';

const dir = join(import.meta.dirname, '../../vectors/cms');
const vec = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir, name)));
const key = createPrivateKey(readFileSync(join(dir, 'recipient.key.pem')));

function code(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

describe('CMS CiphertextForRecipient', () => {
  it('opens OpenSSL DER output (definite lengths, one content octet string)', () => {
    assert.deepEqual(openRecipientEnvelope(key, vec('der.der')), vec('plaintext.bin'));
  });

  it('opens OpenSSL BER stream output (indefinite lengths, chunked constructed content)', () => {
    assert.deepEqual(openRecipientEnvelope(key, vec('ber-stream.der')), vec('plaintext.bin'));
    assert.deepEqual(openRecipientEnvelope(key, vec('ber-stream-big.der')), vec('big.bin'));
  });

  it('refuses an issuerAndSerialNumber recipient (KMS always uses a subjectKeyIdentifier)', () => {
    assert.throws(
      () => decodeRecipientEnvelope(vec('issuer-serial.der')),
      (e) => e instanceof CmsError && code(e) === 'ERR_CMS_UNSUPPORTED',
    );
  });

  it('refuses explicit OAEP parameters with SHA-1', () => {
    assert.throws(
      () => decodeRecipientEnvelope(vec('oaep-sha1.der')),
      (e) => e instanceof CmsError && code(e) === 'ERR_CMS_UNSUPPORTED',
    );
  });

  it('refuses truncated and garbage input as malformed', () => {
    const der = vec('der.der');
    for (const bad of [
      der.subarray(0, der.length - 7),
      new Uint8Array([0x30, 0x03, 1, 2, 3]),
      new Uint8Array(0),
    ]) {
      assert.throws(
        () => decodeRecipientEnvelope(bad),
        (e) => e instanceof CmsError && code(e) === 'ERR_CMS_MALFORMED',
      );
    }
  });

  it('fails to open with the wrong private key, and on a flipped content byte', () => {
    const other = createRecipientKey();
    assert.throws(
      () => other.open(vec('der.der')),
      (e) => e instanceof RecipientError && code(e) === 'ERR_RECIPIENT_DECRYPT',
    );
    const flipped = vec('der.der');
    flipped[flipped.length - 1]! ^= 0x01; // last byte of the last CBC block: padding breaks
    assert.throws(() => openRecipientEnvelope(key, flipped), RecipientError);
  });

  it('our DER encoder round-trips and is opened by an ephemeral recipient key', () => {
    const r = createRecipientKey();
    const pub = createPublicKey({ key: Buffer.from(r.publicKeyDer), format: 'der', type: 'spki' });
    const cek = randomBytes(32);
    const iv = randomBytes(16);
    const plain = randomBytes(32);
    const c = createCipheriv('aes-256-cbc', cek, iv);
    const encryptedContent = Buffer.concat([c.update(plain), c.final()]);
    const encryptedKey = publicEncrypt(
      { key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      cek,
    );
    const der = encodeRecipientEnvelope({
      subjectKeyId: new Uint8Array(20).fill(7),
      encryptedKey,
      iv,
      encryptedContent,
    });
    const back = decodeRecipientEnvelope(der);
    assert.deepEqual(back.iv, new Uint8Array(iv));
    assert.deepEqual(back.subjectKeyId, new Uint8Array(20).fill(7));
    assert.deepEqual(r.open(der), new Uint8Array(plain));
  });
});
