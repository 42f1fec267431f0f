/**
 * Compact range of a log (RFC 9162 §2.1; transparency-dev/merkle `compact.Range`): the right
 * frontier of perfect subtrees covering leaves [0, size), one per set bit of `size`, largest
 * (leftmost) first. It is all the enclave keeps to extend the log and compute its root: O(log n)
 * memory, one leaf hash plus one amortised node hash per append, never a rebuild.
 */
import type { Platform } from '../platform/types.js';
import { isIndex, popcount, shr } from './bits.js';
import { TlogError } from './errors.js';
import { emptyRoot, HASH_SIZE, nodeHash } from './hash.js';
import { alignedRangeNodes, type NodeId, type StoredNode } from './node-id.js';

/** What an append completed: every perfect-subtree node, the level-0 leaf first, lowest first. */
export interface AppendResult {
  readonly newNodes: StoredNode[];
}

/**
 * The frontier of a log of `size` leaves.
 *
 * @example
 * const range = CompactRange.empty();
 * const { newNodes } = range.append(nodePlatform, leafHash(nodePlatform, entry));
 * await store.put(newNodes); // level 0 is the leaf itself
 * const root = range.root(nodePlatform);
 */
export class CompactRange {
  private hashes: Uint8Array[];
  private count: number;

  private constructor(size: number, hashes: Uint8Array[]) {
    this.count = size;
    this.hashes = hashes;
  }

  /** The range of the empty log. */
  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /**
   * Restores a range from a stored size and frontier (as returned by {@link frontier}). Throws
   * ERR_TLOG_RANGE unless `size` is a safe non-negative integer, there are exactly popcount(size)
   * hashes and each is 32 bytes.
   *
   * @example
   * const range = CompactRange.fromFrontier(head.size, head.frontier);
   */
  static fromFrontier(size: number, hashes: readonly Uint8Array[]): CompactRange {
    if (!isIndex(size) || !Array.isArray(hashes) || hashes.length !== popcount(size)) {
      throw new TlogError('ERR_TLOG_RANGE');
    }
    for (const h of hashes) {
      if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE)
        throw new TlogError('ERR_TLOG_RANGE');
    }
    return new CompactRange(
      size,
      hashes.map((h) => h.slice()),
    );
  }

  /** Number of leaves covered. */
  get size(): number {
    return this.count;
  }

  /**
   * The frontier hashes, largest subtree first (copies).
   *
   * @example
   * const saved = { size: range.size, frontier: range.frontier() };
   */
  frontier(): Uint8Array[] {
    return this.hashes.map((h) => h.slice());
  }

  /**
   * The ids of the frontier's subtrees, in {@link frontier} order.
   *
   * @example
   * CompactRange.empty().frontierIds(); // []
   */
  frontierIds(): NodeId[] {
    return alignedRangeNodes(0, this.count);
  }

  /**
   * Appends one leaf hash (already SHA-256(0x00 || entry)) and returns every perfect-subtree
   * node this completed: the leaf at level 0, then one parent per trailing 1-bit of the old size.
   *
   * @example
   * const { newNodes } = range.append(nodePlatform, leafHash(nodePlatform, entry));
   */
  append(platform: Platform, leafHash: Uint8Array): AppendResult {
    if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE) {
      throw new TlogError('ERR_TLOG_RANGE');
    }
    return { newNodes: this.push(platform, 0, leafHash) };
  }

  /**
   * Appends a whole perfect subtree of 2^level leaves given its hash (a stored node, a full tile,
   * a subtree hashed elsewhere). The size must be a multiple of 2^level, so the subtree starts at
   * the current size. Returns the subtree's own node and every node it completed above it.
   *
   * @example
   * range.appendSubtree(nodePlatform, 8, fullTileRoot); // 256 leaves at once
   */
  appendSubtree(platform: Platform, level: number, hash: Uint8Array): AppendResult {
    if (
      !isIndex(level) ||
      level > 52 ||
      !(hash instanceof Uint8Array) ||
      hash.length !== HASH_SIZE ||
      this.count % 2 ** level !== 0
    ) {
      throw new TlogError('ERR_TLOG_RANGE');
    }
    return { newNodes: this.push(platform, level, hash.slice()) };
  }

  private push(platform: Platform, level: number, hash: Uint8Array): StoredNode[] {
    if (!isIndex(this.count + 2 ** level)) throw new TlogError('ERR_TLOG_RANGE');
    let index = shr(this.count, level);
    let h = hash;
    const out: StoredNode[] = [{ level, index, hash: h }];
    // Each trailing 1-bit of index is a left sibling on the frontier to merge with.
    while (index % 2 === 1) {
      h = nodeHash(platform, this.hashes.pop()!, h);
      index = (index - 1) / 2;
      level++;
      out.push({ level, index, hash: h });
    }
    this.hashes.push(h);
    this.count += 2 ** out[0]!.level;
    return out;
  }

  /**
   * The Merkle Tree Hash of leaves [0, size): the frontier folded right to left;
   * SHA-256("") for the empty log.
   *
   * @example
   * toBase64(range.root(nodePlatform)); // the checkpoint's root line
   */
  root(platform: Platform): Uint8Array {
    const n = this.hashes.length;
    if (n === 0) return emptyRoot(platform);
    let h = this.hashes[n - 1]!;
    for (let i = n - 2; i >= 0; i--) h = nodeHash(platform, this.hashes[i]!, h);
    return h;
  }

  /** An independent copy. */
  clone(): CompactRange {
    return new CompactRange(this.count, this.hashes.slice());
  }
}
