/**
 * Serving proofs from stored nodes (RFC 9162 §2.1.3.1 / §2.1.4.1 proofs, decomposed as in
 * transparency-dev/merkle `proof.Nodes`). A plan lists the perfect-subtree nodes to read, at most
 * about 2·log2(n), and `assemble` turns them into the RFC proof by rehashing the one *ephemeral*
 * node: the right-edge subtree that is not perfect in a tree of this size, so it is never stored.
 * A host thus serves any proof at any past size in O(log n) reads and O(log n) hashes.
 *
 * Layout of a proof for the seed node (level, index) in a tree of `size` leaves: the siblings on
 * the path up to the *fork* (where the path to the seed leaves the tree's right edge), then the
 * fork's right sibling (ephemeral: the hash of leaves [end, size), folded from its perfect
 * parts), then the perfect subtrees left of the fork, lowest first.
 */
import type { Platform } from '../platform/types.js';
import { bitLength, isIndex, shr, trailingZeros, xor } from './bits.js';
import { TlogError } from './errors.js';
import { HASH_SIZE, nodeHash } from './hash.js';
import { alignedRangeNodes, type NodeId } from './node-id.js';

/** The stored nodes a proof needs, and how to assemble it from them. */
export interface ProofPlan {
  /** Perfect-subtree nodes to fetch, in this order. */
  readonly nodes: readonly NodeId[];
  /**
   * Builds the proof from the fetched hashes (same order and count as `nodes`). Throws
   * ERR_TLOG_NODES if the count is wrong or a hash is not 32 bytes. `cache`, shared across calls,
   * keeps each ephemeral node (at most log2(size) per tree size) so it is hashed once per size
   * instead of once per proof; the caller bounds it (e.g. clears it when the head moves).
   */
  assemble(
    platform: Platform,
    fetched: readonly Uint8Array[],
    cache?: Map<string, Uint8Array>,
  ): Uint8Array[];
}

function sibling(index: number): number {
  return index % 2 === 1 ? index - 1 : index + 1;
}

function planFor(level: number, index: number, size: number, withSeed: boolean): ProofPlan {
  const inner = bitLength(xor(index, shr(size, level))) - 1;
  const forkLevel = level + inner;
  const width = 2 ** forkLevel;
  const begin = shr(index, inner) * width;
  const end = begin + width;

  const nodes: NodeId[] = [];
  if (withSeed) nodes.push({ level, index });
  for (let l = 0, i = index; l < inner; l++, i = shr(i, 1)) {
    nodes.push({ level: level + l, index: sibling(i) });
  }
  const ephemBegin = nodes.length;
  if (end < size) alignedRangeNodes(end, size, nodes);
  const ephemEnd = nodes.length;
  // Left of the fork: one perfect subtree per set bit of begin, lowest first. begin is a
  // multiple of 2^(forkLevel+1) because the fork is a left child.
  for (let l = forkLevel + 1, rest = shr(begin, l); rest > 0; l++, rest = Math.floor(rest / 2)) {
    if (rest % 2 === 1) nodes.push({ level: l, index: rest - 1 });
  }

  return {
    nodes,
    assemble(platform, fetched, cache) {
      if (!Array.isArray(fetched) || fetched.length !== nodes.length) {
        throw new TlogError('ERR_TLOG_NODES');
      }
      for (const h of fetched) {
        if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE)
          throw new TlogError('ERR_TLOG_NODES');
      }
      if (ephemEnd - ephemBegin <= 1) return fetched.slice();
      // The ephemeral node: MTH of [end, size) is its perfect parts folded right to left.
      const key = `${end}/${size}`;
      let h = cache?.get(key);
      if (h === undefined) {
        let acc = fetched[ephemEnd - 1]!;
        for (let i = ephemEnd - 2; i >= ephemBegin; i--) acc = nodeHash(platform, fetched[i]!, acc);
        cache?.set(key, acc);
        h = acc;
      }
      return [...fetched.slice(0, ephemBegin), h, ...fetched.slice(ephemEnd)];
    },
  };
}

const EMPTY_PLAN: ProofPlan = {
  nodes: [],
  assemble(_platform, fetched) {
    if (!Array.isArray(fetched) || fetched.length !== 0) throw new TlogError('ERR_TLOG_NODES');
    return [];
  },
};

/**
 * Plan of the inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1).
 * Throws ERR_TLOG_RANGE unless 0 ≤ index < size ≤ 2^53 - 1.
 *
 * @example
 * const plan = inclusionProofPlan(5, 8);
 * const proof = plan.assemble(nodePlatform, await store.nodes(plan.nodes));
 */
export function inclusionProofPlan(index: number, size: number): ProofPlan {
  if (!isIndex(index) || !isIndex(size) || index >= size) throw new TlogError('ERR_TLOG_RANGE');
  return planFor(0, index, size, false);
}

/**
 * Plan of the consistency proof from the tree of `size1` leaves to the tree of `size2`
 * (RFC 9162 §2.1.4.1). Equal sizes give the empty proof. Throws ERR_TLOG_RANGE unless
 * 0 < size1 ≤ size2 ≤ 2^53 - 1: a proof from the empty tree is meaningless (docs/tlog.md).
 *
 * @example
 * const plan = consistencyProofPlan(6, 8);
 * const proof = plan.assemble(nodePlatform, await store.nodes(plan.nodes));
 */
export function consistencyProofPlan(size1: number, size2: number): ProofPlan {
  if (!isIndex(size1) || !isIndex(size2) || size1 === 0 || size1 > size2) {
    throw new TlogError('ERR_TLOG_RANGE');
  }
  if (size1 === size2) return EMPTY_PLAN;
  // The seed is the last perfect subtree of the old tree, the one ending at size1. When size1 is
  // a power of two that subtree is the old root, which the verifier already holds: it is omitted.
  const level = trailingZeros(size1);
  const index = shr(size1 - 1, level);
  return planFor(level, index, size2, index !== 0);
}
