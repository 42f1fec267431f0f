/**
 * Properties of the exact decimal helpers the Bybit, OKX and Kraken adapters use, and of their
 * row parsers: every answer is untrusted input, so any JSON value either parses or throws an
 * ExchangeError (never a TypeError, RangeError or SyntaxError).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  parseClosedPnl,
  parseExecution,
  toBybitDeposit,
  toBybitWithdrawal,
} from '../../../src/exchanges/bybit-rows.js';
import {
  addSignedDecimals,
  divDecimals,
  mulDecimals,
  negateDecimal,
} from '../../../src/exchanges/decimal.js';
import { parseKrakenTrade, toKrakenLedger } from '../../../src/exchanges/kraken-rows.js';
import {
  parseOkxFill,
  toOkxDeposit,
  toOkxFunding,
  toOkxWithdrawal,
} from '../../../src/exchanges/okx-rows.js';
import { ExchangeError } from '../../../src/exchanges/types.js';

/** a decimal string and its exact value as (n, scale) */
const decimal = fc
  .tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 12 }))
  .map(([n, scale]) => {
    const neg = n < 0n;
    const digits = (neg ? -n : n).toString().padStart(scale + 1, '0');
    const s = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    return { s: neg ? `-${s}` : s, n, scale };
  });
/** value × 10^24 as a BigInt, exact for every scale ≤ 24 */
const E = 24;
const val = (s: string) => {
  const neg = s.startsWith('-');
  const [i = '', f = ''] = (neg ? s.slice(1) : s).split('.');
  const v = BigInt(i + f.padEnd(E, '0'));
  return neg ? -v : v;
};

describe('exact decimals', () => {
  it('addSignedDecimals is exact addition', () => {
    fc.assert(
      fc.property(decimal, decimal, (a, b) => {
        assert.equal(val(addSignedDecimals(a.s, b.s)), val(a.s) + val(b.s));
      }),
    );
  });
  it('negateDecimal is exact and its own inverse (zero stays unsigned)', () => {
    fc.assert(
      fc.property(decimal, (a) => {
        const n = negateDecimal(a.s);
        assert.equal(val(n), -val(a.s));
        assert.equal(negateDecimal(n), a.s);
        if (val(a.s) === 0n) assert.ok(!n.startsWith('-'));
      }),
    );
  });
  it('mulDecimals is exact multiplication', () => {
    const small = decimal.filter((d) => d.scale <= 12);
    fc.assert(
      fc.property(small, small, (a, b) => {
        const got = mulDecimals(a.s, b.s); // scale ≤ 24
        assert.equal(val(got), (val(a.s) * val(b.s)) / 10n ** BigInt(E));
      }),
    );
  });
  it('divDecimals truncates toward zero at the given scale', () => {
    fc.assert(
      fc.property(
        decimal.filter((d) => d.n >= 0n),
        decimal.filter((d) => d.n > 0n),
        fc.integer({ min: 0, max: 12 }),
        (a, b, scale) => {
          const q = val(divDecimals(a.s, b.s, scale));
          const ulp = 10n ** BigInt(E - scale);
          // q·b ≤ a < (q + ulp)·b, all at 10^24 scale
          assert.ok(q * val(b.s) <= val(a.s) * 10n ** BigInt(E));
          assert.ok((q + ulp) * val(b.s) > val(a.s) * 10n ** BigInt(E));
        },
      ),
    );
  });
});

describe('row parsers › any JSON parses or throws ExchangeError', () => {
  const json = fc.jsonValue();
  const row = fc.oneof(
    json,
    fc.dictionary(
      fc.constantFrom(
        'symbol',
        'execId',
        'orderId',
        'execType',
        'side',
        'execPrice',
        'execQty',
        'execValue',
        'execFee',
        'execTime',
        'isMaker',
        'instId',
        'billId',
        'tradeId',
        'ordId',
        'fillPx',
        'fillSz',
        'fee',
        'feeCcy',
        'fillTime',
        'execType',
        'ordertxid',
        'pair',
        'type',
        'price',
        'vol',
        'cost',
        'time',
        'asset',
        'amount',
        'coin',
        'status',
        'id',
      ),
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.double()),
    ),
  );
  const parsers: [string, (r: unknown) => unknown][] = [
    ['bybit execution', (r) => parseExecution('linear', r)],
    ['bybit closed-pnl', parseClosedPnl],
    ['bybit deposit', toBybitDeposit],
    ['bybit withdrawal', toBybitWithdrawal],
    ['okx fill', (r) => parseOkxFill('SWAP', r)],
    ['okx funding', (r) => toOkxFunding(r, () => 'X')],
    ['okx deposit', toOkxDeposit],
    ['okx withdrawal', toOkxWithdrawal],
    ['kraken trade', (r) => parseKrakenTrade('TQ7XFN-2CLBG-Q4DGDJ', r)],
    ['kraken ledger', (r) => toKrakenLedger('L4UESK-KG3EQ-UFO4T5', r, (c) => c)],
  ];
  for (const [name, parse] of parsers) {
    it(name, () => {
      fc.assert(
        fc.property(row, (r) => {
          try {
            parse(r);
          } catch (e) {
            assert.ok(e instanceof ExchangeError, `${name} threw ${String(e)}`);
          }
        }),
        { numRuns: 300 },
      );
    });
  }
});
