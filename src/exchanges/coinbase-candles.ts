/**
 * Coinbase candles: GET /api/v3/brokerage/market/products/:product_id/candles (public; `start`
 * and `end` in UNIX seconds, `granularity` an enum, at most 350 candles per request, newest
 * first). We walk windows of 300 candles oldest first and keep each open time once.
 */
import { isRecord, malformed } from './binance-common.js';
import { UDEC } from './decimal.js';
import type { Kline, KlineInterval } from './types.js';

export type CandleGet = (params: Record<string, string>) => Promise<unknown>;

const MIN = 60_000;
/** The intervals Coinbase offers among ours. */
export const GRANULARITY: Partial<Record<KlineInterval, [string, number]>> = {
  '1m': ['ONE_MINUTE', MIN],
  '5m': ['FIVE_MINUTE', 5 * MIN],
  '15m': ['FIFTEEN_MINUTE', 15 * MIN],
  '30m': ['THIRTY_MINUTE', 30 * MIN],
  '1h': ['ONE_HOUR', 60 * MIN],
  '2h': ['TWO_HOUR', 120 * MIN],
  '6h': ['SIX_HOUR', 360 * MIN],
  '1d': ['ONE_DAY', 1440 * MIN],
};
/** below the documented 350, so an inclusive end can never ask for one too many */
const WINDOW = 300;

export async function fetchCoinbaseCandles(
  get: CandleGet,
  interval: KlineInterval,
  startTime: number,
  endTime: number,
): Promise<Kline[]> {
  const g = Object.hasOwn(GRANULARITY, interval) ? GRANULARITY[interval] : undefined;
  if (!g) throw new RangeError(`unsupported candle interval ${String(interval)}`);
  const [granularity, step] = g;
  if (!Number.isSafeInteger(startTime) || !Number.isSafeInteger(endTime) || startTime < 0)
    throw new RangeError('startTime/endTime must be integer milliseconds');
  const byOpen = new Map<number, Kline>();
  // align to the grid so every window holds whole candles; Coinbase works in whole seconds
  const first = Math.ceil(startTime / step) * step;
  for (let from = first; from <= endTime; from += WINDOW * step) {
    const to = Math.min(from + (WINDOW - 1) * step, endTime);
    const r = await get({
      start: String(Math.floor(from / 1000)),
      end: String(Math.floor(to / 1000)),
      granularity,
    });
    if (!isRecord(r) || !Array.isArray(r['candles'])) throw malformed('candles');
    for (const row of r['candles']) {
      const k = toCandle(row, step);
      // tolerate a candle outside the window, but never keep it twice
      if (k.openTime >= startTime && k.openTime <= endTime) byOpen.set(k.openTime, k);
    }
  }
  return [...byOpen.values()].sort((a, b) => a.openTime - b.openTime);
}

function toCandle(r: unknown, step: number): Kline {
  if (!isRecord(r)) throw malformed('candle row');
  const { start, low, high, open, close, volume } = r;
  if (typeof start !== 'string' || !/^\d{1,12}$/.test(start)) throw malformed('candle start');
  const vals = [open, high, low, close, volume];
  if (!vals.every((v): v is string => typeof v === 'string' && UDEC.test(v)))
    throw malformed('candle prices');
  const openTime = Number(start) * 1000;
  return {
    openTime,
    closeTime: openTime + step - 1,
    open: open as string,
    high: high as string,
    low: low as string,
    close: close as string,
    volume: volume as string,
  };
}
