/**
 * Proof verification: inclusion per RFC 9162 §2.1.3.2 and consistency per RFC 9162 §2.1.4.2,
 * with the edge rules of transparency-dev/merkle that the shared probes pin (docs/tlog.md):
 * size1 = 0 is rejected, equal sizes need an empty proof and equal roots.
 *
 * Every input here is attacker-controlled: the verifiers return false for anything wrong
 * (wrong types, unsafe integers, hashes that are not 32 bytes) and never throw on it; only a
 * failing platform primitive propagates.
 */
import { bytesEqual } from '../common/bytes.js';
import type { Platform } from '../platform/types.js';
import { isIndex, popcount } from './bits.js';
import { TlogError } from './errors.js';
import { HASH_SIZE, nodeHash } from './hash.js';

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

function isProof(proof: unknown): proof is readonly Uint8Array[] {
  return Array.isArray(proof) && proof.every(isHash);
}

/**
 * The root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1–5, without the final
 * comparison). Throws ERR_TLOG_PROOF if the inputs are malformed or the proof has the wrong length
 * for (index, size); any other wrong proof yields a wrong root.
 *
 * @example
 * const root = rootFromInclusionProof(nodePlatform, leafHash, 5, 8, proof);
 */
export function rootFromInclusionProof(
  platform: Platform,
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array {
  if (!isIndex(index) || !isIndex(size) || index >= size || !isHash(leafHash) || !isProof(proof)) {
    throw new TlogError('ERR_TLOG_PROOF');
  }
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new TlogError('ERR_TLOG_PROOF'); // proof too long
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(platform, p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(platform, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new TlogError('ERR_TLOG_PROOF'); // proof too short
  return r;
}

/**
 * True when `proof` proves that `leafHash` is leaf `index` of the tree of `size` leaves whose
 * root is `root` (RFC 9162 §2.1.3.2). Returns false for any malformed input.
 *
 * @example
 * if (!verifyInclusion(nodePlatform, leafHash, 5, 8, proof, checkpoint.rootHash)) reject();
 */
export function verifyInclusion(
  platform: Platform,
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(root)) return false;
  try {
    return bytesEqual(rootFromInclusionProof(platform, leafHash, index, size, proof), root);
  } catch (e) {
    if (e instanceof TlogError) return false;
    throw e; // a platform failure, not a verdict
  }
}

/**
 * True when `proof` proves that the tree of `size1` leaves with root `root1` is a prefix of the
 * tree of `size2` leaves with root `root2` (RFC 9162 §2.1.4.2). Returns false for any malformed
 * input.
 * - size1 > size2: false.
 * - size1 = size2: true iff the proof is empty and root1 equals root2.
 * - size1 = 0 < size2: false (the empty tree is a prefix of every tree: there is nothing to
 *   prove, and a verifier that accepts "old 0" must do so before calling this; docs/tlog.md).
 *
 * @example
 * if (!verifyConsistency(nodePlatform, old.size, cp.size, proof, old.rootHash, cp.rootHash)) fork();
 */
export function verifyConsistency(
  platform: Platform,
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  if (!isIndex(size1) || !isIndex(size2) || size1 > size2 || !Array.isArray(proof)) return false;
  if (!(root1 instanceof Uint8Array) || !(root2 instanceof Uint8Array)) return false;
  if (size1 === 0) return false;
  if (size1 === size2) return proof.length === 0 && bytesEqual(root1, root2);
  if (!isHash(root1) || !isHash(root2) || !isProof(proof) || proof.length === 0) return false;

  // Step 2: when size1 is a power of two the proof omits root1, the verifier prepends it.
  const path = popcount(size1) === 1 ? [root1, ...proof] : proof;

  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(platform, c, fr);
      sr = nodeHash(platform, c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(platform, sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && bytesEqual(fr, root1) && bytesEqual(sr, root2);
}
