/**
 * A normalized fill, the engine's input. Amounts are the exchange's exact decimal strings;
 * `ts` is milliseconds since the epoch. Exchange adapters produce this shape.
 */
export interface Fill {
  exchange: string;
  /** unified symbol, e.g. 'BTC/USDT' */
  symbol: string;
  base: string;
  quote: string;
  /** trade id, unique per (exchange, symbol) */
  id: string;
  orderId: string;
  side: 'buy' | 'sell';
  price: string;
  qty: string;
  quoteQty: string;
  fee: string;
  feeAsset: string;
  maker: boolean;
  /** execution time, ms since the Unix epoch */
  ts: number;
}

/** Canonical order of fills: time, then symbol, then exchange id (numeric when both are numeric). */
export function compareFills(a: Fill, b: Fill): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.symbol !== b.symbol) return a.symbol < b.symbol ? -1 : 1;
  if (a.id.length !== b.id.length && /^\d+$/.test(a.id) && /^\d+$/.test(b.id))
    return a.id.length - b.id.length;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The canonical form committed to by `trades_root`: exactly these fields, JCS-serialized. */
export function canonicalFill(f: Fill): Fill {
  return {
    exchange: f.exchange,
    symbol: f.symbol,
    base: f.base,
    quote: f.quote,
    id: f.id,
    orderId: f.orderId,
    side: f.side,
    price: f.price,
    qty: f.qty,
    quoteQty: f.quoteQty,
    fee: f.fee,
    feeAsset: f.feeAsset,
    maker: f.maker,
    ts: f.ts,
  };
}
