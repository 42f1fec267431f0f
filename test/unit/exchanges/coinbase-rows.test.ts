/**
 * Parsers of untrusted Coinbase rows: exact decimal arithmetic (fast-check against BigInt),
 * RFC 3339 times, fill and transfer rows, and the refusal of everything malformed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  divDecimals,
  mulDecimals,
  parseRfc3339,
  toCoinbaseFill,
} from '../../../src/exchanges/coinbase-fills.js';
import { toFlow } from '../../../src/exchanges/coinbase-flows.js';
import { ExchangeError } from '../../../src/exchanges/types.js';

/** a decimal string with `dp` places from an integer count of 10^-dp units */
const dec = (n: bigint, dp: number) => {
  const s = n.toString().padStart(dp + 1, '0');
  return dp === 0 ? s : `${s.slice(0, -dp)}.${s.slice(-dp)}`;
};
const units = (s: string, dp: number) => {
  const [i = '0', f = ''] = s.split('.');
  assert.ok(f.length <= dp, s);
  return BigInt(i + f.padEnd(dp, '0'));
};
const malformed = (e: unknown) => e instanceof ExchangeError && e.code === 'EXCHANGE_UNAVAILABLE';

const row = (o: Record<string, unknown> = {}) => ({
  entry_id: 'e-1',
  trade_id: 't-1',
  order_id: 'o-1',
  trade_time: '2026-03-01T12:00:00.123456Z',
  trade_type: 'FILL',
  price: '100.5',
  size: '2',
  commission: '1.206',
  product_id: 'SOL-USD',
  sequence_timestamp: '2026-03-01T12:00:00.123456Z',
  liquidity_indicator: 'TAKER',
  size_in_quote: false,
  user_id: 'u',
  side: 'BUY',
  retail_portfolio_id: 'p',
  ...o,
});

describe('exact decimals', () => {
  it('mulDecimals is the exact product', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 20n }),
        fc.integer({ min: 0, max: 12 }),
        fc.bigInt({ min: 0n, max: 10n ** 20n }),
        fc.integer({ min: 0, max: 12 }),
        (a, da, b, db) => {
          const r = mulDecimals(dec(a, da), dec(b, db));
          assert.equal(units(r, da + db), a * b);
        },
      ),
    );
  });

  it('divDecimals is exact when the quotient terminates within 18 places', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 16n }),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 8 }),
        (q, b, db) => {
          // q has 8 places, b has db: a = q·b exactly, with 8 + db places
          const a = dec(q * b, 8 + db);
          assert.equal(units(divDecimals(a, dec(b, db)), 8), q);
        },
      ),
    );
  });

  it('divDecimals rounds half to even at 18 places otherwise', () => {
    assert.equal(divDecimals('1', '3'), '0.333333333333333333');
    assert.equal(divDecimals('2', '3'), '0.666666666666666667');
    assert.equal(divDecimals('10000', '50000.00'), '0.2');
    assert.equal(divDecimals('0.000000000000000001', '2'), '0'); // 0.5e-18 → even 0
    assert.equal(divDecimals('0.000000000000000003', '2'), '0.000000000000000002'); // 1.5 → 2
    assert.throws(() => divDecimals('1', '0.000'), malformed);
  });
});

describe('parseRfc3339', () => {
  it('reads whole milliseconds of UTC times with up to 9 fraction digits', () => {
    assert.equal(parseRfc3339('2026-03-01T12:00:00Z'), Date.UTC(2026, 2, 1, 12));
    assert.equal(parseRfc3339('2026-03-01T12:00:00.1Z'), Date.UTC(2026, 2, 1, 12) + 100);
    assert.equal(parseRfc3339('2026-03-01T12:00:00.123999999Z'), Date.UTC(2026, 2, 1, 12) + 123);
  });
  it('refuses anything else', () => {
    for (const v of [
      '2025-02-30T00:00:00Z',
      '2026-03-01T12:00:00',
      '2026-03-01T12:00:00+01:00',
      '2026-03-01 12:00:00Z',
      '2026-03-01T12:00:00.1234567890Z',
      1767225600000,
      null,
    ])
      assert.equal(parseRfc3339(v), undefined, String(v));
  });
});

