/**
 * Proofs served from stored nodes through the plans equal the RFC 6962 in-memory proofs, for every
 * small (index, size) and (m, n), for random ones up to a few thousand leaves, and the plans'
 * node ids stay exact up to 2^53 - 1 leaves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../../src/common/bytes.js';
import { hasCode } from '../../../src/common/errors.js';
import { nodePlatform as P } from '../../../src/platform/node.js';
import { CompactRange } from '../../../src/tlog/compact-range.js';
import { nodeHash } from '../../../src/tlog/hash.js';
import { nodeCoverage, type NodeId } from '../../../src/tlog/node-id.js';
import { consistencyProof, inclusionProof } from '../../../src/tlog/proof.js';
import { consistencyProofPlan, inclusionProofPlan } from '../../../src/tlog/proof-plan.js';
import { verifyConsistency, verifyInclusion } from '../../../src/tlog/verify.js';
import { buildLog, fakeLeafHashes } from './fixtures.js';

const N = 3000;
const LEAVES = fakeLeafHashes(P, N);
const { store } = buildLog(P, LEAVES);
const hex = (a: Uint8Array[]): string[] => a.map(toHex);
const MAX = Number.MAX_SAFE_INTEGER;

/** Sorted [begin, end) coverages; asserts they are disjoint and returns their union's total length. */
function coverage(ids: readonly NodeId[]): [number, number][] {
  const ranges = ids.map(nodeCoverage).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++)
    assert.ok(ranges[i - 1]![1] <= ranges[i]![0], 'nodes overlap');
  return ranges;
}

describe('inclusionProofPlan (RFC 9162 §2.1.3.1 from stored nodes)', () => {
  it('equals PATH(index, D[size]) for every index < size ≤ 64', () => {
    for (let size = 1; size <= 64; size++) {
      for (let index = 0; index < size; index++) {
        const want = hex(inclusionProof(P, LEAVES, index, size));
        assert.deepEqual(
          hex(store.serve(P, inclusionProofPlan(index, size))),
          want,
          `${index}/${size}`,
        );
      }
    }
  });

  it(`equals PATH(index, D[size]) for random index < size ≤ ${N}`, () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: N })
          .chain((size) => fc.tuple(fc.integer({ min: 0, max: size - 1 }), fc.constant(size))),
        ([index, size]) => {
          const want = hex(inclusionProof(P, LEAVES, index, size));
          assert.deepEqual(hex(store.serve(P, inclusionProofPlan(index, size))), want);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads at most 2·log2(size) nodes, each a perfect subtree inside the tree, none twice', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: MAX })
          .chain((size) => fc.tuple(fc.integer({ min: 0, max: size - 1 }), fc.constant(size))),
        ([index, size]) => {
          const { nodes } = inclusionProofPlan(index, size);
          assert.ok(nodes.length <= 2 * Math.ceil(Math.log2(size)) + 1);
          // Together with the leaf, the nodes partition [0, size).
          const ranges = coverage([...nodes, { level: 0, index }]);
          assert.equal(ranges[0]![0], 0);
          for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i - 1]![1], ranges[i]![0]);
          assert.equal(ranges.at(-1)![1], size);
          for (const id of nodes) assert.ok(Number.isSafeInteger(id.index) && id.level <= 53);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ProofPlan.assemble with a shared ephemeral cache', () => {
  it('gives the same proofs and keeps at most one ephemeral node per fork level of a size', () => {
    for (const size of [N, 1000, 777]) {
      const cache = new Map<string, Uint8Array>();
      for (let index = 0; index < size; index += 3) {
        const plan = inclusionProofPlan(index, size);
        const fetched = plan.nodes.map((id) => store.get(id));
        assert.deepEqual(hex(plan.assemble(P, fetched, cache)), hex(plan.assemble(P, fetched)));
      }
      for (let m = 1; m < size; m += 5) {
        const plan = consistencyProofPlan(m, size);
        const fetched = plan.nodes.map((id) => store.get(id));
        assert.deepEqual(hex(plan.assemble(P, fetched, cache)), hex(plan.assemble(P, fetched)));
      }
      assert.ok(cache.size > 0 && cache.size <= Math.ceil(Math.log2(size)), `${cache.size}`);
    }
  });
});

