import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bitLength, isIndex, popcount, shr, trailingZeros, xor } from '../../../src/tlog/bits.js';

const safe = fc.oneof(
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: 0, max: 52 }).map((k) => 2 ** k),
  fc.integer({ min: 1, max: 53 }).map((k) => 2 ** k - 1),
);

describe('bits: 53-bit integer helpers agree with BigInt', () => {
  it('bitLength, popcount, trailingZeros, shr, xor', () => {
    fc.assert(
      fc.property(safe, safe, fc.integer({ min: 0, max: 60 }), (a, b, k) => {
        const A = BigInt(a);
        assert.equal(bitLength(a), a === 0 ? 0 : A.toString(2).length);
        assert.equal(popcount(a), [...A.toString(2)].filter((c) => c === '1').length);
        if (a > 0)
          assert.equal(
            trailingZeros(a),
            A.toString(2).length - A.toString(2).replace(/0+$/, '').length,
          );
        assert.equal(shr(a, k), Number(A >> BigInt(k)));
        assert.equal(xor(a, b), Number(A ^ BigInt(b)));
      }),
      { numRuns: 2000 },
    );
  });

  it('isIndex accepts only safe non-negative integers', () => {
    for (const ok of [0, 1, Number.MAX_SAFE_INTEGER]) assert.equal(isIndex(ok), true);
    for (const bad of [-1, 0.5, NaN, Infinity, 2 ** 53, '1', 1n, null, undefined])
      assert.equal(isIndex(bad), false);
  });
});
