/** Verifier behaviour beyond the vectors: hostile inputs, tampering, and the documented edge rules. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hasCode } from '../../../src/common/errors.js';
import { nodePlatform as P } from '../../../src/platform/node.js';
import { emptyRoot } from '../../../src/tlog/hash.js';
import { consistencyProof, inclusionProof, merkleTreeHash } from '../../../src/tlog/proof.js';
import {
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/tlog/verify.js';
import { fakeLeafHashes } from './fixtures.js';

const LEAVES = fakeLeafHashes(P, 200);
const ROOTS = Array.from({ length: 201 }, (_, n) => merkleTreeHash(P, LEAVES, n));
const flip = (a: Uint8Array[], i: number, bit: number): Uint8Array[] =>
  a.map((h, j) => (j === i ? h.map((b, k) => (k === bit >> 3 ? b ^ (1 << (bit & 7)) : b)) : h));

const hostile = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(NaN, Infinity, -1, 2 ** 53, 2 ** 64, '3', null, undefined, {}, [], 1n),
  fc.uint8Array({ maxLength: 40 }),
  fc.array(fc.uint8Array({ minLength: 30, maxLength: 33 }), { maxLength: 10 }),
  fc.array(fc.anything(), { maxLength: 4 }),
);

describe('verifyInclusion (RFC 9162 §2.1.3.2)', () => {
  it('accepts every honest proof and rejects it after any single bit flip', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 200 })
          .chain((n) => fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.constant(n))),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        ([i, n], which, bit) => {
          const proof = inclusionProof(P, LEAVES, i, n);
          assert.equal(verifyInclusion(P, LEAVES[i]!, i, n, proof, ROOTS[n]!), true);
          if (proof.length > 0) {
            assert.equal(
              verifyInclusion(
                P,
                LEAVES[i]!,
                i,
                n,
                flip(proof, which % proof.length, bit),
                ROOTS[n]!,
              ),
              false,
            );
          }
          assert.equal(
            verifyInclusion(P, flip([LEAVES[i]!], 0, bit)[0]!, i, n, proof, ROOTS[n]!),
            false,
          );
          assert.equal(
            verifyInclusion(P, LEAVES[i]!, i, n, proof, flip([ROOTS[n]!], 0, bit)[0]!),
            false,
          );
          assert.equal(
            verifyInclusion(P, LEAVES[i]!, i, n, [...proof, ROOTS[n]!], ROOTS[n]!),
            false,
          );
          if (proof.length > 0)
            assert.equal(verifyInclusion(P, LEAVES[i]!, i, n, proof.slice(1), ROOTS[n]!), false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('when the index is past the tree size › returns false', () => {
    assert.equal(verifyInclusion(P, LEAVES[0]!, 1, 1, [], LEAVES[0]!), false);
    assert.equal(verifyInclusion(P, emptyRoot(P), 0, 0, [], emptyRoot(P)), false);
  });

  it('when any argument is hostile (wrong type, unsafe integer, wrong hash length) › returns false, never throws', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, hostile, (leaf, index, size, proof, root) => {
        const r = verifyInclusion(
          P,
          leaf as never,
          index as never,
          size as never,
          proof as never,
          root as never,
        );
        assert.equal(typeof r, 'boolean');
      }),
      { numRuns: 500 },
    );
  });

  it('rootFromInclusionProof › when the proof is malformed or of the wrong length › throws ERR_TLOG_PROOF', () => {
    const proof = inclusionProof(P, LEAVES, 5, 8);
    const err = (e: unknown): boolean => hasCode(e, 'ERR_TLOG_PROOF');
    assert.throws(() => rootFromInclusionProof(P, LEAVES[5]!, 5, 8, proof.slice(1)), err);
    assert.throws(() => rootFromInclusionProof(P, LEAVES[5]!, 5, 8, [...proof, proof[0]!]), err);
    assert.throws(() => rootFromInclusionProof(P, LEAVES[5]!.subarray(1), 5, 8, proof), err);
    assert.throws(() => rootFromInclusionProof(P, LEAVES[5]!, 8, 8, proof), err);
    assert.throws(
      () => rootFromInclusionProof(P, LEAVES[5]!, 5, 8, [new Uint8Array(9), ...proof.slice(1)]),
      err,
    );
  });
});

describe('verifyConsistency (RFC 9162 §2.1.4.2)', () => {
  it('accepts every honest proof and rejects it after any single bit flip or a changed size', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 200 })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        ([m, n], which, bit) => {
          const proof = consistencyProof(P, LEAVES, m, n);
          assert.equal(verifyConsistency(P, m, n, proof, ROOTS[m]!, ROOTS[n]!), true);
          assert.equal(
            verifyConsistency(
              P,
              m,
              n,
              flip(proof, which % proof.length, bit),
              ROOTS[m]!,
              ROOTS[n]!,
            ),
            false,
          );
          assert.equal(
            verifyConsistency(P, m, n, proof, flip([ROOTS[m]!], 0, bit)[0]!, ROOTS[n]!),
            false,
          );
          assert.equal(
            verifyConsistency(P, m, n, proof, ROOTS[m]!, flip([ROOTS[n]!], 0, bit)[0]!),
            false,
          );
          assert.equal(verifyConsistency(P, m, n, proof, ROOTS[n]!, ROOTS[m]!), false);
          if (n < 200)
            assert.equal(verifyConsistency(P, m, n + 1, proof, ROOTS[m]!, ROOTS[n + 1]!), false);
          assert.equal(verifyConsistency(P, m, n, proof.slice(0, -1), ROOTS[m]!, ROOTS[n]!), false);
          assert.equal(
            verifyConsistency(P, m, n, [...proof, ROOTS[n]!], ROOTS[m]!, ROOTS[n]!),
            false,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('when size1 is 0 › returns false, even for the empty tree against itself (the choice in docs/tlog.md)', () => {
    const e = emptyRoot(P);
    assert.equal(verifyConsistency(P, 0, 5, [], e, ROOTS[5]!), false);
    assert.equal(verifyConsistency(P, 0, 0, [], e, e), false);
  });

  it('when the sizes are equal › true only for an empty proof and equal roots', () => {
    assert.equal(verifyConsistency(P, 7, 7, [], ROOTS[7]!, ROOTS[7]!), true);
    assert.equal(verifyConsistency(P, 7, 7, [], ROOTS[7]!, ROOTS[6]!), false);
    assert.equal(verifyConsistency(P, 7, 7, [ROOTS[7]!], ROOTS[7]!, ROOTS[7]!), false);
  });

  it('when size1 > size2 › returns false', () => {
    assert.equal(
      verifyConsistency(P, 8, 7, consistencyProof(P, LEAVES, 7, 8), ROOTS[8]!, ROOTS[7]!),
      false,
    );
  });

  it('when any argument is hostile › returns false, never throws', () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, hostile, hostile, (s1, s2, proof, r1, r2) => {
        const r = verifyConsistency(
          P,
          s1 as never,
          s2 as never,
          proof as never,
          r1 as never,
          r2 as never,
        );
        assert.equal(typeof r, 'boolean');
      }),
      { numRuns: 500 },
    );
  });
});
