/** The key ring's rotation policy and sealing, with an explicit clock (no timers, no waiting). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromBase64, toBase64, fromUtf8, utf8 } from '../../../src/common/bytes.js';
import {
  acceptsUntil,
  currentKey,
  destroyAt,
  findCredentialKey,
  generateKeyRing,
  KeyRingError,
  openKeyRing,
  parseSealedRing,
  rotateKeyRing,
  sealKeyRing,
  type RotationPolicy,
} from '../../../src/enclave/keyring.js';
import { nodePlatform as P } from '../../../src/platform/node.js';

const HOUR = 3_600_000;
const policy: RotationPolicy = {
  rotationMs: 24 * HOUR,
  maxTtlMs: 7 * 24 * HOUR,
  submitGraceMs: 600_000,
};
const T0 = Date.UTC(2026, 0, 1);
const ARN = 'arn:aws:kms:local:000000000000:key/00000000-0000-4000-8000-000000000000';

describe('key ring rotation', () => {
  it('keeps the current key until the rotation period has passed, then adds a new one', () => {
    const ring = generateKeyRing(P, T0);
    const early = rotateKeyRing(P, ring, T0 + 24 * HOUR - 1, policy);
    assert.equal(early.changed, false);
    assert.equal(early.ring, ring);
    const due = rotateKeyRing(P, ring, T0 + 24 * HOUR, policy);
    assert.equal(due.changed, true);
    assert.equal(due.ring.credentials.length, 2);
    const [old, cur] = due.ring.credentials;
    assert.equal(old!.keyId, currentKey(ring).keyId);
    assert.equal(old!.retiredAt, T0 + 24 * HOUR);
    assert.equal(cur!.retiredAt, null);
    assert.notEqual(cur!.keyId, old!.keyId);
    assert.equal(due.ring.signingKeyId, ring.signingKeyId, 'the signing key is never rotated');
  });

  it('a retired key accepts submissions for the grace period and exists until its last session expired', () => {
    const r1 = rotateKeyRing(P, generateKeyRing(P, T0), T0 + 24 * HOUR, policy).ring;
    const old = r1.credentials[0]!;
    const retired = T0 + 24 * HOUR;
    assert.equal(acceptsUntil(old, policy), retired + 600_000);
    assert.equal(destroyAt(old, policy), retired + 600_000 + 7 * 24 * HOUR);
    assert.equal(acceptsUntil(currentKey(r1), policy), null);
    const lastMoment = retired + 600_000 + 7 * 24 * HOUR - 1;
    assert.ok(findCredentialKey(r1, old.keyId, lastMoment, policy));
    assert.equal(findCredentialKey(r1, old.keyId, lastMoment + 1, policy), null);
  });

  it('destroys retired keys once past their time, never the current one', () => {
    let ring = generateKeyRing(P, T0);
    const first = currentKey(ring).keyId;
    // Rotate daily for ten days: keys retired more than 7 days + grace ago are gone.
    for (let d = 1; d <= 10; d++) ring = rotateKeyRing(P, ring, T0 + d * 24 * HOUR, policy).ring;
    const ids = ring.credentials.map((k) => k.keyId);
    assert.ok(!ids.includes(first));
    // Retired on day d, destroyed at d + 7 days + 10 min: days 1 and 2 are gone, 3..10 remain.
    assert.deepEqual(
      ring.credentials.map((k) => k.retiredAt),
      [3, 4, 5, 6, 7, 8, 9, 10].map((d) => T0 + d * 24 * HOUR).concat([null] as never[]),
    );
    assert.equal(currentKey(ring).retiredAt, null);
    const later = rotateKeyRing(P, ring, T0 + 10 * 24 * HOUR + 1, policy);
    assert.equal(later.changed, false);
  });
});

describe('key ring sealing', () => {
  const dk = P.randomBytes(32);
  const wrapped = P.randomBytes(60);

  it('round-trips every key and its times', () => {
    const ring = rotateKeyRing(P, generateKeyRing(P, T0), T0 + 24 * HOUR, policy).ring;
    const sealed = sealKeyRing(P, dk, ARN, wrapped, ring);
    const parts = parseSealedRing(sealed);
    assert.equal(parts.keyArn, ARN);
    assert.deepEqual(parts.wrappedKey, wrapped);
    const back = openKeyRing(P, dk, parts);
    assert.equal(back.signingKeyId, ring.signingKeyId);
    assert.deepEqual(
      back.credentials.map((k) => [k.keyId, k.createdAt, k.retiredAt]),
      ring.credentials.map((k) => [k.keyId, k.createdAt, k.retiredAt]),
    );
  });

  it('refuses a wrong data key, a swapped wrapped key or ARN, and a flipped bit', () => {
    const sealed = sealKeyRing(P, dk, ARN, wrapped, generateKeyRing(P, T0));
    const parts = parseSealedRing(sealed);
    const refuses = (f: () => unknown): void =>
      assert.throws(f, (e) => e instanceof KeyRingError && e.code === 'ERR_KEYRING_UNSEAL');
    refuses(() => openKeyRing(P, P.randomBytes(32), parts));
    refuses(() => openKeyRing(P, dk, { ...parts, wrappedKey: P.randomBytes(60) }));
    refuses(() => openKeyRing(P, dk, { ...parts, keyArn: ARN.replace('local', 'other') }));
    const ct = parts.ciphertext.slice();
    ct[5]! ^= 1;
    refuses(() => openKeyRing(P, dk, { ...parts, ciphertext: ct }));
    refuses(() => parseSealedRing('not base64!'));
    const json = JSON.parse(fromUtf8(fromBase64(sealed))) as Record<string, unknown>;
    refuses(() => parseSealedRing(toBase64(utf8(JSON.stringify({ ...json, v: 1 })))));
  });
});
