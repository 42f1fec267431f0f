/** RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing: domain-separated leaf (0x00) and node (0x01) hashes. */
import type { Platform } from '../platform/types.js';

export function leafHash(platform: Platform, leaf: Uint8Array): Uint8Array {
  const buf = new Uint8Array(leaf.length + 1);
  buf.set(leaf, 1);
  return platform.sha256(buf);
}

export function nodeHash(platform: Platform, left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 33);
  return platform.sha256(buf);
}
