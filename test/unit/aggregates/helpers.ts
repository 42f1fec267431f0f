/** Builders shared by the aggregates tests. */
import type { Fill } from '../../../src/aggregates/fill.js';
import type { FuturesFill, PriceOracle } from '../../../src/aggregates/ledger.js';

export const D = 86_400_000;
export const H = 3_600_000;
export const T0 = Date.UTC(2024, 0, 1);

/** A spot fill with the defaults of a BTC/USDT Binance fill; quoteQty must be given exactly. */
export function spot(p: Partial<Fill> & Pick<Fill, 'ts' | 'side' | 'qty' | 'quoteQty'>): Fill {
  return {
    exchange: 'binance',
    symbol: 'BTC/USDT',
    base: 'BTC',
    quote: 'USDT',
    id: String(p.ts),
    orderId: '1',
    price: '0',
    fee: '0',
    feeAsset: 'USDT',
    maker: false,
    ...p,
  };
}

/** A USD-M perpetual fill (BTC/USDT:USDT by default). */
export function perp(
  p: Partial<FuturesFill> & Pick<FuturesFill, 'ts' | 'side' | 'qty' | 'quoteQty'>,
): FuturesFill {
  return {
    exchange: 'binance',
    symbol: 'BTC/USDT:USDT',
    base: 'BTC',
    quote: 'USDT',
    id: String(p.ts),
    orderId: '1',
    price: '0',
    fee: '0',
    feeAsset: 'USDT',
    maker: false,
    market: 'futures',
    ...p,
  };
}

/**
 * A price oracle from step tables: `asset → [[from_ts, price], …]` (ascending); the price at ts
 * is the last step at or before ts, null before the first. Deterministic, like a candle store.
 */
export function steps(table: Record<string, [number, string][]>): PriceOracle & { calls: number } {
  const o = {
    calls: 0,
    price(asset: string, ts: number): string | null {
      o.calls++;
      const t = table[asset];
      if (!t) return null;
      let p: string | null = null;
      for (const [from, v] of t) if (ts >= from) p = v;
      return p;
    },
  };
  return o;
}

/** |a − b| ≤ tol, with a readable failure. */
export function near(a: number | null, b: number, tol = 1e-9, what = ''): void {
  if (a === null || !(Math.abs(a - b) <= tol))
    throw new Error(`${what}: expected ${b} ± ${tol}, got ${a}`);
}
