/**
 * The one way the Binance adapters (spot, USD-M) reach the exchange through ccxt: ccxt signs and
 * builds requests; weight is booked with the shared limiter (./limiter.ts) before signing; the
 * egress allow-list is checked on the final URL; responses are classified by our rules, not
 * ccxt's (ccxt ignores Retry-After and re-labels -2015 after a first success as DDoSProtection,
 * research/exchanges.md §2.4); retries run within a total budget, auth failures never.
 */
import type { binance as BinanceExchange } from 'ccxt';
import { isRecord } from './binance-common.js';
import {
  withRetries,
  type Cost,
  type FailureKind,
  type RateLimiter,
  type RetryOptions,
  type Ticket,
} from './limiter.js';
import { assertEgress, baseOrigin } from './egress.js';
import { ExchangeError } from './types.js';

/** A ccxt Binance instance (binanceusdm extends binance). */
export type Binance = InstanceType<typeof BinanceExchange>;

const classes = new Map<string, Promise<typeof BinanceExchange>>();
/**
 * `import 'ccxt'` loads every exchange (~0.5 s, ~80 MB; research §1) and the package exports only
 * '.', so import the one class by file path, beside the resolved entry (js/ccxt.js → js/src/).
 */
export function loadCcxtClass(name: 'binance' | 'binanceusdm'): Promise<typeof BinanceExchange> {
  let c = classes.get(name);
  if (!c) {
    c = import(new URL(`./src/${name}.js`, import.meta.resolve('ccxt')).href).then(
      (m: { default: typeof BinanceExchange }) => m.default,
    );
    classes.set(name, c);
  }
  return c;
}

// Internal signals raised inside ccxt's request path and consumed by the returned `call()`.
class RateLimited extends Error {}
class Transient extends Error {}
class ClockSkew extends Error {}

const AUTH_CODES = new Set([-2014, -2015, -1022]);
const TRANSIENT_CODES = new Set([-1000, -1001, -1007]); // UNKNOWN, DISCONNECTED, TIMEOUT

export interface TransportOptions {
  /** `host[:port]` allowed as egress */
  allowed: Set<string>;
  limiter: RateLimiter;
  /** weight of a request by URL path and parameter names */
  cost: (path: string, params: URLSearchParams) => Cost;
  retry: RetryOptions;
}

/** Runs one exchange call; every failure leaves as an ExchangeError. */
export type Call = <T>(fn: () => Promise<T>) => Promise<T>;

