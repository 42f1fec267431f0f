/**
 * A PriceOracle backed by exchange candles: price(asset, ts) is the OPEN of the 1h `<ASSET>USDT`
 * candle containing ts. The open is the first trade of that hour, so it is known at ts: the
 * oracle never answers with a price from ts's future.
 *
 * Assumption (reported with results): USDT is the reporting currency, and the USD stablecoins in
 * USD_STABLES are worth exactly 1 USDT. No triangulation: an asset without a USDT market (or
 * before its listing, after its delisting, in a trading halt) has no price (null).
 */
import { USD_STABLECOINS } from '../aggregates/engine.js';
import type { PriceOracle } from '../aggregates/ledger.js';
import type { ExchangeClient } from './types.js';

const HOUR = 3_600_000;

/** Valued at exactly 1 USDT (an assumption, not a market price): the engine's list, one source of truth. */
export const USD_STABLES: ReadonlySet<string> = new Set(USD_STABLECOINS.filter((a) => a !== 'USD'));

export interface KlineOracleOptions {
  /** assets the engine will ask about */
  assets: readonly string[];
  /** the first and last ts (ms) the engine will ask about */
  from: number;
  to: number;
  quote?: 'USDT';
  /** the exchange's market id pricing `asset` (default `asset + quote`, e.g. 'BTCUSDT') */
  symbol?: (asset: string) => string;
}

/**
 * Hourly opens shared by every oracle in the process, keyed by venue, symbol and hour: a candle's
 * open never changes once the hour has started, so it may be reused across users. null marks an
 * hour proven to have no candle (a gap before a later candle). Bounded: least recently used first
 * out. An oracle copies what it needs, so eviction never changes its answers.
 */
const cache = new Map<string, string | null>();
let cacheLimit = 500_000;

/** For tests and memory tuning: the shared cache's size, and its bound. */
export const klineCache = {
  size: () => cache.size,
  setLimit(n: number): void {
    cacheLimit = n;
    evict();
  },
  clear: () => cache.clear(),
};

function evict(): void {
  for (const k of cache.keys()) {
    if (cache.size <= cacheLimit) return;
    cache.delete(k);
  }
}

function remember(key: string, v: string | null): void {
  cache.delete(key);
  cache.set(key, v);
  if (cache.size > cacheLimit) evict();
}

/**
 * Fetches (or reuses) the 1h candles of every priced asset over [from − 1h, to] and answers from
 * that snapshot only: same question, same answer, whatever happens to the shared cache.
 *
 * @example
 * const oracle = await createKlineOracle(client, { assets: ['BTC', 'BNB'], from, to });
 * oracle.price('BNB', fill.ts); // '612.34000000' or null
 */
export async function createKlineOracle(
  client: Pick<ExchangeClient, 'venue' | 'klines'>,
  o: KlineOracleOptions,
): Promise<PriceOracle> {
  const quote = o.quote ?? 'USDT';
  if (!Number.isSafeInteger(o.from) || !Number.isSafeInteger(o.to) || o.from > o.to)
    throw new RangeError('from/to must be integer milliseconds with from <= to');
  const first = Math.floor((o.from - HOUR) / HOUR) * HOUR;
  const last = Math.floor(o.to / HOUR) * HOUR;
  const opens = new Map<string, Map<number, string>>();
  for (const asset of new Set(o.assets)) {
    if (asset === quote || USD_STABLES.has(asset)) continue;
    opens.set(asset, await hourlyOpens(client, o.symbol?.(asset) ?? asset + quote, first, last));
  }
  return {
    price(asset: string, ts: number): string | null {
      if (asset === quote || USD_STABLES.has(asset)) return '1';
      return opens.get(asset)?.get(Math.floor(ts / HOUR) * HOUR) ?? null;
    },
  };
}

/** Open per hour in [first, last], fetching only the span the shared cache does not know. */
async function hourlyOpens(
  client: Pick<ExchangeClient, 'venue' | 'klines'>,
  symbol: string,
  first: number,
  last: number,
): Promise<Map<number, string>> {
  const key = (h: number) => `${client.venue}|${symbol}|${h}`;
  const out = new Map<number, string>();
  let lo = Infinity;
  let hi = -Infinity;
  for (let h = first; h <= last; h += HOUR) {
    const v = cache.get(key(h));
    if (v === undefined) [lo, hi] = [Math.min(lo, h), h];
    else if (v !== null) {
      out.set(h, v);
      remember(key(h), v); // touch: recently used
    }
  }
  if (lo > hi) return out;
  const rows = await client.klines(symbol, '1h', lo, hi);
  for (const k of rows) {
    out.set(k.openTime, k.open);
    remember(key(k.openTime), k.open);
  }
  // hours missing before the newest candle are a real gap; later ones may still come
  const newest = rows.length > 0 ? rows[rows.length - 1]!.openTime : -Infinity;
  for (let h = lo; h < newest; h += HOUR) if (!out.has(h)) remember(key(h), null);
  return out;
}
