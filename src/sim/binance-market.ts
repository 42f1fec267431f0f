/**
 * The simulated market: one deterministic hourly price path per symbol, the price at any
 * millisecond, and GET /api/v3/klines rows built from it. Fills are generated at this price (±2
 * ticks), so a fill always lies inside the candle that contains it.
 *
 * A path depends only on the simulator seed, the symbol and its window, never on the accounts,
 * so every account sees the same market.
 */
import type { SimSymbol } from './binance-data.js';
import { bad, intParam, mandatory } from './binance-http.js';
import { DAY, E8, HOUR, fmt8, hash32, prng } from './binance-prim.js';

/** Fills may trade up to this many ticks away from the path; candles widen by the same amount. */
export const FILL_SPREAD_TICKS = 2;

export interface MarketPath {
  sym: SimSymbol;
  /** open time of hour 0 (a UTC midnight, so every interval that divides a day is aligned) */
  origin: number;
  /** exclusive: no price and no candle from here on (the path's end, or a BREAK symbol's halt) */
  end: number;
  /** opens[h] is the price in ticks at origin + h·HOUR; opens[h + 1] is hour h's close */
  opens: number[];
  /** per hour: extra ticks above the high / below the low, volume in steps, trade count, taker % */
  up: number[];
  down: number[];
  volSteps: number[];
  trades: number[];
  takerPct: number[];
}

export function buildMarket(
  seed: number,
  sym: SimSymbol,
  origin: number,
  hours: number,
  haltAt?: number,
): MarketPath {
  const rnd = prng(hash32(sym.symbol, seed) ^ 0x2545f491);
  const m: MarketPath = {
    sym,
    origin,
    end: Math.min(origin + hours * HOUR, haltAt ?? Infinity),
    opens: [],
    up: [],
    down: [],
    volSteps: [],
    trades: [],
    takerPct: [],
  };
  let p = sym.startTicks;
  for (let h = 0; h <= hours; h++) {
    m.opens.push(p);
    m.up.push(Math.floor(rnd() * Math.max(2, p * 0.003)));
    m.down.push(Math.floor(rnd() * Math.max(2, p * 0.003)));
    m.volSteps.push(sym.sizeSteps * (100 + Math.floor(rnd() * 900)));
    m.trades.push(100 + Math.floor(rnd() * 900));
    m.takerPct.push(30 + Math.floor(rnd() * 41));
    // uniform ±0.8 % per hour (σ ≈ 0.46 %); the floor keeps low − spread above zero
    p = Math.max(100, Math.round(p * (1 + (rnd() - 0.5) * 0.016)));
  }
  return m;
}

/** The path's price in ticks at `t`, linear within each hour; null outside [origin, end). */
export function ticksAt(m: MarketPath, t: number): number | null {
  if (!Number.isFinite(t) || t < m.origin || t >= m.end) return null;
  const h = Math.floor((t - m.origin) / HOUR);
  const o = m.opens[h]!;
  const c = m.opens[h + 1]!;
  return o + Math.round(((c - o) * (t - m.origin - h * HOUR)) / HOUR);
}

/** One kline row exactly as Binance serialises it (rest-api.md "Kline/Candlestick data"). */
export type KlineRow = [
  number,
  string,
  string,
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  string,
  string,
];

/**
 * The candle opening at `openTime` (aligned by the caller), built from the hours it spans and cut
 * at `now`: the candle in progress shows the price at `now` as its close, like a live one.
 */
