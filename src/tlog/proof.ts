/**
 * In-memory proof generation straight from the RFC 6962 definitions: MTH (§2.1), PATH (§2.1.1)
 * and PROOF/SUBPROOF (§2.1.2), recursively over a list of leaf hashes. O(n) hashes per proof: this
 * is the oracle the stored-node plans (proof-plan.ts) are tested against, and a convenience for
 * small trees. A log serves proofs through the plans.
 */
import type { Platform } from '../platform/types.js';
import { isIndex } from './bits.js';
import { TlogError } from './errors.js';
import { emptyRoot, nodeHash } from './hash.js';

/** Largest power of two strictly smaller than n (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function mth(
  platform: Platform,
  leaves: readonly Uint8Array[],
  lo: number,
  hi: number,
): Uint8Array {
  if (hi - lo === 1) return leaves[lo]!;
  const k = splitPoint(hi - lo);
  return nodeHash(platform, mth(platform, leaves, lo, lo + k), mth(platform, leaves, lo + k, hi));
}

function checkLeaves(leafHashes: readonly Uint8Array[], size: number): void {
  if (!Array.isArray(leafHashes) || !isIndex(size) || size > leafHashes.length) {
    throw new TlogError('ERR_TLOG_RANGE');
  }
}

/**
 * MTH(D[0:size]) of the first `size` leaf hashes (RFC 6962 §2.1).
 *
 * @example
 * merkleTreeHash(nodePlatform, leafHashes, leafHashes.length);
 */
export function merkleTreeHash(
  platform: Platform,
  leafHashes: readonly Uint8Array[],
  size: number,
): Uint8Array {
  checkLeaves(leafHashes, size);
  return size === 0 ? emptyRoot(platform) : mth(platform, leafHashes, 0, size);
}

/**
 * PATH(index, D[0:size]): the inclusion proof of leaf `index`, leaf sibling first
 * (RFC 6962 §2.1.1). Throws ERR_TLOG_RANGE unless 0 ≤ index < size ≤ leafHashes.length.
 *
 * @example
 * inclusionProof(nodePlatform, leafHashes, 5, 8); // 3 hashes
 */
export function inclusionProof(
  platform: Platform,
  leafHashes: readonly Uint8Array[],
  index: number,
  size: number,
): Uint8Array[] {
  checkLeaves(leafHashes, size);
  if (!isIndex(index) || index >= size) throw new TlogError('ERR_TLOG_RANGE');
  const out: Uint8Array[] = [];
  const path = (m: number, lo: number, hi: number): void => {
    if (hi - lo === 1) return;
    const k = splitPoint(hi - lo);
    if (m < k) {
      path(m, lo, lo + k);
      out.push(mth(platform, leafHashes, lo + k, hi));
    } else {
      path(m - k, lo + k, hi);
      out.push(mth(platform, leafHashes, lo, lo + k));
    }
  };
  path(index, 0, size);
  return out;
}

/**
 * PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true): the consistency proof from size m to size n
 * (RFC 6962 §2.1.2). Empty when m = n. Throws ERR_TLOG_RANGE unless 0 < m ≤ n ≤ leafHashes.length.
 *
 * @example
 * consistencyProof(nodePlatform, leafHashes, 6, 8); // 3 hashes
 */
export function consistencyProof(
  platform: Platform,
  leafHashes: readonly Uint8Array[],
  m: number,
  n: number,
): Uint8Array[] {
  checkLeaves(leafHashes, n);
  if (!isIndex(m) || m === 0 || m > n) throw new TlogError('ERR_TLOG_RANGE');
  const out: Uint8Array[] = [];
  const subproof = (mm: number, lo: number, hi: number, complete: boolean): void => {
    if (mm === hi - lo) {
      if (!complete) out.push(mth(platform, leafHashes, lo, hi));
      return;
    }
    const k = splitPoint(hi - lo);
    if (mm <= k) {
      subproof(mm, lo, lo + k, complete);
      out.push(mth(platform, leafHashes, lo + k, hi));
    } else {
      subproof(mm - k, lo + k, hi, false);
      out.push(mth(platform, leafHashes, lo, lo + k));
    }
  };
  subproof(m, 0, n, true);
  return out;
}
