/**
 * Merkle tree hash MTH (RFC 6962 §2.1) computed in one streaming pass with a stack of perfect
 * subtrees (the compact range), so memory is O(log n), not O(n).
 */
import type { Platform } from '../platform/types.js';
import { leafHash, nodeHash } from './hash.js';

/**
 * Root-only builder: MTH of a stream of leaves. Use `CompactRange` (compact-range.ts) to also learn the
 * completed nodes (for storage) or to resume from a saved frontier.
 *
 * @example
 * const b = new MerkleRootBuilder(nodePlatform);
 * for (const entry of entries) b.addLeaf(entry);
 * b.root();
 */
export class MerkleRootBuilder {
  private readonly stack: Uint8Array[] = [];
  private size = 0;
  constructor(private readonly platform: Platform) {}

  /** Appends a leaf's raw bytes (hashed here with the 0x00 prefix). */
  addLeaf(leaf: Uint8Array): void {
    this.addLeafHash(leafHash(this.platform, leaf));
  }

  /** Appends a leaf hash already computed as SHA-256(0x00 || leaf). */
  addLeafHash(hash: Uint8Array): void {
    let h = hash;
    // Merge completed perfect subtrees: one merge per trailing 1-bit of the old size.
    for (let n = this.size; n & 1; n >>= 1) h = nodeHash(this.platform, this.stack.pop()!, h);
    this.stack.push(h);
    this.size++;
  }

  /** MTH of the leaves so far; SHA-256("") for the empty tree. */
  root(): Uint8Array {
    if (this.stack.length === 0) return this.platform.sha256(new Uint8Array(0));
    let h = this.stack[this.stack.length - 1]!;
    for (let i = this.stack.length - 2; i >= 0; i--) h = nodeHash(this.platform, this.stack[i]!, h);
    return h;
  }
}
