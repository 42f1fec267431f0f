/**
 * One shared rate limiter per exchange and egress IP. Exchanges meter request weight per IP, not
 * per key ("The limits on the API are based on the IPs, not the API keys", Binance rest-api.md),
 * so every session the enclave serves draws from one budget: sessions queue here, FIFO per pool,
 * instead of each pacing itself and together overrunning the limit.
 *
 * What it does, per (venue, egress):
 * - weighted token budgets in fixed windows, one pool per limit the exchange enforces (Binance
 *   REQUEST_WEIGHT 6,000/min on spot, 2,400/min on USD-M, the per-endpoint /sapi pools, the
 *   withdraw-history 10/s), reserved before a request is sent;
 * - resynchronises from the exchange's usage headers (`X-MBX-USED-WEIGHT-1M` and the like), which
 *   also count what other clients behind the same IP spent;
 * - after any 429/418 pauses EVERY request of the venue until `Retry-After` has passed: one more
 *   request inside that pause is what turns a 429 into a 418 ban (research/exchanges.md §2.4);
 * - exponential backoff with full jitter for transient failures, and a retry loop with a total
 *   wait budget (`withRetries`) that never retries an authentication failure.
 *
 * Hand-written because no library we ship meters several server-defined weight pools, reads the
 * server's own counters back and shares one pause across callers; time is injected (`Clock`) so
 * tests drive it without sleeping.
 */
import { ExchangeError } from './types.js';

/** Time source and timer, injected so tests can run the limiter on a virtual clock. */
export interface Clock {
  now(): number;
  /** resolves after `ms`, or at once (timer cleared) when `signal` aborts */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((r) => {
      if (signal?.aborted) return r();
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        r();
      }
    }),
};

/**
 * One limit the exchange enforces: at most `limit` weight per fixed window of `windowMs` (Binance's
 * clock minutes), or, with `rolling`, in ANY span of `windowMs` (Bybit, OKX: "n requests per 2 s").
 */
export interface WeightPool {
  name: string;
  limit: number;
  windowMs: number;
  /** response header carrying the server's count of used weight in this window, if any */
  header?: string;
  /**
   * A rolling window. The exchange counts a request when it arrives, which we do not see; we see
   * when it was booked (a lower bound) and when its answer came back (an upper bound). So booked
   * weight counts from booking until windowMs + marginMs after its answer (or after PENDING_MS,
   * when no answer is observed): the exchange's window for any later request can then no longer
   * hold it, however long the request queued, travelled or was stalled on our side.
   */
  rolling?: { marginMs: number };
  /**
   * A leaky bucket (Kraken's call counter): each request adds its weight on arrival, the level
   * drains at `drainPerSec`, and it may never exceed `limit` (`windowMs` is then the time a full
   * bucket takes to drain). A request is taken to arrive when its answer is observed (an upper
   * bound: a later arrival can only leave the exchange's level higher than ours), and one still
   * unanswered as arriving now, so our level is never below the exchange's.
   */
  leaky?: { drainPerSec: number };
  /**
   * fixed windows: how far a request's arrival on the exchange's clock may be from its grant on
   * ours, either way: clock skew plus the time to sign and send (default min(1 s, windowMs / 20))
   */
  skewMs?: number;
}

/** Weight per pool of one request, e.g. `{ api: 20 }` or `{ sapiIp1s: 18_000 }`. */
export type Cost = Readonly<Record<string, number>>;

/** What `acquire` hands out: the windows the weight was booked in, for `observe`. */
export interface Ticket {
  /** fixed pools: the one window the weight landed in, or null when booked in two (near an edge) */
  readonly buckets: Readonly<Record<string, number | null>>;
  /** rolling pools: the bookings whose answer `observe` timestamps */
  readonly rolling?: Readonly<Record<string, RollingEntry>>;
}

/** A rolling-pool booking: it stops counting at `t` + the pool's span (leaky: `t` is its arrival). */
interface RollingEntry {
  t: number;
  readonly w: number;
}

/** The parts of an HTTP response the limiter reads. Header names are matched case-insensitively. */
export interface ObservedResponse {
  status: number;
  headers: Readonly<Record<string, unknown>>;
}