export function candle(m: MarketPath, openTime: number, intervalMs: number, now: number): KlineRow {
  const stop = Math.min(openTime + intervalMs, m.end, now + 1);
  let open = 0;
  let close = 0;
  let high = 0;
  let low = Infinity;
  let vol = 0n;
  let quote = 0n;
  let takerBase = 0n;
  let takerQuote = 0n;
  let trades = 0;
  for (let hs = openTime; hs < stop; hs += HOUR) {
    const h = (hs - m.origin) / HOUR;
    const he = Math.min(hs + HOUR, stop);
    const o = m.opens[h]!;
    const c = he === hs + HOUR ? m.opens[h + 1]! : ticksAt(m, he - 1)!;
    if (hs === openTime) open = o;
    close = c;
    high = Math.max(high, Math.max(o, c) + FILL_SPREAD_TICKS + m.up[h]!);
    low = Math.min(low, Math.max(1, Math.min(o, c) - FILL_SPREAD_TICKS - m.down[h]!));
    const share = BigInt(he - hs);
    const v = (BigInt(m.volSteps[h]!) * m.sym.stepE8 * share) / BigInt(HOUR);
    const q = (v * BigInt(o + c) * m.sym.tickE8) / (2n * E8);
    vol += v;
    quote += q;
    takerBase += (v * BigInt(m.takerPct[h]!)) / 100n;
    takerQuote += (q * BigInt(m.takerPct[h]!)) / 100n;
    trades += Math.floor((m.trades[h]! * (he - hs)) / HOUR);
  }
  const px = (ticks: number) => fmt8(BigInt(ticks) * m.sym.tickE8);
  return [
    openTime,
    px(open),
    px(high),
    px(low),
    px(close),
    fmt8(vol),
    openTime + intervalMs - 1,
    fmt8(quote),
    trades,
    fmt8(takerBase),
    fmt8(takerQuote),
    '0',
  ];
}

export interface KlineQuery {
  intervalMs: number;
  startTime?: number;
  endTime?: number;
  limit: number;
}

/**
 * Candles by the docs' general rule ("Data is returned in chronological order"): none → the most
 * recent `limit`; startTime → the oldest from it; endTime → the most recent up to it; both → from
 * startTime, not past endTime. choice: a candle is selected by its open time (startTime ≤ open ≤
 * endTime), so a startTime inside a candle starts at the next one.
 */
export function klines(m: MarketPath, q: KlineQuery, now: number): KlineRow[] {
  if (now < m.origin) return [];
  const I = q.intervalMs;
  const floor = (t: number) => t - (((t % I) + I) % I);
  let hi = floor(Math.min(now, m.end - 1));
  if (q.endTime !== undefined) hi = Math.min(hi, floor(q.endTime));
  let lo = m.origin;
  if (q.startTime !== undefined) lo = Math.max(lo, floor(q.startTime - 1) + I);
  else lo = Math.max(lo, hi - (q.limit - 1) * I);
  const out: KlineRow[] = [];
  for (let t = lo; t <= hi && out.length < q.limit; t += I) out.push(candle(m, t, I, now));
  return out;
}

/** Intervals served: whole hours that divide a day, and 1d (choice: others answer -1120). */
export const SIM_INTERVALS: ReadonlyMap<string, number> = new Map([
  ['1h', HOUR],
  ['2h', 2 * HOUR],
  ['4h', 4 * HOUR],
  ['6h', 6 * HOUR],
  ['8h', 8 * HOUR],
  ['12h', 12 * HOUR],
  ['1d', DAY],
]);

/** GET /api/v3/klines: symbol and interval required, limit default 500, max 1000. */
export function klinesRequest(
  markets: ReadonlyMap<string, MarketPath>,
  p: Map<string, string>,
  now: number,
): KlineRow[] {
  const symbol = p.get('symbol');
  if (symbol === undefined || symbol === '') throw mandatory('symbol');
  const interval = p.get('interval');
  if (interval === undefined || interval === '') throw mandatory('interval');
  const m = markets.get(symbol);
  if (!m) throw bad(-1121, 'Invalid symbol.');
  const intervalMs = SIM_INTERVALS.get(interval);
  if (intervalMs === undefined) throw bad(-1120, 'Invalid interval.');
  const tz = p.get('timeZone');
  if (tz !== undefined && tz !== '0')
    throw bad(-1130, "Data sent for parameter 'timeZone' is not valid."); // choice: UTC only
  const limit = intParam(p, 'limit') ?? 500;
  // choice: reject rather than clamp, as for myTrades, so a client assuming bigger pages fails loudly
  if (limit < 1 || limit > 1000) throw bad(-1130, "Data sent for parameter 'limit' is not valid.");
  const startTime = intParam(p, 'startTime');
  const endTime = intParam(p, 'endTime');
  if (startTime !== undefined && endTime !== undefined && startTime > endTime)
    throw bad(-1023, 'Start time is greater than end time.');
  return klines(m, { intervalMs, startTime, endTime, limit }, now);
}
