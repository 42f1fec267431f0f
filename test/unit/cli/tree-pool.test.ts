import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TreePool } from '../../../src/cli/tree-pool.js';
import { toHex } from '../../../src/common/bytes.js';
import { nodePlatform as P } from '../../../src/platform/node.js';
import { leafHash } from '../../../src/tlog/hash.js';
import { MerkleRootBuilder } from '../../../src/tlog/root.js';
import { loadVectors } from '../tlog/fixtures.js';

const vectors = loadVectors<{
  derived: { roots_d_byte_i: { roots: { tree_size: number; root: string }[] } };
}>('rfc6962_vectors.json');

/** Leaves d[i] = byte i (the derived vector set), as raw entries and as packed leaf hashes. */
function leaves(n: number): { entries: Uint8Array; ends: Float64Array; hashes: Uint8Array } {
  const entries = new Uint8Array(n);
  const ends = new Float64Array(n);
  const hashes = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) {
    entries[i] = i & 0xff;
    ends[i] = i + 1;
    hashes.set(leafHash(P, entries.subarray(i, i + 1)), i * 32);
  }
  return { entries, ends, hashes };
}

describe('TreePool: parallel RFC 6962 roots', () => {
  // Chunks of 4 leaves, so a 130-leaf tree crosses many chunk and partial-chunk boundaries.
  const pool = TreePool.start(2, 2);
  after(() => pool.close());

  it('reproduces every derived vector root, sizes 0..129, from entries and from leaf hashes', async () => {
    const expected = vectors.derived.roots_d_byte_i.roots;
    const sizes = expected.map((r) => r.tree_size);
    const l = leaves(Math.max(...sizes));
    const fromEntries = await pool.roots({ kind: 'entries', data: l.entries, ends: l.ends }, sizes);
    const fromHashes = await pool.roots({ kind: 'hashes', data: l.hashes }, sizes);
    expected.forEach(({ tree_size, root }, k) => {
      assert.equal(toHex(fromEntries[k]!), root, `entries, size ${tree_size}`);
      assert.equal(toHex(fromHashes[k]!), root, `hashes, size ${tree_size}`);
    });
  });

  it('agrees with the sequential builder on a tree of several full chunks', async () => {
    const big = TreePool.start(2, 8);
    try {
      const n = 5_000;
      const l = leaves(n);
      const seq = new MerkleRootBuilder(P);
      for (let i = 0; i < n; i++) seq.addLeafHash(l.hashes.subarray(i * 32, i * 32 + 32));
      const [mid, whole] = await big.roots({ kind: 'hashes', data: l.hashes }, [2_048, n]);
      assert.equal(toHex(whole!), toHex(seq.root()));
      const half = new MerkleRootBuilder(P);
      for (let i = 0; i < 2_048; i++) half.addLeafHash(l.hashes.subarray(i * 32, i * 32 + 32));
      assert.equal(toHex(mid!), toHex(half.root()));
    } finally {
      await big.close();
    }
  });

  it('rejects a size beyond the leaves it was given', async () => {
    const l = leaves(3);
    await assert.rejects(pool.roots({ kind: 'hashes', data: l.hashes }, [4]), RangeError);
  });
});