export interface RateLimiter {
  /** Waits (FIFO per pool) until `cost` fits every pool and no pause is in force, then books it. */
  acquire(cost: Cost): Promise<Ticket>;
  /** Feeds a response back: usage headers resynchronise the pools; 429/418 pause the venue. */
  observe(ticket: Ticket | undefined, res: ObservedResponse): void;
  /** ms left of the current 429/418 pause (0 when none) */
  pausedForMs(): number;
  /** Exponential backoff with full jitter for the n-th consecutive transient failure (n ≥ 1). */
  backoffMs(n: number): number;
  readonly clock: Clock;
  /** per pool: weight booked in the current window (tests, progress, benchmarks) */
  usage(): Record<string, number>;
}

export interface LimiterOptions {
  pools: readonly WeightPool[];
  clock?: Clock;
  /** uniform [0, 1); injected for reproducible jitter */
  random?: () => number;
  /** pause after a 429/418 without a usable Retry-After (default: until the window ends + 1 s) */
  defaultPauseMs?: number;
  /** backoff base and cap for transient failures (defaults 250 ms, 8 s) */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

interface PoolState {
  pool: WeightPool;
  /** fixed pools: window index (floor(t / windowMs) on the exchange's clock) → weight booked */
  windows: Map<number, number>;
  /** rolling pools: weight of the live bookings */
  used: number;
  /** rolling pools: the live bookings (at most `limit` of them) */
  log: RollingEntry[];
  /** how far our clock may be off the exchange's, either way */
  guardMs: number;
  /** leaky pools: the level at `baseT` of the bookings folded out of `log` */
  baseLevel: number;
  baseT: number;
}

/** A rolling-pool request whose answer is never observed (a network error) counts this long. */
const PENDING_MS = 30_000;
/** While a booking awaits its answer, a waiting request looks again this often. */
const PENDING_POLL_MS = 20;

/** Longest pause we accept from a header: Binance bans last at most 3 days. */
const MAX_PAUSE_MS = 3 * 86_400_000;

export function createRateLimiter(o: LimiterOptions): RateLimiter {
  const clock = o.clock ?? systemClock;
  const random = o.random ?? Math.random;
  const base = o.backoffBaseMs ?? 250;
  const cap = o.backoffMaxMs ?? 8_000;
  if (o.pools.length === 0) throw new RangeError('limiter: at least one pool');
  const pools = new Map<string, PoolState>();
  for (const p of o.pools) {
    if (
      !(p.limit > 0) ||
      !(p.windowMs > 0) ||
      (p.skewMs !== undefined && !(p.skewMs >= 0 && p.skewMs < p.windowMs / 2)) ||
      (p.leaky !== undefined && !(p.leaky.drainPerSec > 0))
    )
      throw new RangeError(`limiter: bad pool ${p.name}`);
    pools.set(p.name, {
      pool: p,
      windows: new Map(),
      used: 0,
      log: [],
      guardMs: p.skewMs ?? Math.min(1000, Math.floor(p.windowMs / 20)),
      baseLevel: 0,
      baseT: 0,
    });
  }
  let pausedUntil = 0;
  /** rolling bookings whose answer has not been observed yet */
  const pendingSince = new WeakSet<RollingEntry>();
  const queue: { cost: Cost; resolve: (t: Ticket) => void; reject: (e: unknown) => void }[] = [];
  let pumping = false;
  /** resolves the pump's sleep when a waiter arrives */
  let wake: (() => void) | null = null;

  /**
   * Fixed pools: the exchange's windows a request sent at `t` (our clock) may land in, when the
   * two clocks differ by up to `guardMs` either way: one window, or two within `guardMs` of an
   * edge. The weight is booked in each, so no window on the exchange's clock can receive more than
   * the limit, whichever way the clocks are off (costs at most 2 × guard / window of the budget).
   */
  const candidates = (s: PoolState, t: number): number[] => {
    const a = Math.floor((t - s.guardMs) / s.pool.windowMs);
    const b = Math.floor((t + s.guardMs) / s.pool.windowMs);
    return a === b ? [a] : [a, b];
  };
  const usedIn = (s: PoolState, b: number) => s.windows.get(b) ?? 0;

  /**
   * Leaky pools: the level at `t`, replaying the bookings in arrival order (answered: their
   * answer's time; unanswered: now, or booking + PENDING_MS when no answer ever came). Bookings
   * answered more than two drain times ago are folded into the base level once and dropped.
   */
  const level = (s: PoolState, t: number): number => {
    const drain = s.pool.leaky!.drainPerSec / 1000;
    const arrival = (e: RollingEntry) =>
      pendingSince.has(e) ? Math.min(t, e.t + PENDING_MS) : e.t;
    const byArrival = s.log.map((e) => ({ e, a: arrival(e) })).sort((x, y) => x.a - y.a);
    const horizon = t - 2 * s.pool.windowMs;
    let L = s.baseLevel;
    let T = s.baseT;
    let folded = 0;
    for (const [i, { e, a }] of byArrival.entries()) {
      const at = Math.max(a, T);
      L = Math.max(0, L - drain * (at - T)) + e.w;
      T = at;
      // a prefix of old, answered bookings: their part of the level is final
      if (folded === i && a < horizon && !pendingSince.has(e)) {
        s.baseLevel = L;
        s.baseT = T;
        folded++;
      }
    }
    if (folded > 0) {
      const gone = new Set(byArrival.slice(0, folded).map((x) => x.e));
      s.log = s.log.filter((e) => !gone.has(e));
    }
    return Math.max(0, L - drain * (t - T));
  };
  const roll = (s: PoolState, t: number) => {
    if (s.pool.rolling) {
      const span = s.pool.windowMs + s.pool.rolling.marginMs;
      const live = s.log.filter((e) => e.t + span > t);
      if (live.length !== s.log.length) {
        s.log = live;
        s.used = live.reduce((n, e) => n + e.w, 0);
      }
      return;
    }
    const oldest = Math.floor((t - s.guardMs) / s.pool.windowMs);
    for (const b of s.windows.keys()) if (b < oldest) s.windows.delete(b);
  };

  /** ms until `cost` may be sent; 0 when it may go now. */
  function waitFor(cost: Cost): number {
    const t = clock.now();
    if (pausedUntil > t) return pausedUntil - t;
    let wait = 0;
    for (const [name, w] of Object.entries(cost)) {
      const s = pools.get(name);
      if (!s) continue;
      if (s.pool.leaky) {
        const over = level(s, t) + w - s.pool.limit;
        if (over > 0) {
          // it drains linearly; an unanswered booking does not drain until answered: look again
          const drained = Math.ceil((over / s.pool.leaky.drainPerSec) * 1000 - 1e-6); // float dust
          const pending = s.log.some((e) => pendingSince.has(e));
          wait = Math.max(wait, pending ? Math.min(drained, PENDING_POLL_MS) : drained);
        }
        continue;
      }
      roll(s, t);
      if (s.used + w > s.pool.limit && s.pool.rolling) {
        // the earliest-ending bookings that must expire before `w` fits; one still awaiting its
        // answer ends when the answer is observed, which the pump cannot await: it looks again
        const span = s.pool.windowMs + s.pool.rolling.marginMs;
        let free = s.pool.limit - s.used;
        for (const e of [...s.log].sort((a, b) => a.t - b.t)) {
          free += e.w;
          if (free >= w) {
            const pending = pendingSince.has(e);
            wait = Math.max(wait, pending ? PENDING_POLL_MS : e.t + span - t);
            break;
          }
        }
      } else if (!s.pool.rolling) {
        for (const b of candidates(s, t)) {
          // a full window stops mattering once no request can land in it any more
          if (usedIn(s, b) + w > s.pool.limit)
            wait = Math.max(wait, (b + 1) * s.pool.windowMs + s.guardMs - t);
        }
      }
    }
    return wait;
  }

  function checkCost(cost: Cost): void {
    for (const [name, w] of Object.entries(cost)) {
      const s = pools.get(name);
      if (!s) throw new RangeError(`limiter: unknown pool ${name}`);
      if (!Number.isFinite(w) || w < 0) throw new RangeError(`limiter: bad weight for ${name}`);
      if (w > s.pool.limit) throw new RangeError(`limiter: weight ${w} exceeds pool ${name}`);
    }
  }

  /** Books `cost` in every pool it names, now. */
  function book(cost: Cost): Ticket {
    const t = clock.now();
    const buckets: Record<string, number | null> = {};
    const rolling: Record<string, RollingEntry> = {};
    for (const [name, w] of Object.entries(cost)) {
      const s = pools.get(name);
      if (!s) continue;
      if (s.pool.leaky) {
        const e: RollingEntry = { t, w }; // booked now; `observe` sets its arrival
        s.log.push(e);
        pendingSince.add(e);
        rolling[name] = e;
        continue;
      }
      if (s.pool.rolling) {
        s.used += w;
        const e: RollingEntry = { t: t + PENDING_MS, w };
        s.log.push(e);
        pendingSince.add(e);
        rolling[name] = e;
        continue;
      }
      const cs = candidates(s, t);
      for (const b of cs) s.windows.set(b, usedIn(s, b) + w);
      buckets[name] = cs.length === 1 ? cs[0]! : null;
    }
    return { buckets, rolling };
  }

  /**
   * Grants waiters in queue order, FIFO per pool: a waiter goes when its cost fits and no earlier
   * waiter is still held on one of its pools (held: its weight does not fit there yet). So a heavy request is never starved by lighter ones
   * behind it on the same pool, and nothing waits behind a pool it does not use (a weight-1 key
   * check does not sit out a download stalled on a spent REQUEST_WEIGHT window).
   */
  async function pump(): Promise<void> {
    pumping = true;
    try {
      while (queue.length > 0) {
        const paused = pausedUntil - clock.now();
        let next = paused;
        if (paused <= 0) {
          next = Infinity;
          const held = new Set<string>();
          for (let i = 0; i < queue.length;) {
            const w = queue[i]!;
            const names = Object.keys(w.cost);
            const wait = names.some((n) => held.has(n)) ? -1 : waitFor(w.cost);
            if (wait === 0) {
              queue.splice(i, 1);
              w.resolve(book(w.cost));
              continue;
            }
            if (wait > 0) next = Math.min(next, wait);
            // it keeps its turn on the pools it waits for (and those already held)
            for (const n of names) if (held.has(n) || waitFor({ [n]: w.cost[n]! }) > 0) held.add(n);
            i++;
          }
          if (queue.length === 0) break;
        }
        // sleep until the first held pool frees, or until a new waiter arrives (it may go at once)
        const arrival = new AbortController();
        wake = () => arrival.abort();
        await clock.sleep(next, arrival.signal);
        wake = null;
      }
    } finally {
      pumping = false;
    }
  }

  const header = (headers: Readonly<Record<string, unknown>>, name: string): string | undefined => {
    const want = name.toLowerCase();
    for (const [k, v] of Object.entries(headers)) {
      if (k.toLowerCase() === want) return typeof v === 'string' ? v : undefined;
    }
    return undefined;
  };

  return {
    clock,
    acquire(cost) {
      checkCost(cost);
      return new Promise<Ticket>((resolve, reject) => {
        queue.push({ cost, resolve, reject });
        wake?.();
        if (!pumping)
          void pump().catch((e: unknown) => queue.splice(0).forEach((w) => w.reject(e)));
      });
    },
    observe(ticket, res) {
      const t = clock.now();
      // the exchange has counted these by now: they count for a window from here on
      for (const e of Object.values(ticket?.rolling ?? {})) {
        if (pendingSince.has(e)) {
          pendingSince.delete(e);
          e.t = t;
        }
      }
      for (const s of pools.values()) {
        roll(s, t);
        const h = s.pool.header === undefined ? undefined : header(res.headers, s.pool.header);
        const b = ticket?.buckets[s.pool.name];
        // the server's count is for the window the request landed in: known only when it was
        // booked in one window (not near an edge); a lower count never lowers ours, since
        // requests of ours may still be in flight
        if (!s.pool.rolling && h !== undefined && /^\d{1,9}$/.test(h) && typeof b === 'number')
          s.windows.set(b, Math.max(usedIn(s, b), Number(h)));
      }
      if (res.status === 429 || res.status === 418) {
        const ra = header(res.headers, 'Retry-After');
        let pause: number;
        if (ra !== undefined && /^\d{1,9}$/.test(ra.trim())) pause = Number(ra.trim()) * 1000;
        else if (ra !== undefined && Number.isFinite(Date.parse(ra))) pause = Date.parse(ra) - t;
        else {
          // no Retry-After: wait out the longest window, never retry at once
          const longest = Math.max(...[...pools.values()].map((s) => s.pool.windowMs));
          pause = o.defaultPauseMs ?? longest + 1000;
        }
        pause = Math.min(Math.max(pause, 1000), MAX_PAUSE_MS);
        // Retry-After is the server's word on when its window reopens; our own window may be
        // longer than the server's, so the pools are not marked spent on top of it
        pausedUntil = Math.max(pausedUntil, t + pause);
      }
    },
    pausedForMs: () => Math.max(0, pausedUntil - clock.now()),
    backoffMs(n) {
      const ceiling = Math.min(cap, base * 2 ** Math.max(0, n - 1));
      return Math.floor(random() * ceiling); // "full jitter": spreads retries of many sessions
    },
    usage() {
      const t = clock.now();
      const out: Record<string, number> = {};
      for (const [name, s] of pools) {
        roll(s, t);
        out[name] = s.pool.leaky
          ? level(s, t)
          : s.pool.rolling
            ? s.used
            : usedIn(s, Math.floor(t / s.pool.windowMs));
      }
      return out;
    },
  };
}

/**
 * The process's limiters, one per (venue, egress). The enclave holds one registry and hands it to
 * every adapter it builds, so all sessions against one exchange from one egress IP share a limiter.
 */
export class LimiterRegistry {
  private readonly limiters = new Map<string, RateLimiter>();
  constructor(private readonly defaults: Omit<LimiterOptions, 'pools'> = {}) {}

