/**
 * Binance public market data without a key: the candles the price oracle values every venue's
 * assets with (USDT quotes, docs/exchanges.md "Prices"). Sessions on Bybit, OKX or Kraken have no
 * Binance key, and those venues' own candle APIs differ in symbols and reach (Kraken's OHLC keeps
 * only the last 720 candles), so one market-data source serves them all.
 *
 * Requests go through the same path as the keyed adapters (./signed-http.ts) and draw on the
 * Binance limiter of the egress, the budget Binance sessions use too (weight 2 per klines call).
 */
import { isRecord, type BinanceGet } from './binance-common.js';
import { fetchBinanceKlines } from './binance-klines.js';
import { BINANCE_SPOT_POOLS } from './binance-limits.js';
import { LimiterRegistry } from './limiter.js';
import { createSender, retryAfterMs, type Verdict } from './signed-http.js';
import type { ExchangeClient } from './types.js';
import { baseOrigin } from './egress.js';

export interface BinanceMarketOptions {
  /** origin instead of https://api.binance.com (the simulator); paths are kept */
  baseUrl?: string;
  allowHosts: string[];
  limiters?: LimiterRegistry;
  egress?: string;
}

/** -1121 "Invalid symbol": a pair Binance does not list has no candles. */
const UNKNOWN_SYMBOL = -1121;

/**
 * @example
 * const market = createBinanceMarketData({ allowHosts: ['api.binance.com'] });
 * const oracle = await createKlineOracle(market, { assets: ['BTC'], from, to });
 */
export function createBinanceMarketData(
  o: BinanceMarketOptions,
): Pick<ExchangeClient, 'venue' | 'klines'> {
  const origin = o.baseUrl === undefined ? 'https://api.binance.com' : baseOrigin(o.baseUrl);
  const venue = `binance|${origin}`;
  const limiter = (o.limiters ?? new LimiterRegistry()).get(
    venue,
    o.egress ?? 'default',
    BINANCE_SPOT_POOLS,
  );
  const send = createSender({
    allowHosts: o.allowHosts,
    limiters: [{ limiter, cost: () => ({ api: 2 }) }],
    classify: classifyBinancePublic,
  });
  const get: BinanceGet = (endpoint, params) => {
    if (endpoint !== 'klines') throw new RangeError(`no public ${endpoint}`);
    const url = `${origin}/api/v3/klines?${new URLSearchParams(params).toString()}`;
    return send('/api/v3/klines', () => ({ url, method: 'GET', headers: {} }), { rateWaitMs: 0 });
  };
  return {
    venue,
    klines: (symbol, interval, startTime, endTime) =>
      fetchBinanceKlines(get, symbol, interval, startTime, endTime),
  };
}

/** Binance's verdict on a public call: 429/418 wait, 5xx retry, an unlisted symbol is empty. */
export function classifyBinancePublic(status: number, headers: Headers, body: unknown): Verdict {
  const code = isRecord(body) ? Number(body['code']) : NaN;
  if (status === 429 || status === 418)
    return { kind: 'rateLimited', retryAfterMs: retryAfterMs(headers.get('Retry-After')) };
  if (status >= 500 || code === -1000 || code === -1001 || code === -1007)
    return { kind: 'transient', why: `HTTP ${status}` };
  if (code === UNKNOWN_SYMBOL) return { kind: 'ok', data: [] };
  if (status !== 200 || !Array.isArray(body)) return { kind: 'rejected', why: `HTTP ${status}` };
  return { kind: 'ok', data: body };
}
