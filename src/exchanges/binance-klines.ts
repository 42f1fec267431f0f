/**
 * Binance spot candles: GET /api/v3/klines (public, weight 2, limit ≤ 1000, "Klines are uniquely
 * identified by their open time"). Paged forward by open time: the next request starts one
 * interval after the last open time seen, until the window is covered or a page is empty.
 */
import { malformed, safeInt, type BinanceGet } from './binance-common.js';
import { UDEC } from './decimal.js';
import type { Kline, KlineInterval } from './types.js';

const MIN = 60_000;
export const INTERVAL_MS: Readonly<Record<KlineInterval, number>> = {
  '1m': MIN,
  '3m': 3 * MIN,
  '5m': 5 * MIN,
  '15m': 15 * MIN,
  '30m': 30 * MIN,
  '1h': 60 * MIN,
  '2h': 120 * MIN,
  '4h': 240 * MIN,
  '6h': 360 * MIN,
  '8h': 480 * MIN,
  '12h': 720 * MIN,
  '1d': 1440 * MIN,
  '3d': 4320 * MIN,
  '1w': 10080 * MIN,
};
const PAGE = 1000;

export async function fetchBinanceKlines(
  get: BinanceGet,
  symbol: string,
  interval: KlineInterval,
  startTime: number,
  endTime: number,
): Promise<Kline[]> {
  const step = Object.hasOwn(INTERVAL_MS, interval) ? INTERVAL_MS[interval] : 0;
  if (step === 0) throw new RangeError(`unsupported kline interval ${String(interval)}`);
  if (!Number.isSafeInteger(startTime) || !Number.isSafeInteger(endTime) || startTime < 0)
    throw new RangeError('startTime/endTime must be integer milliseconds');
  const out: Kline[] = [];
  let lastKept = -1;
  for (let cursor = startTime; cursor <= endTime;) {
    const rows = await get('klines', {
      symbol,
      interval,
      startTime: String(cursor),
      endTime: String(endTime),
      limit: String(PAGE),
    });
    if (!Array.isArray(rows)) throw malformed('klines');
    if (rows.length === 0) break;
    let maxOpen = -1;
    for (const r of rows) {
      const k = toKline(r);
      maxOpen = Math.max(maxOpen, k.openTime);
      // tolerate a candle outside [cursor, endTime] or repeated, but never keep it twice
      if (k.openTime < cursor || k.openTime > endTime || k.openTime <= lastKept) continue;
      out.push(k);
      lastKept = k.openTime;
    }
    if (maxOpen + step <= cursor) throw malformed('klines do not advance'); // would loop forever
    cursor = maxOpen + step;
  }
  return out;
}

/** Validates one kline array (untrusted); prices and volume stay the exchange's strings. */
export function toKline(r: unknown): Kline {
  if (!Array.isArray(r) || r.length < 7) throw malformed('kline row');
  const openTime = safeInt(r[0]);
  const closeTime = safeInt(r[6]);
  const [open, high, low, close, volume] = r.slice(1, 6) as unknown[];
  if (openTime === undefined || closeTime === undefined || closeTime < openTime)
    throw malformed('kline times');
  if (
    typeof open !== 'string' ||
    typeof high !== 'string' ||
    typeof low !== 'string' ||
    typeof close !== 'string' ||
    typeof volume !== 'string' ||
    ![open, high, low, close, volume].every((v) => UDEC.test(v))
  )
    throw malformed('kline prices');
  return { openTime, closeTime, open, high, low, close, volume };
}
