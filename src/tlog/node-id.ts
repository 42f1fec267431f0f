/**
 * Addressing of perfect subtrees (RFC 9162 §2.1; transparency-dev/merkle compact.NodeID).
 * Node `{level, index}` is the Merkle Tree Hash of leaves [index·2^level, (index+1)·2^level): only
 * perfect subtrees have ids, because only they never change once complete, so they are the nodes
 * a host stores. Level 0 nodes are the leaf hashes.
 */
import { bitLength, shr } from './bits.js';

/** A perfect subtree: the hash of leaves [index·2^level, (index+1)·2^level). */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** A node id with its hash, as reported by an append or read from a store. */
export interface StoredNode extends NodeId {
  readonly hash: Uint8Array;
}

/**
 * The leaves [begin, end) a node covers.
 *
 * @example
 * nodeCoverage({ level: 2, index: 3 }); // [12, 16]
 */
export function nodeCoverage(id: NodeId): [begin: number, end: number] {
  const width = 2 ** id.level;
  return [id.index * width, (id.index + 1) * width];
}

/**
 * The perfect subtrees covering [begin, end), left to right, when `begin` is a multiple of a
 * power of two larger than `end - begin` (true for [0, n) and for the right edge after a fork):
 * one node per set bit of `end - begin`, largest first. `alignedRangeNodes(0, size)` are the ids
 * of a log's frontier.
 *
 * @example
 * alignedRangeNodes(0, 6); // [{ level: 2, index: 0 }, { level: 1, index: 2 }]
 */
export function alignedRangeNodes(begin: number, end: number, out: NodeId[] = []): NodeId[] {
  let offset = begin;
  for (let level = bitLength(end - begin) - 1; level >= 0; level--) {
    const width = 2 ** level;
    if (end - offset >= width) {
      out.push({ level, index: shr(offset, level) });
      offset += width;
    }
  }
  return out;
}
