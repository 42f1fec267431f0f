/**
 * The enclave's key ring (protocol §1): an X25519 credential key and an Ed25519 signing key.
 * Outside the enclave it exists only sealed, with a key that only an enclave of the same image
 * can derive (dev: the dev NSM's sealing key bound to PCR0; nitro: KMS with an attestation policy).
 */
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from '../common/bytes.js';
import { CodedError } from '../common/errors.js';
import { keyId } from '../crypto/key-id.js';
import type { KeyPair, Platform } from '../platform/types.js';

export class KeyRingError extends CodedError<'ERR_KEYRING_UNSEAL'> {}

export interface KeyRing {
  credential: KeyPair;
  signing: KeyPair;
  credentialKeyId: string;
  signingKeyId: string;
}

const AAD = utf8('perf-aggregator/v1/keyring');

export function generateKeyRing(platform: Platform): KeyRing {
  return withIds(platform, platform.x25519Generate(), platform.ed25519Generate());
}

function withIds(platform: Platform, credential: KeyPair, signing: KeyPair): KeyRing {
  return {
    credential,
    signing,
    credentialKeyId: keyId(platform, credential.publicKey),
    signingKeyId: keyId(platform, signing.publicKey),
  };
}

/** AES-256-GCM under `sealKey`; output is base64(nonce || ciphertext || tag). */
export function sealKeyRing(platform: Platform, sealKey: Uint8Array, ring: KeyRing): string {
  const plain = utf8(
    JSON.stringify({
      v: 1,
      credential: toBase64(ring.credential.privateKey),
      signing: toBase64(ring.signing.privateKey),
    }),
  );
  const nonce = platform.randomBytes(12);
  return toBase64(concatBytes(nonce, platform.aesGcmSeal(sealKey, nonce, plain, AAD)));
}

export function unsealKeyRing(platform: Platform, sealKey: Uint8Array, sealed: string): KeyRing {
  const fail = (): never => {
    throw new KeyRingError('ERR_KEYRING_UNSEAL', 'key ring could not be unsealed');
  };
  try {
    const raw = fromBase64(sealed);
    const plain =
      raw.length > 28
        ? platform.aesGcmOpen(sealKey, raw.subarray(0, 12), raw.subarray(12), AAD)
        : null;
    if (!plain) return fail();
    const obj = JSON.parse(fromUtf8(plain)) as {
      v?: unknown;
      credential?: unknown;
      signing?: unknown;
    };
    if (obj.v !== 1 || typeof obj.credential !== 'string' || typeof obj.signing !== 'string')
      return fail();
    const c = fromBase64(obj.credential);
    const s = fromBase64(obj.signing);
    return withIds(
      platform,
      { privateKey: c, publicKey: platform.x25519PublicKey(c) },
      { privateKey: s, publicKey: platform.ed25519PublicKey(s) },
    );
  } catch (e) {
    if (e instanceof KeyRingError) throw e;
    return fail();
  }
}