/** Instruments `ex` (fetch2, fetch, handleErrors) and returns its `call`. */
export function attachTransport(ex: Binance, o: TransportOptions): Call {
  const { allowed, limiter, retry } = o;
  // The request's weight is booked with the shared limiter BEFORE ccxt signs it: a wait in the
  // queue must not age the signed timestamp past recvWindow. ccxt's fetch2 signs and calls fetch
  // with no await in between, so the ticket is handed over through `nextTicket`, and on to
  // handleErrors by URL (signed URLs carry timestamp and signature, so they do not collide).
  const tickets = new Map<string, Ticket>();
  let nextTicket: Ticket | undefined;
  const ccxtFetch2 = ex.fetch2.bind(ex);
  ex.fetch2 = async (path: string, api: unknown = 'public', ...rest: unknown[]) => {
    const ticket = await limiter.acquire(requestCost(ex, o, api, path, rest[1]));
    nextTicket = ticket;
    return (ccxtFetch2 as (...a: unknown[]) => Promise<unknown>)(path, api, ...rest);
  };
  // Egress allow-list: checked on the final URL before ccxt opens a socket.
  const ccxtFetch = ex.fetch.bind(ex);
  ex.fetch = async (url: string, method?: string, headers?: unknown, body?: unknown) => {
    const ticket = nextTicket;
    nextTicket = undefined;
    assertEgress(url, allowed);
    if (ticket) tickets.set(url, ticket);
    try {
      return await ccxtFetch(url, method, headers, body);
    } catch (e) {
      if (
        e instanceof ExchangeError ||
        e instanceof RateLimited ||
        e instanceof Transient ||
        e instanceof ClockSkew
      )
        throw e;
      throw new Transient(e instanceof Error ? e.name : 'fetch failed'); // network error or timeout
    } finally {
      tickets.delete(url);
    }
  };
  // Our own classification from status and Binance code, replacing ccxt's: ccxt ignores
  // Retry-After and re-labels -2015 after a first success as DDoSProtection (research §2.4).
  ex.handleErrors = (
    status: number,
    _r: string,
    url: string,
    _m: string,
    headers: Record<string, unknown>,
    _b: string,
    response: unknown,
  ) => {
    limiter.observe(tickets.get(url), { status, headers });
    const raw = isRecord(response) ? response['code'] : undefined;
    const code =
      typeof raw === 'number'
        ? raw
        : typeof raw === 'string' && /^-?\d+$/.test(raw)
          ? Number(raw)
          : undefined;
    if (status === 429 || status === 418) throw new RateLimited();
    if (status === 401 || (code !== undefined && AUTH_CODES.has(code))) {
      throw new ExchangeError('EXCHANGE_AUTH_FAILED', 'exchange rejected the API key or signature');
    }
    if (code === -1021) throw new ClockSkew();
    if (status >= 500 || (code !== undefined && TRANSIENT_CODES.has(code)))
      throw new Transient(`HTTP ${status}`);
    if (status >= 300 || (code !== undefined && code < 0)) {
      throw new ExchangeError(
        'EXCHANGE_UNAVAILABLE',
        `exchange rejected the request (HTTP ${status}, code ${code ?? 'none'})`,
      );
    }
    return undefined;
  };

  const classify = (e: unknown): FailureKind =>
    e instanceof RateLimited ? 'rate-limited' : e instanceof Transient ? 'transient' : 'fatal';

  return async function call<T>(fn: () => Promise<T>): Promise<T> {
    let resynced = false;
    try {
      return await withRetries(
        limiter,
        async () => {
          try {
            return await fn();
          } catch (e) {
            if (!(e instanceof ClockSkew) || resynced) throw e;
            resynced = true;
            await ex.loadTimeDifference(); // ccxt's nonce() then follows server time
            return await fn();
          }
        },
        classify,
        retry,
      );
    } catch (e) {
      if (e instanceof ExchangeError) throw e;
      if (e instanceof ClockSkew)
        throw new ExchangeError('EXCHANGE_UNAVAILABLE', 'exchange clock disagrees with ours');
      throw new ExchangeError(
        'EXCHANGE_UNAVAILABLE',
        `exchange call failed (${e instanceof Error ? e.name : 'unknown'})`,
      );
    }
  };
}

/** The limiter cost of a ccxt call (`api` names a `urls.api` base, `path` is relative to it). */
function requestCost(
  ex: Binance,
  o: TransportOptions,
  api: unknown,
  path: string,
  params: unknown,
): Cost {
  const base =
    typeof api === 'string' ? (ex.urls['api'] as Record<string, unknown>)[api] : undefined;
  let prefix = '';
  if (typeof base === 'string') {
    try {
      prefix = new URL(base).pathname;
    } catch {
      prefix = '';
    }
  }
  const q = new URLSearchParams();
  if (isRecord(params)) for (const k of Object.keys(params)) q.set(k, '');
  return o.cost(`${prefix}/${path}`, q);
}

/** Points every `urls.api` entry at `baseUrl`'s origin, keeping each path (research §2.1). */
export function redirect(ex: Binance, baseUrl: string): void {
  const origin = baseOrigin(baseUrl);
  const api = ex.urls['api'] as Record<string, unknown>;
  for (const [k, v] of Object.entries(api)) {
    if (typeof v === 'string') api[k] = origin + new URL(v).pathname;
  }
}

/** The origin of a base URL; redirect() rejects a bad one with a coded error later. */
export function safeOrigin(baseUrl: string): string {
  try {
    return new URL(baseUrl).origin;
  } catch {
    return baseUrl;
  }
}
