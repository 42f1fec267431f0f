import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../../src/common/bytes.js';
import { hasCode } from '../../../src/common/errors.js';
import { nodePlatform as P } from '../../../src/platform/node.js';
import { CompactRange } from '../../../src/tlog/compact-range.js';
import { merkleTreeHash } from '../../../src/tlog/proof.js';
import { MerkleRootBuilder } from '../../../src/tlog/root.js';
import { fakeLeafHashes } from './fixtures.js';

const LEAVES = fakeLeafHashes(P, 2100);
const popcount = (n: number): number => n.toString(2).replace(/0/g, '').length;
const rangeError = (e: unknown): boolean => hasCode(e, 'ERR_TLOG_RANGE');

describe('CompactRange (RFC 9162 §2.1 compact range)', () => {
  it('the empty range has size 0, no frontier and root SHA-256("")', () => {
    const r = CompactRange.empty();
    assert.equal(r.size, 0);
    assert.deepEqual(r.frontier(), []);
    assert.equal(
      toHex(r.root(P)),
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('equals MerkleRootBuilder for random sizes, with a frontier of popcount(size) subtrees', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2100 }), (size) => {
        const r = CompactRange.empty();
        const b = new MerkleRootBuilder(P);
        for (const h of LEAVES.slice(0, size)) {
          r.append(P, h);
          b.addLeafHash(h);
        }
        assert.equal(r.size, size);
        assert.equal(toHex(r.root(P)), toHex(b.root()));
        assert.equal(r.frontier().length, popcount(size));
        assert.deepEqual(
          r.frontierIds().map((id) => id.level),
          [...size.toString(2)].flatMap((bit, i, all) => (bit === '1' ? [all.length - 1 - i] : [])),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('reports each perfect-subtree node exactly once, on the append that completes it, with its MTH', () => {
    const n = 300;
    const r = CompactRange.empty();
    const seen = new Map<string, string>();
    for (let i = 0; i < n; i++) {
      const { newNodes } = r.append(P, LEAVES[i]!);
      assert.deepEqual(newNodes[0], { level: 0, index: i, hash: LEAVES[i] });
      for (const node of newNodes) {
        const key = `${node.level}/${node.index}`;
        assert.equal(seen.has(key), false, key);
        // Completed by this append: it ends exactly at the new size.
        assert.equal((node.index + 1) * 2 ** node.level, i + 1);
        seen.set(key, toHex(node.hash));
      }
      assert.equal(newNodes.length, 1 + (i + 1).toString(2).match(/0*$/)![0].length);
    }
    let expected = 0;
    for (let level = 0; 2 ** level <= n; level++) {
      for (let index = 0; (index + 1) * 2 ** level <= n; index++, expected++) {
        const width = 2 ** level;
        const mth = merkleTreeHash(P, LEAVES.slice(index * width, (index + 1) * width), width);
        assert.equal(seen.get(`${level}/${index}`), toHex(mth), `${level}/${index}`);
      }
    }
    assert.equal(seen.size, expected);
  });

  it('fromFrontier resumes a saved range: later roots and nodes are unchanged', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 100 }),
        (cut, more) => {
          const a = CompactRange.empty();
          for (const h of LEAVES.slice(0, cut)) a.append(P, h);
          const b = CompactRange.fromFrontier(a.size, a.frontier());
          for (const h of LEAVES.slice(cut, cut + more)) {
            assert.deepEqual(b.append(P, h), a.append(P, h));
          }
          assert.equal(toHex(b.root(P)), toHex(a.root(P)));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('frontier() returns copies: mutating them does not change the range', () => {
    const r = CompactRange.empty();
    for (const h of LEAVES.slice(0, 5)) r.append(P, h);
    const root = toHex(r.root(P));
    for (const h of r.frontier()) h.fill(0);
    assert.equal(toHex(r.root(P)), root);
  });

  it('appendSubtree of perfect subtrees equals appending their leaves one by one', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 20 }), (levels) => {
        const bySubtree = CompactRange.empty();
        const byLeaf = CompactRange.empty();
        for (const want of levels) {
          // The largest allowed level not above `want`: the size must be a multiple of 2^level.
          let level = want;
          while (bySubtree.size % 2 ** level !== 0) level--;
          const width = 2 ** level;
          const leaves = LEAVES.slice(byLeaf.size, byLeaf.size + width);
          bySubtree.appendSubtree(P, level, merkleTreeHash(P, leaves, width));
          for (const h of leaves) byLeaf.append(P, h);
        }
        assert.equal(bySubtree.size, byLeaf.size);
        assert.equal(toHex(bySubtree.root(P)), toHex(byLeaf.root(P)));
      }),
      { numRuns: 50 },
    );
  });

  describe('when given invalid input', () => {
    const h = new Uint8Array(32);
    it('fromFrontier throws ERR_TLOG_RANGE unless there are popcount(size) hashes of 32 bytes', () => {
      assert.throws(() => CompactRange.fromFrontier(3, [h]), rangeError);
      assert.throws(() => CompactRange.fromFrontier(3, [h, h, h]), rangeError);
      assert.throws(() => CompactRange.fromFrontier(1, [new Uint8Array(31)]), rangeError);
      assert.throws(() => CompactRange.fromFrontier(-1, []), rangeError);
      assert.throws(() => CompactRange.fromFrontier(1.5, [h]), rangeError);
      assert.throws(() => CompactRange.fromFrontier(2 ** 53, [h]), rangeError);
      assert.throws(() => CompactRange.fromFrontier(1, 'x' as never), rangeError);
      assert.equal(CompactRange.fromFrontier(2 ** 53 - 1, Array(53).fill(h)).size, 2 ** 53 - 1);
    });
    it('append throws ERR_TLOG_RANGE for a leaf hash that is not 32 bytes', () => {
      assert.throws(() => CompactRange.empty().append(P, new Uint8Array(33)), rangeError);
      assert.throws(() => CompactRange.empty().append(P, 'x' as never), rangeError);
    });
    it('appendSubtree throws ERR_TLOG_RANGE when the size is not a multiple of 2^level', () => {
      const r = CompactRange.empty();
      r.append(P, h);
      assert.throws(() => r.appendSubtree(P, 1, h), rangeError);
      assert.throws(() => r.appendSubtree(P, -1, h), rangeError);
      assert.throws(() => r.appendSubtree(P, 0, new Uint8Array(1)), rangeError);
      assert.equal(r.appendSubtree(P, 0, h).newNodes.length, 2);
    });
    it('appending past 2^53 - 1 leaves throws ERR_TLOG_RANGE', () => {
      const r = CompactRange.fromFrontier(2 ** 52, [h]);
      assert.throws(() => r.appendSubtree(P, 52, h), rangeError);
      const full = CompactRange.fromFrontier(2 ** 53 - 1, Array(53).fill(h));
      assert.throws(() => full.append(P, h), rangeError);
      assert.equal(full.size, 2 ** 53 - 1);
    });
  });
});
