/**
 * The one request path of the Bybit, OKX and Kraken adapters: egress allow-list, per-request
 * timeout, bounded retries with jittered exponential backoff, rate-limit waits within a budget,
 * and the exchange's own verdict on each answer (supplied by the adapter as `classify`).
 *
 * ccxt only builds and signs the request (`build`, called again for every attempt so timestamps
 * and nonces are fresh); it never sends it. ccxt's own send path retries a 429 without waiting
 * and ignores Retry-After (research/exchanges.md §2.4), so we do not use it.
 *
 * Rate limiting is the shared limiter's (./limiter.ts): before every attempt the request's cost
 * is booked with each limiter it draws on (the venue's IP budget, shared by every session, and
 * the account's own per-endpoint budgets), and every answer is fed back to them, so a 429 pauses
 * every session of the venue at once.
 */
import { createHash } from 'node:crypto';
import type { Cost, LimiterRegistry, RateLimiter, Ticket, WeightPool } from './limiter.js';
import { assertEgress } from './egress.js';
import { ExchangeError } from './types.js';

/**
 * What every signed-HTTP adapter (Bybit, OKX, Kraken, Coinbase) is built with; each adds its own
 * fields (OKX's passphrase, Kraken's counter tier, …).
 */
export interface SignedClientOptions {
  apiKey: string;
  /** the exchange's secret as it issues it (hex, base64 or a PEM, per exchange) */
  apiSecret: string;
  /** origin to use instead of the exchange's own (e.g. the simulator); paths are kept */
  baseUrl?: string;
  /** `host[:port]` as it appears in a URL; anything else is refused before it is sent */
  allowHosts: string[];
  /** per-request timeout, ms (default 10 000) */
  timeoutMs?: number;
  /** retries on 5xx, network errors and timeouts (default 4) */
  maxRetries?: number;
  /** longest single Retry-After we wait for, ms (default 65 000) */
  maxRetryAfterMs?: number;
  /** total failure waiting (429 pauses + backoffs) allowed per request, ms (default 180 000) */
  rateLimitBudgetMs?: number;
  /**
   * The enclave's limiters: every client of one venue and egress shares the IP budget, every
   * client of one key its per-key budgets. Without one the client gets a registry of its own.
   */
  limiters?: LimiterRegistry;
  /** the egress (IP or proxy) requests leave through; part of the limiter key (default 'default') */
  egress?: string;
}

export interface SignedRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

/** What the adapter makes of one HTTP answer. */
export type Verdict =
  | { kind: 'ok'; data: unknown }
  /** wait `retryAfterMs` (or the rest of a minute) and try again, within the budget */
  | { kind: 'rateLimited'; retryAfterMs?: number }
  /** 5xx, a busy or timed-out exchange: retried with backoff */
  | { kind: 'transient'; why: string }
  /** key or signature rejected: never retried */
  | { kind: 'auth' }
  /** timestamp outside the exchange's window: resync the clock once, then retry */
  | { kind: 'clockSkew' }
  /** anything else the exchange refused: not retried */
  | { kind: 'rejected'; why: string };

/** One limiter a request draws on, and what a request to `endpoint` costs in its pools. */
export interface LimiterUse {
  limiter: RateLimiter;
  cost(endpoint: string): Cost;
}

/**
 * What an answer tells the limiters. Exchanges that signal a rate limit inside an HTTP 200
 * (Bybit retCode 10006) are reported as 429, so the limiter pauses the venue; `headers` may be
 * rewritten by the adapter (e.g. a "remaining" count turned into "used").
 */
export type Observe = (
  endpoint: string,
  status: number,
  headers: Headers,
  verdict: Verdict,
) => { status: number; headers: Record<string, string> };

