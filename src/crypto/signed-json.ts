/** Ed25519 signatures over JCS(payload) (protocol §4). */
import { fromBase64, toBase64 } from '../common/bytes.js';
import type { Platform } from '../platform/types.js';
import { jcsBytes } from './jcs.js';

export interface SignedJson<T> {
  signature: string;
  payload: T;
}

export function signJson<T>(platform: Platform, privateKey: Uint8Array, payload: T): SignedJson<T> {
  return { signature: toBase64(platform.ed25519Sign(privateKey, jcsBytes(payload))), payload };
}

/** Returns false (never throws) for a bad signature, a malformed one, or a payload with no JSON form. */
export function verifySignedJson(
  platform: Platform,
  publicKey: Uint8Array,
  signed: SignedJson<unknown>,
): boolean {
  try {
    return platform.ed25519Verify(
      publicKey,
      jcsBytes(signed.payload),
      fromBase64(signed.signature),
    );
  } catch {
    return false;
  }
}