  /** The limiter of `venue` behind `egress`; `pools` is used only when it is created. */
  get(venue: string, egress: string, pools: readonly WeightPool[]): RateLimiter {
    const key = `${venue}\u0000${egress}`;
    let l = this.limiters.get(key);
    if (!l) {
      l = createRateLimiter({ ...this.defaults, pools });
      this.limiters.set(key, l);
    }
    return l;
  }
}

/** How a failed attempt is to be treated by `withRetries`. */
export type FailureKind =
  /** 429/418: the limiter has paused the venue; retry once the pause is over */
  | 'rate-limited'
  /** 5xx, timeout, network error: retry after a jittered backoff */
  | 'transient'
  /** anything else (auth failures first of all): never retried */
  | 'fatal';

export interface RetryOptions {
  /** retries of transient failures (default 4) */
  maxRetries?: number;
  /** total time spent waiting out failures (pauses + backoffs) per call, ms (default 180 000) */
  budgetMs?: number;
  /** longest single pause we wait for, ms (default 65 000); longer → EXCHANGE_RATE_LIMITED */
  maxPauseMs?: number;
}

/**
 * Runs `attempt` until it succeeds or fails for good. `attempt` must acquire from `limiter` and
 * `observe` its response, so a 429 has already paused the venue when it is classified here.
 * Errors classified 'fatal' propagate unchanged; exhaustion becomes an ExchangeError.
 */
export async function withRetries<T>(
  limiter: RateLimiter,
  attempt: () => Promise<T>,
  classify: (e: unknown) => FailureKind,
  o: RetryOptions = {},
): Promise<T> {
  const maxRetries = o.maxRetries ?? 4;
  const budget = o.budgetMs ?? 180_000;
  const maxPause = o.maxPauseMs ?? 65_000;
  let waited = 0;
  let transient = 0;
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      const kind = classify(e);
      if (kind === 'fatal') throw e;
      if (kind === 'rate-limited') {
        const pause = limiter.pausedForMs();
        if (pause > maxPause || waited + pause > budget)
          throw new ExchangeError(
            'EXCHANGE_RATE_LIMITED',
            'exchange rate limit outlasts the wait budget',
          );
        waited += pause; // acquire() itself waits the pause out, for every session at once
        continue;
      }
      const backoff = limiter.backoffMs(++transient);
      if (transient > maxRetries || waited + backoff > budget)
        throw new ExchangeError(
          'EXCHANGE_UNAVAILABLE',
          `exchange unavailable after ${transient - 1} retries`,
        );
      waited += backoff;
      await limiter.clock.sleep(backoff);
    }
  }
}
