import { toHex } from '../common/bytes.js';
import type { Platform } from '../platform/types.js';

/** Protocol §1: key_id = first 16 hex chars of SHA-256(raw public key). */
export function keyId(platform: Platform, publicKey: Uint8Array): string {
  return toHex(platform.sha256(publicKey)).slice(0, 16);
}
