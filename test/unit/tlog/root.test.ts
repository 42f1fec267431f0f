import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../../src/common/bytes.js';
import { nodePlatform } from '../../../src/platform/node.js';
import { webPlatform } from '../../../src/platform/web.js';
import { leafHash } from '../../../src/tlog/hash.js';
import { MerkleRootBuilder } from '../../../src/tlog/root.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/tlog/rfc6962_vectors.json', import.meta.url), 'utf8'),
);

describe('MerkleRootBuilder (RFC 6962 §2.1)', () => {
  it('reproduces the reference tree roots for sizes 0..8', () => {
    const { leaves, roots } = vectors.reference_tree as {
      leaves: string[];
      roots: { tree_size: number; root: string }[];
    };
    for (const { tree_size, root } of roots) {
      const b = new MerkleRootBuilder(nodePlatform);
      for (const l of leaves.slice(0, tree_size)) b.addLeaf(fromHex(l));
      assert.equal(toHex(b.root()), root, `size ${tree_size}`);
    }
  });

  it('reproduces every root for leaves d[i] = byte i, sizes 0..129, on both platforms', () => {
    const roots = vectors.derived.roots_d_byte_i.roots as { tree_size: number; root: string }[];
    for (const platform of [nodePlatform, webPlatform]) {
      const b = new MerkleRootBuilder(platform);
      let size = 0;
      for (const { tree_size, root } of roots) {
        while (size < tree_size) b.addLeaf(new Uint8Array([size++]));
        assert.equal(toHex(b.root()), root, `size ${tree_size}`);
      }
    }
  });

  it('leaf hashes match the hasher vectors', () => {
    for (const v of vectors.hasher_vectors as {
      kind: string;
      input_hex?: string;
      expected: string;
    }[]) {
      if (v.kind === 'leaf')
        assert.equal(toHex(leafHash(nodePlatform, fromHex(v.input_hex!))), v.expected);
    }
  });
});
