/**
 * Per-IP request weight, as Binance meters it: fixed buckets per pool, 429 + Retry-After past the
 * limit, 418 bans for clients that ignore Retry-After ("IP Limits"). /api/* shares one pool
 * (X-MBX-USED-WEIGHT-1M); each /sapi/* endpoint with an IP limit has its own 12,000/min pool
 * (X-SAPI-USED-IP-WEIGHT-1M, dev.binance.vision "Request limit on the API endpoints"); the
 * withdraw history has a per-second pool of 180,000 at weight 18,000, i.e. 10 requests/s
 * (wallet docs, X-SAPI-USED-IP-WEIGHT-1S).
 */
import { Reject } from './binance-http.js';

export interface Pool {
  name: string;
  limit: number;
  windowMs: number;
  /** response header carrying the used weight */
  header: string;
  /** the interval as the 429 message names it */
  per: string;
}

const DAY = 86_400_000;
const BAN_MIN_MS = 120_000; // "IP bans ... scale in duration ... from 2 minutes to 3 days"
const BAN_MAX_MS = 3 * DAY;

interface IpState {
  bucket: number;
  used: number;
  /** a 429 told the client to wait until then; requests before it are violations */
  backoffUntil: number;
  strikes: number;
  bannedUntil: number;
  bans: number;
}

export type Meter = ((
  ip: string,
  pool: Pool,
  weight: number,
) => { used: number; reject?: Reject }) & {
  /** what the meter saw: highest weight used in one window per pool, and the rejections */
  stats(): MeterStats;
};

export interface MeterStats {
  peakUsed: Record<string, number>;
  /** weight accepted per pool over the simulator's life (benchmarks: budget share of a run) */
  usedTotal: Record<string, number>;
  rejected429: number;
  rejected418: number;
}

export function createMeter(now: () => number): Meter {
  const states = new Map<string, IpState>();
  const stats: MeterStats = { peakUsed: {}, usedTotal: {}, rejected429: 0, rejected418: 0 };
  const inner = (ip: string, pool: Pool, weight: number): { used: number; reject?: Reject } => {
    const t = now();
    const bucket = Math.floor(t / pool.windowMs);
    const key = `${pool.name}|${ip}`;
    let s = states.get(key);
    if (!s)
      states.set(
        key,
        (s = { bucket, used: 0, backoffUntil: 0, strikes: 0, bannedUntil: 0, bans: 0 }),
      );
    if (s.bucket !== bucket) [s.bucket, s.used] = [bucket, 0];
    const secs = (until: number) => String(Math.max(1, Math.ceil((until - t) / 1000)));
    const tooMuch = (retryAfter: string) =>
      new Reject(
        429,
        -1003,
        `Too much request weight used; current limit is ${pool.limit} request weight per ${pool.per}. Please use WebSocket Streams for live updates to avoid polling the API.`,
        { 'Retry-After': retryAfter },
      );
    if (s.bannedUntil > t) {
      return {
        used: s.used,
        reject: new Reject(
          418,
          -1003,
          `Way too much request weight used; IP banned until ${s.bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.`,
          { 'Retry-After': secs(s.bannedUntil) },
        ),
      };
    }
    if (s.backoffUntil > t) {
      // choice: the 3rd violation in a row (the first 429 included) earns a ban, as research §2.3
      if (++s.strikes >= 3) {
        s.bans++;
        s.bannedUntil = t + Math.min(BAN_MIN_MS * 2 ** (s.bans - 1), BAN_MAX_MS);
        s.backoffUntil = 0;
        s.strikes = 0;
        return inner(ip, pool, weight);
      }
      return { used: s.used, reject: tooMuch(secs(s.backoffUntil)) };
    }
    s.strikes = 0;
    if (s.used + weight > pool.limit) {
      const retry = secs((bucket + 1) * pool.windowMs);
      s.backoffUntil = t + Number(retry) * 1000;
      s.strikes = 1;
      return { used: s.used, reject: tooMuch(retry) };
    }
    s.used += weight;
    stats.usedTotal[pool.name] = (stats.usedTotal[pool.name] ?? 0) + weight;
    stats.peakUsed[pool.name] = Math.max(stats.peakUsed[pool.name] ?? 0, s.used);
    return { used: s.used };
  };
  const meter = (ip: string, pool: Pool, weight: number) => {
    const r = inner(ip, pool, weight);
    if (r.reject?.status === 429) stats.rejected429++;
    if (r.reject?.status === 418) stats.rejected418++;
    return r;
  };
  return Object.assign(meter, {
    stats: (): MeterStats => ({
      peakUsed: { ...stats.peakUsed },
      usedTotal: { ...stats.usedTotal },
      rejected429: stats.rejected429,
      rejected418: stats.rejected418,
    }),
  });
}
