/**
 * Kraken spot REST rows → the engine's ledger types (docs.kraken.com/api-reference: account-data
 * get-trades-history, get-ledgers; research/exchanges.md §4). Every row is untrusted and checked.
 *
 * Kraken quirks:
 * - asset codes carry legacy X/Z prefixes ("XXBT", "ZUSD") and XBT means BTC: names go through
 *   `code()` (ccxt's kraken currency table, then the prefix rule), so fills, flows and balances
 *   share one namespace.
 * - `time` is seconds with 4 decimals (0.1 ms): floored to whole milliseconds.
 * - a trade's `fee` is in the QUOTE currency; `cost` is price × vol in the quote currency.
 * - ledger `amount` is signed (< 0 leaves the account) and `fee` is charged on top of it.
 * - margin `rollover` entries are the funding cost of a margin position: their `fee` is paid.
 */
import type {
  DepositEvent,
  FundingEvent,
  SpotFill,
  TransferEvent,
  WithdrawalEvent,
} from '../aggregates/ledger.js';
import { isRecord, malformed } from './binance-common.js';
import { DEC, UDEC, addDecimals, addSignedDecimals, isPositive, negateDecimal } from './decimal.js';

export interface KrakenPair {
  symbol: string;
  base: string;
  quote: string;
}

const PAIR = /^[A-Z0-9.]{3,24}$/;
const TXID = /^[A-Z0-9-]{6,40}$/;
/** quotes, longest first, to split a pair no longer in AssetPairs (delisted) */
const QUOTES = [
  'ZUSD',
  'ZEUR',
  'ZGBP',
  'ZCAD',
  'ZJPY',
  'USDT',
  'USDC',
  'XXBT',
  'XETH',
  'USD',
  'EUR',
  'GBP',
  'CAD',
  'JPY',
  'CHF',
  'AUD',
  'XBT',
  'ETH',
  'DAI',
];

/** One AssetPairs entry: its key is the pair name TradesHistory uses. */
export function toKrakenPair(r: unknown, code: (id: string) => string): KrakenPair | undefined {
  if (!isRecord(r)) throw malformed('asset pair');
  const { base, quote } = r;
  if (typeof base !== 'string' || typeof quote !== 'string') return undefined;
  if (!PAIR.test(base) || !PAIR.test(quote)) return undefined;
  const [b, q] = [code(base), code(quote)];
  return { symbol: `${b}/${q}`, base: b, quote: q };
}

/** Splits a pair name AssetPairs no longer lists: "XXBTZUSD", "LUNAUSD", "DOTEUR". */
export function guessKrakenPair(
  name: string,
  code: (id: string) => string,
): KrakenPair | undefined {
  if (!PAIR.test(name)) return undefined;
  const m = /^([XZ][A-Z]{3})([XZ][A-Z]{3})$/.exec(name);
  const [b, q] = m
    ? [m[1]!, m[2]!]
    : ((q) => (q ? [name.slice(0, -q.length), q] : []))(
        QUOTES.find((q) => name.endsWith(q) && name.length > q.length),
      );
  if (!b || !q) return undefined;
  return { symbol: `${code(b)}/${code(q)}`, base: code(b), quote: code(q) };
}

/** Kraken's `time` (seconds, up to 4 decimals, number or string) → whole ms, exactly. */
export function krakenMs(v: unknown): number | undefined {
  const s = typeof v === 'number' ? v.toFixed(4) : v;
  if (typeof s !== 'string') return undefined;
  const m = /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(s);
  if (!m) return undefined;
  const ms = Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0').slice(0, 3));
  return Number.isSafeInteger(ms) ? ms : undefined;
}

export interface RawKrakenTrade {
  txid: string;
  ordertxid: string;
  pair: string;
  side: 'buy' | 'sell';
  price: string;
  vol: string;
  cost: string;
  fee: string;
  maker: boolean;
  ts: number;
}

