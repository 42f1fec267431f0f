import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Acc,
  add,
  mulDiv,
  norm,
  parsePrice,
  parseTicks,
  sub,
  toDecimal,
  value,
  type ParseStats,
  type Tick,
} from '../../../src/aggregates/fixed.js';

/** Reference: round_half_even(a·b/c) in BigInt only. */
function refMulDiv(a: bigint, b: bigint, c: bigint): bigint {
  const n = a * b;
  const neg = n < 0n !== c < 0n;
  const an = n < 0n ? -n : n;
  const ac = c < 0n ? -c : c;
  let q = an / ac;
  const r2 = (an % ac) * 2n;
  if (r2 > ac || (r2 === ac && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

const big = (x: Tick): bigint => BigInt(x);
/** Integers of every magnitude up to 2^70, so both the double and the BigInt paths run. */
const anyInt = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(norm),
);
const nonZero = anyInt.filter((x) => x !== 0 && x !== 0n);

describe('fixed-point ticks', () => {
  it('mulDiv is exact round-half-even on every path (double fast path and BigInt)', () => {
    fc.assert(
      fc.property(anyInt, anyInt, nonZero, (a, b, c) => {
        const got = mulDiv(a, b, c);
        assert.equal(big(got), refMulDiv(big(a), big(b), big(c)));
        // canonical representation: a number whenever it is a safe integer
        assert.equal(
          typeof got === 'number',
          Number.isSafeInteger(Number(got)) && BigInt(Number(got)) === big(got),
        );
      }),
      { numRuns: 20_000 },
    );
  });

  it('mulDiv on the typical magnitudes of a cost split (cost 1e12..1e15 ticks × qty / qty)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 50 }),
        fc.integer({ min: 1, max: 10 ** 11 }),
        fc.integer({ min: 1, max: 2 ** 50 }),
        (a, b, c) => assert.equal(big(mulDiv(a, b, c)), refMulDiv(big(a), big(b), big(c))),
      ),
      { numRuns: 20_000 },
    );
    // ties go to even
    assert.equal(mulDiv(1, 1, 2), 0);
    assert.equal(mulDiv(3, 1, 2), 2);
    assert.equal(mulDiv(-3, 1, 2), -2);
  });

  it('add/sub cross 2^53 exactly and come back to numbers', () => {
    const m = Number.MAX_SAFE_INTEGER;
    const s = add(m, 1);
    assert.equal(typeof s, 'bigint');
    assert.equal(s, 2n ** 53n);
    assert.equal(sub(s, 1), m);
    fc.assert(
      fc.property(anyInt, anyInt, (a, b) => {
        assert.equal(big(add(a, b)), big(a) + big(b));
        assert.equal(big(sub(a, b)), big(a) - big(b));
      }),
    );
  });

  it('Acc sums exactly past 2^53', () => {
    fc.assert(
      fc.property(fc.array(anyInt, { maxLength: 50 }), (xs) => {
        const acc = new Acc();
        let want = 0n;
        for (const x of xs) {
          acc.add(x);
          want += big(x);
        }
        assert.equal(big(acc.value), want);
      }),
    );
  });

  it('parses exchange decimals exactly; rounds (and counts) past 8 decimals; rejects junk', () => {
    const ps: ParseStats = { rounded: 0 };
    assert.equal(parseTicks('0.00100000', ps), 100_000);
    assert.equal(parseTicks('-12.5', ps), -1_250_000_000);
    assert.equal(parseTicks('+3', ps), 300_000_000);
    assert.equal(parseTicks('1e-7', ps), 10);
    assert.equal(parseTicks('123456789012345678.12345678', ps), 12345678901234567812345678n);
    assert.equal(ps.rounded, 0);
    assert.equal(parseTicks('0.000000015', ps), 2); // half to even
    assert.equal(parseTicks('0.000000025', ps), 2);
    assert.equal(parseTicks('0.0000000100', ps), 1); // trailing zeros are exact
    assert.equal(ps.rounded, 2);
    for (const bad of ['', '-', '1.', '.5', '1..2', 'abc', '1,5', 'NaN', 'Infinity', '0x10', ' 1'])
      assert.equal(parseTicks(bad), undefined, bad);
  });

  it('parseTicks agrees with a BigInt reference on random decimals', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.stringMatching(/^\d{1,25}$/),
        fc.stringMatching(/^\d{0,8}$/),
        (negative, i, f) => {
          const s = `${negative ? '-' : ''}${i}${f ? `.${f}` : ''}`;
          const want = BigInt(i + f.padEnd(8, '0')) * (negative ? -1n : 1n);
          assert.equal(big(parseTicks(s)!), want);
          assert.equal(
            toDecimal(parseTicks(s)!),
            `${want < 0n ? '-' : ''}${toDecimal(want < 0n ? -want : want)}`,
          );
        },
      ),
    );
  });

  it('prices are exact fractions; value() is amount × price to the tick', () => {
    assert.deepEqual(parsePrice('600.5'), { num: 6005, den: 10 });
    assert.deepEqual(parsePrice('1'), { num: 1, den: 1 });
    assert.equal(parsePrice('-1'), undefined);
    assert.equal(parsePrice('abc'), undefined);
    assert.equal(value(parseTicks('0.00075')!, parsePrice('600.5')!), 45_037_500); // 0.450375
    assert.equal(value(parseTicks('3')!, parsePrice('0.0000123456789012345678')!), 3704); // 0.0000370370… → 3704 ticks
    assert.equal(toDecimal(-5), '-0.00000005');
  });
});
