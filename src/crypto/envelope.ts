/**
 * Credential envelope, protocol §3: scheme `x25519-hkdf-sha256-aes256gcm`.
 *
 *   shared = X25519(e, enclave_pub)                 (all-zero output rejected, RFC 7748 §6.1)
 *   key    = HKDF-SHA256(shared, salt = E || enclave_pub, info = "perf-aggregator/v1/credentials", 32)
 *   ct||tag = AES-256-GCM(key, nonce, plaintext, aad = E || enclave_pub)
 *
 * Binding both public keys into salt and AAD ties the ciphertext to this exact enclave key, so a
 * host cannot replay it against another key.
 */
import { assertBytes } from '../common/assert.js';
import { bytesEqual, concatBytes, utf8 } from '../common/bytes.js';
import type { Platform } from '../platform/types.js';
import { CryptoError } from './errors.js';

export const ENVELOPE_SCHEME = 'x25519-hkdf-sha256-aes256gcm';
const INFO = utf8('perf-aggregator/v1/credentials');
const ZERO32 = new Uint8Array(32);
export const MAX_CIPHERTEXT = 8192;

export interface Envelope {
  ephemeralPub: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  tag: Uint8Array;
}

function deriveKey(
  platform: Platform,
  shared: Uint8Array,
  ephemeralPub: Uint8Array,
  enclavePub: Uint8Array,
) {
  if (bytesEqual(shared, ZERO32))
    throw new CryptoError('ERR_ENVELOPE_DECRYPT', 'envelope could not be opened');
  const binding = concatBytes(ephemeralPub, enclavePub);
  return { key: platform.hkdfSha256(shared, binding, INFO, 32), aad: binding };
}

/**
 * Seals `plaintext` to the enclave's X25519 public key.
 * @example
 * const env = sealEnvelope(webPlatform, enclavePub, utf8(JSON.stringify(creds)));
 */
export function sealEnvelope(
  platform: Platform,
  enclavePub: Uint8Array,
  plaintext: Uint8Array,
): Envelope {
  assertBytes(enclavePub, 'enclavePub', 32);
  assertBytes(plaintext, 'plaintext');
  if (plaintext.length < 1 || plaintext.length > MAX_CIPHERTEXT) {
    throw new CryptoError('ERR_ENVELOPE_MALFORMED', 'plaintext must be 1..8192 bytes');
  }
  const eph = platform.x25519Generate();
  const { key, aad } = deriveKey(
    platform,
    platform.x25519(eph.privateKey, enclavePub),
    eph.publicKey,
    enclavePub,
  );
  const nonce = platform.randomBytes(12);
  const sealed = platform.aesGcmSeal(key, nonce, plaintext, aad);
  return {
    ephemeralPub: eph.publicKey,
    nonce,
    ciphertext: sealed.subarray(0, sealed.length - 16),
    tag: sealed.subarray(sealed.length - 16),
  };
}

/**
 * Opens an envelope with the enclave's X25519 key pair. Every failure is the same
 * ERR_ENVELOPE_DECRYPT with the same message, so the caller learns nothing about which check failed.
 */
export function openEnvelope(
  platform: Platform,
  enclave: { privateKey: Uint8Array; publicKey: Uint8Array },
  env: Envelope,
): Uint8Array {
  if (
    env.ephemeralPub.length !== 32 ||
    env.nonce.length !== 12 ||
    env.tag.length !== 16 ||
    env.ciphertext.length < 1 ||
    env.ciphertext.length > MAX_CIPHERTEXT
  ) {
    throw new CryptoError('ERR_ENVELOPE_MALFORMED', 'envelope fields have the wrong length');
  }
  const { key, aad } = deriveKey(
    platform,
    platform.x25519(enclave.privateKey, env.ephemeralPub),
    env.ephemeralPub,
    enclave.publicKey,
  );
  const plain = platform.aesGcmOpen(key, env.nonce, concatBytes(env.ciphertext, env.tag), aad);
  if (!plain) throw new CryptoError('ERR_ENVELOPE_DECRYPT', 'envelope could not be opened');
  return plain;
}