describe('toCoinbaseFill', () => {
  it('maps a base-sized fill: quote = size × price, fee in the quote currency', () => {
    assert.deepEqual(toCoinbaseFill(row()), {
      exchange: 'coinbase',
      symbol: 'SOL/USD',
      base: 'SOL',
      quote: 'USD',
      id: 'e-1',
      orderId: 'o-1',
      side: 'buy',
      price: '100.5',
      qty: '2',
      quoteQty: '201',
      fee: '1.206',
      feeAsset: 'USD',
      maker: false,
      ts: Date.UTC(2026, 2, 1, 12) + 123,
    });
  });

  it('maps a quote-sized fill: qty = size / price, quote = size', () => {
    const f = toCoinbaseFill(
      row({ size_in_quote: true, size: '201', liquidity_indicator: 'MAKER' }),
    )!;
    assert.equal(f.qty, '2');
    assert.equal(f.quoteQty, '201');
    assert.equal(f.maker, true);
  });

  it('skips futures and perpetual products, books an unknown liquidity indicator as taker', () => {
    assert.equal(toCoinbaseFill(row({ product_id: 'BIT-27JUN25-CDE' })), undefined);
    assert.equal(toCoinbaseFill(row({ product_id: 'BTC-PERP-INTX' })), undefined);
    assert.equal(
      toCoinbaseFill(row({ liquidity_indicator: 'UNKNOWN_LIQUIDITY_INDICATOR' }))!.maker,
      false,
    );
  });

  it('refuses malformed rows with EXCHANGE_UNAVAILABLE', () => {
    const bad: Record<string, unknown>[] = [
      { price: '0' },
      { price: '1e5' },
      { price: 'NaN' },
      { size: '-2' },
      { commission: 1.2 },
      { side: 'buy' },
      { size_in_quote: 'false' },
      { liquidity_indicator: 'M' },
      { entry_id: 'e 1' },
      { entry_id: undefined },
      { order_id: 'x'.repeat(65) },
      { trade_time: '2026-13-01T00:00:00Z' },
      { product_id: 42 },
    ];
    for (const o of bad) assert.throws(() => toCoinbaseFill(row(o)), malformed, JSON.stringify(o));
    assert.throws(() => toCoinbaseFill([]), malformed);
    assert.throws(() => toCoinbaseFill(null), malformed);
  });
});

describe('toFlow', () => {
  const tx = (o: Record<string, unknown> = {}) => ({
    id: 'tx-1',
    type: 'send',
    status: 'completed',
    amount: { amount: '-0.5', currency: 'BTC' },
    created_at: '2026-03-01T12:00:00Z',
    network: { status: 'confirmed', transaction_fee: { amount: '0.0001', currency: 'BTC' } },
    ...o,
  });
  const at = Date.UTC(2026, 2, 1, 12);

  it('a completed outgoing send is a withdrawal of amount + network fee', () => {
    assert.deepEqual(toFlow(tx(), 'BTC'), {
      type: 'withdrawal',
      ts: at,
      asset: 'BTC',
      amount: '0.5001',
      id: 'tx-1',
    });
    const otherFee = tx({ network: { transaction_fee: { amount: '1', currency: 'ETH' } } });
    assert.equal(toFlow(otherFee, 'BTC')!.amount, '0.5');
  });

  it('incoming sends, receives and fiat deposits are deposits; fiat withdrawals withdrawals', () => {
    assert.equal(
      toFlow(tx({ amount: { amount: '0.5', currency: 'BTC' } }), 'BTC')!.type,
      'deposit',
    );
    assert.equal(
      toFlow(tx({ type: 'receive', amount: { amount: '1', currency: 'BTC' } }), 'BTC')!.type,
      'deposit',
    );
    assert.deepEqual(
      toFlow(
        tx({
          type: 'fiat_deposit',
          amount: { amount: '100.00', currency: 'USD' },
          network: undefined,
        }),
        'USD',
      ),
      { type: 'deposit', ts: at, asset: 'USD', amount: '100.00', id: 'tx-1' },
    );
    assert.equal(
      toFlow(
        tx({
          type: 'fiat_withdrawal',
          amount: { amount: '-100.00', currency: 'USD' },
          network: undefined,
        }),
        'USD',
      )!.amount,
      '100.00',
    );
  });

  it('counts nothing pending, failed, zero or of another type', () => {
    for (const o of [
      { status: 'pending' },
      { status: 'failed' },
      { status: 'canceled' },
      { amount: { amount: '0', currency: 'BTC' } },
      { type: 'buy', amount: { amount: '0.5', currency: 'BTC' } },
      { type: 'advanced_trade_fill' },
      { type: 'staking_reward', amount: { amount: '0.5', currency: 'BTC' } },
      { type: 'fiat_deposit', amount: { amount: '-1', currency: 'BTC' } },
    ])
      assert.equal(toFlow(tx(o), 'BTC'), undefined, JSON.stringify(o));
  });

  it('refuses malformed rows', () => {
    for (const o of [
      { id: 'a b' },
      { amount: { amount: '1e3', currency: 'BTC' } },
      { amount: { amount: '-0.5', currency: 'ETH' } },
      { amount: '-0.5' },
      { created_at: 'yesterday' },
      { status: 1 },
      { network: { transaction_fee: { amount: '-1', currency: 'BTC' } } },
    ])
      assert.throws(() => toFlow(tx(o), 'BTC'), malformed, JSON.stringify(o));
  });
});