/** One TradesHistory entry (`txid` is its key in the result object). */
export function parseKrakenTrade(txid: string, r: unknown): RawKrakenTrade {
  if (!TXID.test(txid)) throw malformed('trade id');
  if (!isRecord(r)) throw malformed('trade row');
  const { ordertxid, pair, type, price, vol, cost, fee } = r;
  const ts = krakenMs(r['time']);
  if (typeof ordertxid !== 'string' || !TXID.test(ordertxid)) throw malformed('trade order id');
  if (typeof pair !== 'string' || !PAIR.test(pair)) throw malformed('trade pair');
  if (type !== 'buy' && type !== 'sell') throw malformed('trade side');
  for (const v of [price, vol, cost, fee])
    if (typeof v !== 'string' || !UDEC.test(v)) throw malformed('trade amounts');
  if (ts === undefined) throw malformed('trade time');
  const maker = r['maker'] ?? false;
  if (typeof maker !== 'boolean') throw malformed('trade maker flag');
  return {
    txid,
    ordertxid,
    pair,
    side: type,
    price: price as string,
    vol: vol as string,
    cost: cost as string,
    fee: fee as string,
    maker,
    ts,
  };
}

export function toKrakenFill(t: RawKrakenTrade, p: KrakenPair): SpotFill {
  return {
    exchange: 'kraken',
    symbol: p.symbol,
    base: p.base,
    quote: p.quote,
    id: t.txid,
    orderId: t.ordertxid,
    side: t.side,
    price: t.price,
    qty: t.vol,
    quoteQty: t.cost,
    fee: t.fee,
    feeAsset: p.quote, // "total fee (quote currency)"
    maker: t.maker,
    ts: t.ts,
  };
}

export type KrakenLedgerEvent = DepositEvent | WithdrawalEvent | TransferEvent | FundingEvent;

/**
 * One Ledgers entry → the event it is, or undefined for entries the fills already carry
 * (`trade`, `margin`) or that are not flows (`staking` rewards and the like are left out and
 * reconciled by the balance snapshot).
 * - deposit: amount − fee arrives; withdrawal: |amount| + fee leaves;
 * - transfer (spot ↔ futures, staking): a signed flow across the measured account's boundary;
 * - rollover: the margin position's funding cost, −fee.
 */
export function toKrakenLedger(
  id: string,
  r: unknown,
  code: (id: string) => string,
): KrakenLedgerEvent | undefined {
  if (!TXID.test(id)) throw malformed('ledger id');
  if (!isRecord(r)) throw malformed('ledger row');
  const { type, asset, amount, fee } = r;
  const ts = krakenMs(r['time']);
  if (typeof type !== 'string' || !/^[a-z]{1,20}$/.test(type)) throw malformed('ledger type');
  if (typeof asset !== 'string' || !PAIR.test(asset)) throw malformed('ledger asset');
  if (typeof amount !== 'string' || !DEC.test(amount)) throw malformed('ledger amount');
  if (typeof fee !== 'string' || !UDEC.test(fee)) throw malformed('ledger fee');
  if (ts === undefined) throw malformed('ledger time');
  const a = code(asset);
  const out = amount.startsWith('-') ? amount.slice(1) : amount;
  switch (type) {
    case 'deposit': {
      // the fee is taken from what arrived
      const net = addSignedDecimals(amount, negateDecimal(fee));
      return !net.startsWith('-') && isPositive(net)
        ? { type: 'deposit', ts, asset: a, amount: net, id }
        : undefined;
    }
    case 'withdrawal': {
      const total = addDecimals(out, fee);
      return isPositive(total)
        ? { type: 'withdrawal', ts, asset: a, amount: total, id }
        : undefined;
    }
    case 'transfer':
      return isPositive(out) ? { type: 'transfer', ts, asset: a, amount, id } : undefined;
    case 'rollover':
      return isPositive(fee)
        ? { type: 'funding', ts, asset: a, amount: negateDecimal(fee), id }
        : undefined;
    default:
      return undefined;
  }
}
