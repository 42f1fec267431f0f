/**
 * Coinbase Advanced Trade fill rows (GET /api/v3/brokerage/orders/historical/fills) → the
 * engine's Fill. Rows come from the network: every field is checked before it is used.
 *
 * Coinbase quirks handled here:
 * - `commission` is charged in the QUOTE currency of the product.
 * - `size_in_quote: true` (an order placed by quote amount) means `size` is in the quote
 *   currency: base quantity = size / price, quote quantity = size (ccxt coinbase.js parseTrade
 *   does the same).
 * - USD and USDC are separate currencies with separate products (BTC-USD, BTC-USDC); the product
 *   id names base and quote as Coinbase books them, so a fill's legs land in the right wallet.
 * - `entry_id` identifies one fill row of this user; `trade_id` is the match and is shared by the
 *   two sides of a self-trade, so de-duplication keys on entry_id.
 */
import { isRecord, malformed } from './binance-common.js';
import { UDEC } from './decimal.js';
import type { NormalizedFill } from './types.js';

/** Spot product ids are BASE-QUOTE; futures ("BIT-27JUN25-CDE") and perps ("BTC-PERP-INTX") are not. */
export const SPOT_PRODUCT = /^([A-Z0-9]{1,20})-([A-Z0-9]{1,20})$/;
const ID = /^[A-Za-z0-9-]{1,64}$/;
/** RFC 3339 UTC with up to nanoseconds, as Coinbase prints trade_time */
const TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;
/** decimal places kept when size_in_quote forces a division that does not terminate */
const QUOTIENT_DP = 18;

/** Parses an RFC 3339 UTC time to whole milliseconds (truncating finer digits). */
export function parseRfc3339(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = TIME.exec(v);
  if (!m) return undefined;
  const t = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 19) !== m[1]) return undefined;
  return t + Number((m[2] ?? '').padEnd(3, '0').slice(0, 3));
}

/**
 * a / b for two positive decimal strings: exact when the quotient terminates within 18 places,
 * otherwise rounded half to even at 18 places (far below the engine's 1e-8 tick).
 */
export function divDecimals(a: string, b: string): string {
  const [ai = '', af = ''] = a.split('.');
  const [bi = '', bf = ''] = b.split('.');
  const scale = Math.max(af.length, bf.length);
  const na = BigInt(ai + af.padEnd(scale, '0'));
  const nb = BigInt(bi + bf.padEnd(scale, '0'));
  if (nb === 0n) throw malformed('fill price is zero');
  const num = na * 10n ** BigInt(QUOTIENT_DP);
  let q = num / nb;
  const r2 = (num % nb) * 2n;
  if (r2 > nb || (r2 === nb && q % 2n === 1n)) q += 1n;
  const digits = q.toString().padStart(QUOTIENT_DP + 1, '0');
  const out = `${digits.slice(0, -QUOTIENT_DP)}.${digits.slice(-QUOTIENT_DP)}`;
  return out.replace(/0+$/, '').replace(/\.$/, '');
}

/** product_id → [base, quote] for spot products, undefined for any other product type. */
export function spotLegs(productId: string): [string, string] | undefined {
  const m = SPOT_PRODUCT.exec(productId);
  return m ? [m[1]!, m[2]!] : undefined;
}

/**
 * Validates one fill row and maps it to a NormalizedFill; undefined for a non-spot product (see
 * docs/exchanges.md "Not covered").
 */
export function toCoinbaseFill(r: unknown): NormalizedFill | undefined {
  if (!isRecord(r)) throw malformed('fill row');
  const { entry_id, trade_id, order_id, product_id, price, size, commission, side } = r;
  if (typeof product_id !== 'string' || product_id.length > 64) throw malformed('fill product');
  const legs = spotLegs(product_id);
  if (!legs) return undefined;
  const [base, quote] = legs;
  if (
    typeof entry_id !== 'string' ||
    !ID.test(entry_id) ||
    typeof order_id !== 'string' ||
    !ID.test(order_id) ||
    (trade_id !== undefined && (typeof trade_id !== 'string' || !ID.test(trade_id)))
  )
    throw malformed('fill ids');
  const ts = parseRfc3339(r['trade_time']);
  if (ts === undefined) throw malformed('fill trade_time');
  if (
    typeof price !== 'string' ||
    typeof size !== 'string' ||
    typeof commission !== 'string' ||
    ![price, size, commission].every((v) => UDEC.test(v)) ||
    !/[1-9]/.test(price)
  )
    throw malformed('fill amounts');
  if (side !== 'BUY' && side !== 'SELL') throw malformed('fill side');
  const inQuote = r['size_in_quote'];
  if (typeof inQuote !== 'boolean') throw malformed('fill size_in_quote');
  const liq = r['liquidity_indicator'];
  if (liq !== 'MAKER' && liq !== 'TAKER' && liq !== 'UNKNOWN_LIQUIDITY_INDICATOR')
    throw malformed('fill liquidity_indicator');
  return {
    exchange: 'coinbase',
    symbol: `${base}/${quote}`,
    base,
    quote,
    id: entry_id,
    orderId: order_id,
    side: side === 'BUY' ? 'buy' : 'sell',
    price,
    qty: inQuote ? divDecimals(size, price) : size,
    // Coinbase sends no quote amount for a base-sized fill; size × price is exact in decimal
    quoteQty: inQuote ? size : mulDecimals(size, price),
    fee: commission,
    feeAsset: quote,
    // an unknown indicator is booked as taker, the dearer and so the conservative side
    maker: liq === 'MAKER',
    ts,
  };
}

/** a × b for two non-negative decimal strings, exact. */
export function mulDecimals(a: string, b: string): string {
  const [ai = '', af = ''] = a.split('.');
  const [bi = '', bf = ''] = b.split('.');
  const scale = af.length + bf.length;
  const prod = (BigInt(ai + af) * BigInt(bi + bf)).toString();
  if (scale === 0) return prod;
  const digits = prod.padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`.replace(/0+$/, '').replace(/\.$/, '');
}