describe('consistencyProofPlan (RFC 9162 §2.1.4.1 from stored nodes)', () => {
  it('equals PROOF(m, D[n]) for every 0 < m ≤ n ≤ 64', () => {
    for (let n = 1; n <= 64; n++) {
      for (let m = 1; m <= n; m++) {
        const want = hex(consistencyProof(P, LEAVES, m, n));
        assert.deepEqual(hex(store.serve(P, consistencyProofPlan(m, n))), want, `${m} → ${n}`);
      }
    }
  });

  it(`equals PROOF(m, D[n]) for random 0 < m ≤ n ≤ ${N}`, () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: N })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))),
        ([m, n]) => {
          const want = hex(consistencyProof(P, LEAVES, m, n));
          assert.deepEqual(hex(store.serve(P, consistencyProofPlan(m, n))), want);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the nodes and the old tree partition [0, size2) up to 2^53 - 1 leaves', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: MAX })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        ([m, n]) => {
          const { nodes } = consistencyProofPlan(m, n);
          assert.ok(nodes.length <= 2 * Math.ceil(Math.log2(n)) + 1);
          // Math.log2 rounds (log2(2^50 - 2) === 50): test the bits.
          const powerOfTwo = /^10*$/.test(m.toString(2));
          // Without the seed (m a power of two), the verifier's old root covers [0, m).
          const oldRoot = { level: m.toString(2).length - 1, index: 0 };
          const ranges = coverage(powerOfTwo ? [...nodes, oldRoot] : nodes);
          assert.equal(ranges[0]![0], 0);
          for (let i = 1; i < ranges.length; i++) assert.equal(ranges[i - 1]![1], ranges[i]![0]);
          assert.equal(ranges.at(-1)![1], n);
          // The seed ends exactly at m.
          if (!powerOfTwo) assert.equal(nodeCoverage(nodes[0]!)[1], m);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('plans on trees of up to 2^53 - 1 leaves', () => {
  // A tree whose leaves are all equal has one hash per level, so a store of 54 hashes serves any
  // size: this checks the plans' integer arithmetic and the verifiers beyond 32 bits end to end.
  const perLevel: Uint8Array[] = [P.sha256(Uint8Array.of(7))];
  for (let l = 1; l <= 53; l++) perLevel.push(nodeHash(P, perLevel[l - 1]!, perLevel[l - 1]!));
  const fetch = (ids: readonly NodeId[]): Uint8Array[] => ids.map((id) => perLevel[id.level]!);
  const rootOf = (size: number): Uint8Array => {
    const r = CompactRange.empty();
    for (let l = 52; l >= 0; l--)
      if (Math.floor(size / 2 ** l) % 2 === 1) r.appendSubtree(P, l, perLevel[l]!);
    return r.root(P);
  };

  it('inclusion proofs served at huge sizes verify', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: MAX })
          .chain((size) => fc.tuple(fc.integer({ min: 0, max: size - 1 }), fc.constant(size))),
        ([index, size]) => {
          const plan = inclusionProofPlan(index, size);
          const proof = plan.assemble(P, fetch(plan.nodes));
          assert.ok(verifyInclusion(P, perLevel[0]!, index, size, proof, rootOf(size)));
          assert.ok(!verifyInclusion(P, perLevel[1]!, index, size, proof, rootOf(size)));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('consistency proofs served at huge sizes verify', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: MAX })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        ([m, n]) => {
          const plan = consistencyProofPlan(m, n);
          const proof = plan.assemble(P, fetch(plan.nodes));
          assert.ok(verifyConsistency(P, m, n, proof, rootOf(m), rootOf(n)));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('plans: invalid input', () => {
  const range = (e: unknown): boolean => hasCode(e, 'ERR_TLOG_RANGE');
  it('inclusionProofPlan › when the index is not below the size › throws ERR_TLOG_RANGE', () => {
    assert.throws(() => inclusionProofPlan(0, 0), range);
    assert.throws(() => inclusionProofPlan(8, 8), range);
    assert.throws(() => inclusionProofPlan(-1, 8), range);
    assert.throws(() => inclusionProofPlan(0.5, 8), range);
    assert.throws(() => inclusionProofPlan(0, 2 ** 53), range);
  });
  it('consistencyProofPlan › when size1 is 0 or above size2 › throws ERR_TLOG_RANGE; equal sizes give the empty proof', () => {
    assert.throws(() => consistencyProofPlan(0, 8), range);
    assert.throws(() => consistencyProofPlan(0, 0), range);
    assert.throws(() => consistencyProofPlan(9, 8), range);
    assert.throws(() => consistencyProofPlan(1, NaN), range);
    const same = consistencyProofPlan(8, 8);
    assert.deepEqual(same.nodes, []);
    assert.deepEqual(same.assemble(P, []), []);
  });
  it('assemble › when the fetched hashes do not match the plan › throws ERR_TLOG_NODES', () => {
    const nodes = (e: unknown): boolean => hasCode(e, 'ERR_TLOG_NODES');
    const plan = inclusionProofPlan(2, 7); // has an ephemeral node made of two stored ones
    const fetched = plan.nodes.map((id) => store.get(id));
    assert.equal(plan.assemble(P, fetched).length, plan.nodes.length - 1);
    assert.throws(() => plan.assemble(P, fetched.slice(1)), nodes);
    assert.throws(() => plan.assemble(P, [...fetched.slice(1), new Uint8Array(31)]), nodes);
    assert.throws(() => plan.assemble(P, 'x' as never), nodes);
    assert.throws(() => consistencyProofPlan(3, 3).assemble(P, [new Uint8Array(32)]), nodes);
  });
});