export interface RunnerOptions {
  /** `host[:port]` as it appears in a URL (default port omitted); anything else is refused */
  allowHosts: string[];
  classify(status: number, headers: Headers, body: unknown): Verdict;
  /** the limiters every request books with, in this order */
  limiters: readonly LimiterUse[];
  /** maps an answer to what the limiters observe (default: status and headers as they are) */
  observe?: Observe;
  /** re-reads the exchange's clock after a clockSkew verdict */
  resync?: () => Promise<void>;
  /** per-request timeout, ms (default 10 000) */
  timeoutMs?: number;
  /** retries on 5xx, network errors and timeouts (default 4) */
  maxRetries?: number;
  /** longest single rate-limit pause, ms (default 65 000); longer → EXCHANGE_RATE_LIMITED */
  maxRetryAfterMs?: number;
  /** total failure waiting (pauses and backoffs) per operation, ms (default 180 000) */
  rateLimitBudgetMs?: number;
  /**
   * File downloads (OKX's fills archive): the body is handed to `classify` as bytes, not parsed as
   * JSON, and refused above `maxBytes`.
   */
  binary?: { maxBytes: number };
}

/** Waiting already spent by one operation (a whole download shares one). */
export interface Budget {
  rateWaitMs: number;
}

export type Send = (
  endpoint: string,
  build: () => SignedRequest,
  budget: Budget,
) => Promise<unknown>;

const MAX_BODY = 16 * 1024 * 1024;
/**
 * @example
 * const send = createSender({ allowHosts: ['api.bybit.com'], classify, limiters });
 * const data = await send('/v5/execution/list', () => signed('v5/execution/list', q), budget);
 */
export function createSender(o: RunnerOptions): Send {
  const allowed = new Set(o.allowHosts.map((h) => h.toLowerCase()));
  const timeoutMs = o.timeoutMs ?? 10_000;
  const maxRetries = o.maxRetries ?? 4;
  const maxRetryAfterMs = o.maxRetryAfterMs ?? 65_000;
  const rateLimitBudgetMs = o.rateLimitBudgetMs ?? 180_000;

  const observe: Observe =
    o.observe ??
    ((_e, status, headers) => ({ status, headers: Object.fromEntries(headers.entries()) }));

  /** Tells every limiter what the answer said (used weight, Retry-After…); returns the verdict. */
  const booked = (
    endpoint: string,
    res: Response,
    tickets: (Ticket | undefined)[],
    v: Verdict,
  ): Verdict => {
    const seen = observe(endpoint, res.status, res.headers, v);
    o.limiters.forEach((l, i) => l.limiter.observe(tickets[i], seen));
    return v;
  };

  const send = (req: SignedRequest): Promise<Response> =>
    fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: 'error', // a redirect could leave the allow-list
      signal: AbortSignal.timeout(timeoutMs),
    });

  async function once(
    endpoint: string,
    req: SignedRequest,
    tickets: (Ticket | undefined)[],
  ): Promise<Verdict> {
    assertEgress(req.url, allowed);
    let res: Response;
    let text: string;
    if (o.binary) return onceBinary(endpoint, req, tickets, o.binary.maxBytes);
    try {
      res = await send(req);
      text = await res.text();
    } catch (e) {
      return { kind: 'transient', why: e instanceof Error ? e.name : 'fetch failed' };
    }
    let body: unknown;
    try {
      body = text === '' || text.length > MAX_BODY ? undefined : JSON.parse(text);
    } catch {
      // an HTML error page from a proxy or CDN: the status decides
      body = undefined;
    }
    const v =
      text.length > MAX_BODY
        ? ({ kind: 'transient', why: 'answer too large' } as const)
        : o.classify(res.status, res.headers, body);
    return booked(endpoint, res, tickets, v);
  }

  async function onceBinary(
    endpoint: string,
    req: SignedRequest,
    tickets: (Ticket | undefined)[],
    maxBytes: number,
  ): Promise<Verdict> {
    let res: Response;
    let bytes: Uint8Array;
    try {
      res = await send(req);
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > maxBytes) {
        await res.body?.cancel();
        return { kind: 'rejected', why: 'file too large' };
      }
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      return { kind: 'transient', why: e instanceof Error ? e.name : 'fetch failed' };
    }
    const v =
      bytes.length > maxBytes
        ? ({ kind: 'rejected', why: 'file too large' } as const)
        : o.classify(res.status, res.headers, bytes);
    return booked(endpoint, res, tickets, v);
  }

  const pausedForMs = () => Math.max(0, ...o.limiters.map((l) => l.limiter.pausedForMs()));
  const clock = o.limiters[0]?.limiter.clock;

  return async (endpoint, build, budget) => {
    let failures = 0;
    let resynced = false;
    for (;;) {
      // book with every limiter before signing: a wait in the queue must not age the timestamp
      const tickets: Ticket[] = [];
      for (const l of o.limiters) tickets.push(await l.limiter.acquire(l.cost(endpoint)));
      const v = await once(endpoint, build(), tickets);
      switch (v.kind) {
        case 'ok':
          return v.data;
        case 'auth':
          throw new ExchangeError(
            'EXCHANGE_AUTH_FAILED',
            'exchange rejected the API key or signature',
          );
        case 'rejected':
          throw new ExchangeError(
            'EXCHANGE_UNAVAILABLE',
            `exchange rejected the request: ${v.why}`,
          );
        case 'rateLimited': {
          // the limiters now hold every session of the venue until the pause is over; the next
          // acquire() waits it out, so only the budget is checked here
          const pause = Math.max(pausedForMs(), 1);
          if (pause > maxRetryAfterMs || budget.rateWaitMs + pause > rateLimitBudgetMs) {
            throw new ExchangeError(
              'EXCHANGE_RATE_LIMITED',
              'exchange rate limit outlasts the wait budget',
            );
          }
          budget.rateWaitMs += pause;
          continue;
        }
        case 'clockSkew':
          if (resynced || o.resync === undefined)
            throw new ExchangeError('EXCHANGE_UNAVAILABLE', 'exchange clock disagrees with ours');
          resynced = true;
          await o.resync();
          continue;
        case 'transient': {
          const backoff = o.limiters[0]?.limiter.backoffMs(failures + 1) ?? 0;
          if (++failures > maxRetries || budget.rateWaitMs + backoff > rateLimitBudgetMs) {
            throw new ExchangeError(
              'EXCHANGE_UNAVAILABLE',
              `exchange unavailable after ${failures - 1} retries (${v.why})`,
            );
          }
          budget.rateWaitMs += backoff;
          if (clock) await clock.sleep(backoff); // exponential, with full jitter
        }
      }
    }
  };
}

