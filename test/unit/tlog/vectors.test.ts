/**
 * Every RFC 6962 vector of test/vectors/tlog/rfc6962_vectors.json: hasher KATs, reference-tree
 * nodes and roots, roots 0..130, every published and derived proof (generated equal to the vector
 * in memory and from stored nodes, and verified), and all 196 verification probes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, toHex } from '../../../src/common/bytes.js';
import { nodePlatform } from '../../../src/platform/node.js';
import { webPlatform } from '../../../src/platform/web.js';
import { CompactRange } from '../../../src/tlog/compact-range.js';
import { emptyRoot, leafHash, nodeHash } from '../../../src/tlog/hash.js';
import { consistencyProof, inclusionProof, merkleTreeHash } from '../../../src/tlog/proof.js';
import { consistencyProofPlan, inclusionProofPlan } from '../../../src/tlog/proof-plan.js';
import {
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/tlog/verify.js';
import { buildLog, loadVectors, type Rfc6962Vectors } from './fixtures.js';

const v = loadVectors<Rfc6962Vectors>('rfc6962_vectors.json');
const hex = (a: Uint8Array[]): string[] => a.map(toHex);
const leafHashes = v.reference_tree.leaf_hashes.map(fromHex);
const inclusion = [...v.inclusion_proofs, ...v.derived.inclusion_proofs_all_8];
const consistency = [...v.consistency_proofs, ...v.derived.consistency_proofs_all_8];

for (const platform of [nodePlatform, webPlatform]) {
  describe(`RFC 6962 vectors (${platform.name} platform)`, () => {
    const { store } = buildLog(platform, leafHashes);

    it('hasher KATs: empty root, leaf hashes, node hash of raw children', () => {
      for (const k of v.hasher_vectors) {
        const got =
          k.kind === 'empty_root'
            ? emptyRoot(platform)
            : k.kind === 'leaf'
              ? leafHash(platform, fromHex(k.input_hex!))
              : nodeHash(platform, fromHex(k.left_hex!), fromHex(k.right_hex!));
        assert.equal(toHex(got), k.expected, k.desc);
      }
    });

    it('reference tree: leaf hashes, every perfect node stored by the appends, roots 0..8', () => {
      const { leaves, node_hashes_by_level, roots } = v.reference_tree;
      leaves.forEach((l, i) =>
        assert.equal(toHex(leafHash(platform, fromHex(l))), v.reference_tree.leaf_hashes[i]),
      );
      node_hashes_by_level.forEach((level, l) =>
        level.forEach((h, i) =>
          assert.equal(toHex(store.get({ level: l, index: i })), h, `node ${l}/${i}`),
        ),
      );
      assert.equal(store.size, 15);
      for (const { tree_size, root } of roots) {
        const r = CompactRange.empty();
        for (const h of leafHashes.slice(0, tree_size)) r.append(platform, h);
        assert.equal(toHex(r.root(platform)), root, `size ${tree_size}`);
        assert.equal(toHex(merkleTreeHash(platform, leafHashes, tree_size)), root);
      }
    });

    it('roots of d[i] = byte i for every size 0..130', () => {
      const roots = v.derived.roots_d_byte_i.roots;
      assert.equal(roots.length, 131);
      const r = CompactRange.empty();
      for (const { tree_size, root } of roots) {
        while (r.size < tree_size) r.append(platform, leafHash(platform, Uint8Array.of(r.size)));
        assert.equal(toHex(r.root(platform)), root, `size ${tree_size}`);
      }
    });

    it(`inclusion proofs (${inclusion.length}): generated, served from stored nodes, verified`, () => {
      for (const p of inclusion) {
        const at = `leaf ${p.leaf_index} of ${p.tree_size}`;
        assert.deepEqual(
          hex(inclusionProof(platform, leafHashes, p.leaf_index, p.tree_size)),
          p.proof,
          at,
        );
        assert.deepEqual(
          hex(store.serve(platform, inclusionProofPlan(p.leaf_index, p.tree_size))),
          p.proof,
          at,
        );
        const proof = p.proof.map(fromHex);
        const lh = fromHex(p.leaf_hash);
        assert.equal(
          verifyInclusion(platform, lh, p.leaf_index, p.tree_size, proof, fromHex(p.root)),
          true,
          at,
        );
        assert.equal(
          toHex(rootFromInclusionProof(platform, lh, p.leaf_index, p.tree_size, proof)),
          p.root,
        );
      }
    });

    it(`consistency proofs (${consistency.length}): generated, served from stored nodes, verified`, () => {
      for (const p of consistency) {
        const at = `${p.size1} → ${p.size2}`;
        assert.deepEqual(
          hex(consistencyProof(platform, leafHashes, p.size1, p.size2)),
          p.proof,
          at,
        );
        assert.deepEqual(
          hex(store.serve(platform, consistencyProofPlan(p.size1, p.size2))),
          p.proof,
          at,
        );
        const ok = verifyConsistency(
          platform,
          p.size1,
          p.size2,
          p.proof.map(fromHex),
          fromHex(p.root1),
          fromHex(p.root2),
        );
        assert.equal(ok, true, at);
      }
    });
  });
}

describe('RFC 6962 vectors: conventions', () => {
  it('published proofs are 0-based: the source tables count leaves from 1', () => {
    for (const p of v.inclusion_proofs) assert.equal(p.leaf_index, p.source_leaf_index_1based! - 1);
  });

  it('a consistency proof omits the old root when size1 is a power of two: {1 → 8} equals the inclusion proof of leaf 0', () => {
    const c = v.consistency_proofs.find((p) => p.size1 === 1 && p.size2 === 8)!;
    const i = v.inclusion_proofs.find((p) => p.leaf_index === 0 && p.tree_size === 8)!;
    assert.deepEqual(c.proof, i.proof);
  });
});

describe('verification probes (transparency-dev/merkle testdata)', () => {
  const probes = v.verification_probes;

  it(`all ${probes.inclusion.length} inclusion probes are accepted or rejected as they say`, () => {
    assert.equal(probes.inclusion.length, 98);
    for (const p of probes.inclusion) {
      const ok = verifyInclusion(
        nodePlatform,
        fromHex(p.leaf_hash),
        p.leaf_index,
        p.tree_size,
        p.proof.map(fromHex),
        fromHex(p.root),
      );
      assert.equal(ok, !p.want_error, `${p.file}: ${p.desc}`);
    }
  });

  it(`all ${probes.consistency.length} consistency probes are accepted or rejected as they say`, () => {
    assert.equal(probes.consistency.length, 98);
    for (const p of probes.consistency) {
      const ok = verifyConsistency(
        nodePlatform,
        p.size1,
        p.size2,
        p.proof.map(fromHex),
        fromHex(p.root1),
        fromHex(p.root2),
      );
      assert.equal(ok, !p.want_error, `${p.file}: ${p.desc}`);
    }
  });
});
