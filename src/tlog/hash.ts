/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 hashing: domain-separated leaf (0x00) and node (0x01) hashes,
 * through the injected platform's SHA-256.
 */
import type { Platform } from '../platform/types.js';

/** Size in bytes of every tree hash (SHA-256). */
export const HASH_SIZE = 32;

/**
 * The leaf hash SHA-256(0x00 || leaf).
 *
 * @example
 * leafHash(nodePlatform, new Uint8Array(0)); // 6e340b9c…
 */
export function leafHash(platform: Platform, leaf: Uint8Array): Uint8Array {
  const buf = new Uint8Array(leaf.length + 1);
  buf.set(leaf, 1);
  return platform.sha256(buf);
}

// One scratch buffer for the 65-byte node input: platform.sha256 is synchronous and keeps no
// reference to its input, so reusing it saves an allocation on the hottest path of the tree.
const scratch = new Uint8Array(65);
scratch[0] = 1;

/**
 * The interior node hash SHA-256(0x01 || left || right). Children are normally 32-byte hashes;
 * other lengths (the hasher vectors use raw bytes) take a slower path.
 *
 * @example
 * const parent = nodeHash(nodePlatform, leftHash, rightHash);
 */
export function nodeHash(platform: Platform, left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length === HASH_SIZE && right.length === HASH_SIZE) {
    scratch.set(left, 1);
    scratch.set(right, 33);
    return platform.sha256(scratch);
  }
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return platform.sha256(buf);
}

/**
 * The root of the empty tree, SHA-256("") (RFC 6962 §2.1).
 *
 * @example
 * emptyRoot(nodePlatform); // e3b0c442…
 */
export function emptyRoot(platform: Platform): Uint8Array {
  return platform.sha256(new Uint8Array(0));
}