/** Retry-After in seconds (RFC 9110 §10.2.3, delay-seconds form only). */
export function retryAfterMs(v: string | null): number | undefined {
  return v !== null && /^\d{1,6}$/.test(v.trim()) ? Number(v.trim()) * 1000 : undefined;
}

/**
 * Imports one ccxt exchange class by file path: `import 'ccxt'` loads every exchange (~0.5 s,
 * ~80 MB; research §1) and the package exports only '.', so resolve the entry (js/ccxt.js) and
 * load js/src/<name>.js beside it.
 */
export function loadCcxtClass<T>(name: 'bybit' | 'okx' | 'kraken'): Promise<T> {
  return import(new URL(`./src/${name}.js`, import.meta.resolve('ccxt')).href).then(
    (m: { default: T }) => m.default,
  );
}

/**
 * Slack on rolling windows: the limiter counts a request until a window after its answer came
 * back (./limiter.ts), so latency needs no allowance; this covers timer granularity only.
 */
export const ROLLING_MARGIN_MS = 25;

/**
 * A rolling-window limit ("n requests in any windowMs") as a rolling pool of the limiter: n
 * requests, each counted from booking until windowMs + ROLLING_MARGIN_MS after its answer, so the
 * exchange's own window never holds more than n. (It was n − 2 requests, one per fixed slice of
 * windowMs / (n − 2): 80 % of OKX's 10 per 2 s.)
 */
export function rollingPool(name: string, n: number, windowMs: number): WeightPool {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new RangeError(`rollingPool: n must be ≥ 1 (${name})`);
  return { name, limit: n, windowMs, rolling: { marginMs: ROLLING_MARGIN_MS } };
}

/** A stable, non-secret id of an API key for per-account limiter keys (never the key itself). */
export function keyId(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
}
