/**
 * Binance spot adapter: complete trade history via GET /api/v3/myTrades, per symbol; external
 * flows (./binance-flows.ts), current balances, and candles (./binance-klines.ts).
 *
 * ccxt is used only to sign requests and to parse exchangeInfo into markets. Paging, retries,
 * rate-limit handling and error classification are ours, because ccxt's `paginate` loses
 * same-millisecond fills and turns one 429 into a 418 ban (research/exchanges.md §2.4).
 * Responses come from the network: every field is checked before it is trusted.
 */
import type { binance as BinanceExchange } from 'ccxt';
import {
  ASSET,
  isRecord,
  malformed,
  type BinanceEndpoint,
  type BinanceGet,
} from './binance-common.js';
import { fetchBinanceFlows } from './binance-flows.js';
import { fetchBinanceKlines } from './binance-klines.js';
import { UDEC, addDecimals, isPositive } from './decimal.js';
import {
  ExchangeError,
  type ExchangeClient,
  type FetchFillsOptions,
  type NormalizedFill,
} from './types.js';

export interface BinanceClientOptions {
  apiKey: string;
  apiSecret: string;
  /** origin to use instead of api.binance.com & co (e.g. the simulator); paths are kept */
  baseUrl?: string;
  /** `host[:port]` as it appears in a URL (default port omitted); anything else is refused */
  allowHosts: string[];
  /** per-request timeout, ms (default 10 000) */
  timeoutMs?: number;
  /** retries on 5xx, network errors and timeouts (default 4) */
  maxRetries?: number;
  /** longest single Retry-After we wait for, ms (default 65 000); longer → EXCHANGE_RATE_LIMITED */
  maxRetryAfterMs?: number;
  /** total 429/418 waiting allowed per operation, ms (default 180 000) */
  rateLimitBudgetMs?: number;
}

type Binance = InstanceType<typeof BinanceExchange>;
type Budget = { rateWaitMs: number };

let binanceClass: Promise<typeof BinanceExchange> | undefined;
/**
 * `import 'ccxt'` loads every exchange (~0.5 s, ~80 MB; research §1) and the package exports only
 * '.', so import the one class by file path, beside the resolved entry (js/ccxt.js → js/src/).
 */
function loadBinanceClass(): Promise<typeof BinanceExchange> {
  binanceClass ??= import(new URL('./src/binance.js', import.meta.resolve('ccxt')).href).then(
    (m: { default: typeof BinanceExchange }) => m.default,
  );
  return binanceClass;
}

// Internal signals raised inside ccxt's request path and consumed by `call()`.
class RateLimited extends Error {
  constructor(readonly retryAfterMs: number | undefined) {
    super('rate limited');
  }
}
class Transient extends Error {}
class ClockSkew extends Error {}

const AUTH_CODES = new Set([-2014, -2015, -1022]);
const TRANSIENT_CODES = new Set([-1000, -1001, -1007]); // UNKNOWN, DISCONNECTED, TIMEOUT
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** ccxt's implicit method per endpoint: ccxt signs /sapi calls and throttles each by its cost. */
const IMPLICIT = {
  klines: 'publicGetKlines',
  depositHistory: 'sapiGetCapitalDepositHisrec',
  withdrawHistory: 'sapiGetCapitalWithdrawHistory',
} as const satisfies Record<BinanceEndpoint, string>;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * @example
 * const c = await createBinanceClient({ apiKey, apiSecret, allowHosts: ['api.binance.com'] });
 * const fills = await c.fetchFills({ since: Date.parse('2026-01-01') });
 */
export async function createBinanceClient(opts: BinanceClientOptions): Promise<ExchangeClient> {
  if (
    typeof opts.apiKey !== 'string' ||
    opts.apiKey === '' ||
    typeof opts.apiSecret !== 'string' ||
    opts.apiSecret === ''
  ) {
    throw new ExchangeError('EXCHANGE_AUTH_FAILED', 'API key and secret are required');
  }
  const allowed = new Set(opts.allowHosts.map((h) => h.toLowerCase()));
  const maxRetries = opts.maxRetries ?? 4;
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 65_000;
  const rateLimitBudgetMs = opts.rateLimitBudgetMs ?? 180_000;

  const Binance = await loadBinanceClass();
  const ex: Binance = new Binance({
    apiKey: opts.apiKey,
    secret: opts.apiSecret,
    enableRateLimit: true,
    // ccxt's 50 ms × cost 4 spaces myTrades at ~5,936 weight/min, at Binance's 6,000/IP limit
    // (research §2.4); 60 ms leaves ~17 % for everything else behind the same egress IP
    rateLimit: 60,
    timeout: opts.timeoutMs ?? 10_000,
    options: {
      // each of these would otherwise make loadMarkets call sapi/dapi endpoints (research §2.1)
      fetchCurrencies: false,
      fetchMargins: false,
      fetchMarkets: { types: ['spot'] },
    },
  });
  if (opts.baseUrl !== undefined) redirect(ex, opts.baseUrl);

  // Egress allow-list: checked on the final URL before ccxt opens a socket.
  const ccxtFetch = ex.fetch.bind(ex);
  ex.fetch = async (url: string, method?: string, headers?: unknown, body?: unknown) => {
    assertEgress(url, allowed);
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
    }
  };
  // Our own classification from status and Binance code, replacing ccxt's: ccxt ignores
  // Retry-After and re-labels -2015 after a first success as DDoSProtection (research §2.4).
  ex.handleErrors = (
    status: number,
    _r: string,
    _u: string,
    _m: string,
    headers: Record<string, unknown>,
    _b: string,
    response: unknown,
  ) => {
    const raw = isRecord(response) ? response['code'] : undefined;
    const code =
      typeof raw === 'number'
        ? raw
        : typeof raw === 'string' && /^-?\d+$/.test(raw)
          ? Number(raw)
          : undefined;
    if (status === 429 || status === 418)
      throw new RateLimited(retryAfterMs(headers['Retry-After']));
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

  /** Runs one exchange call with bounded retries; every failure leaves as an ExchangeError. */
  async function call<T>(fn: () => Promise<T>, budget: Budget): Promise<T> {
    let failures = 0;
    let resynced = false;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof ExchangeError) throw e;
        if (e instanceof RateLimited) {
          // no Retry-After: assume the rest of the minute, never retry at once
          const wait = e.retryAfterMs ?? 60_000;
          if (wait > maxRetryAfterMs || budget.rateWaitMs + wait > rateLimitBudgetMs) {
            throw new ExchangeError(
              'EXCHANGE_RATE_LIMITED',
              'exchange rate limit outlasts the wait budget',
            );
          }
          const jittered = wait + 100 + Math.floor(Math.random() * 400); // land past the window
          budget.rateWaitMs += jittered;
          await sleep(jittered);
          continue;
        }
        if (e instanceof ClockSkew) {
          if (resynced)
            throw new ExchangeError('EXCHANGE_UNAVAILABLE', 'exchange clock disagrees with ours');
          resynced = true;
          await call(() => ex.loadTimeDifference(), budget); // ccxt's nonce() then follows server time
          continue;
        }
        if (!(e instanceof Transient)) {
          throw new ExchangeError(
            'EXCHANGE_UNAVAILABLE',
            `exchange call failed (${e instanceof Error ? e.name : 'unknown'})`,
          );
        }
        if (++failures > maxRetries) {
          throw new ExchangeError(
            'EXCHANGE_UNAVAILABLE',
            `exchange unavailable after ${maxRetries} retries (${e.message})`,
          );
        }
        const backoff = Math.min(8_000, 250 * 2 ** (failures - 1));
        await sleep(backoff / 2 + Math.random() * (backoff / 2)); // exponential, with jitter
      }
    }
  }

  async function account(budget: Budget): Promise<Record<string, unknown>> {
    const r: unknown = await call(() => ex.privateGetAccount({ omitZeroBalances: 'true' }), budget);
    if (!isRecord(r)) throw malformed('account');
    return r;
  }

  async function fetchFills(o: FetchFillsOptions = {}): Promise<NormalizedFill[]> {
    const budget: Budget = { rateWaitMs: 0 };
    await call(() => ex.loadMarkets(true), budget); // reload: ccxt memoises a failed load
    const markets = Object.values(ex.markets ?? {}).filter(
      (m) => m !== undefined && m.spot === true,
    );

    // Scan order only: symbols touching an asset we still hold go first. The scan still covers
    // every listed symbol (TRADING and BREAK), because an asset bought and fully sold leaves no
    // balance trace, and Binance has no "symbols I traded" endpoint (research §4).
    const acct = await account(budget);
    const held = new Set<string>();
    for (const b of Array.isArray(acct['balances']) ? acct['balances'] : []) {
      if (
        isRecord(b) &&
        typeof b['asset'] === 'string' &&
        [b['free'], b['locked']].some((v) => typeof v === 'string' && /[1-9]/.test(v))
      ) {
        held.add(b['asset']);
      }
    }
    const score = (m: (typeof markets)[number]) =>
      (held.has(m.baseId) ? 2 : 0) + (held.has(m.quoteId) ? 1 : 0);
    markets.sort((a, b) => score(b) - score(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

    const out: NormalizedFill[] = [];
    for (const m of markets) {
      // fromId cursor, never time: ids are per symbol and dense in time, so same-millisecond
      // fills cannot straddle a page edge unseen. Stop only on an EMPTY page: short pages occur
      // mid-history (research §2.4, python-binance#981).
      const seen = new Set<string>();
      let fromId = 0n;
      let pages = 0;
      for (;;) {
        const rows: unknown = await call(
          () => ex.privateGetMyTrades({ symbol: m.id, fromId: fromId.toString(), limit: 1000 }),
          budget,
        );
        if (!Array.isArray(rows)) throw malformed('myTrades');
        pages++;
        if (rows.length === 0) {
          o.onProgress?.({ symbol: m.symbol, pages, fills: seen.size });
          break;
        }
        let max = -1n;
        for (const r of rows) {
          const f = toFill(ex, m, r);
          const id = BigInt(f.id);
          if (id < fromId) throw malformed('trade id before fromId'); // would loop forever
          if (id > max) max = id;
          if (seen.has(f.id)) continue;
          seen.add(f.id);
          if (
            (o.since === undefined || f.ts >= o.since) &&
            (o.until === undefined || f.ts <= o.until)
          )
            out.push(f);
        }
        fromId = max + 1n;
        o.onProgress?.({ symbol: m.symbol, pages, fills: seen.size });
      }
    }
    return out.sort(
      (a, b) =>
        a.ts - b.ts ||
        (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0) ||
        cmpId(a.id, b.id),
    );
  }

  /** GETs for the flow and candle modules, sharing one operation's rate-limit wait budget. */
  const getter =
    (budget: Budget): BinanceGet =>
    (endpoint, params) =>
      call(() => ex[IMPLICIT[endpoint]](params) as Promise<unknown>, budget);
  const code = (id: string) => ex.safeCurrencyCode(id) ?? id;

  // The listed spot symbols, loaded once for klines(); a failed load is retried next time.
  let listed: Promise<Set<string>> | undefined;
  function listedSymbols(budget: Budget): Promise<Set<string>> {
    listed ??= call(() => ex.loadMarkets(true), budget).then(
      () => new Set(Object.values(ex.markets ?? {}).flatMap((m) => (m?.spot ? [m.id] : []))),
    );
    listed.catch(() => (listed = undefined));
    return listed;
  }

  return {
    venue: `binance|${opts.baseUrl === undefined ? 'https://api.binance.com' : new URL(opts.baseUrl).origin}`,
    async accountId() {
      const uid = (await account({ rateWaitMs: 0 }))['uid'];
      if (uid === undefined || uid === null) return null;
      if (
        (typeof uid === 'number' && Number.isSafeInteger(uid)) ||
        (typeof uid === 'string' && /^\d{1,20}$/.test(uid))
      )
        return String(uid);
      throw malformed('uid');
    },
    async permissions() {
      const a = await account({ rateWaitMs: 0 });
      if (typeof a['canTrade'] !== 'boolean' || typeof a['canWithdraw'] !== 'boolean')
        throw malformed('permissions');
      return { canTrade: a['canTrade'], canWithdraw: a['canWithdraw'] };
    },
    fetchFills,
    fetchFlows: (o) => fetchBinanceFlows(getter({ rateWaitMs: 0 }), code, o),
    async balances() {
      const totals = new Map<string, string>();
      const rows = (await account({ rateWaitMs: 0 }))['balances'];
      if (!Array.isArray(rows)) throw malformed('balances');
      for (const b of rows) {
        if (!isRecord(b)) throw malformed('balance row');
        const { asset, free, locked } = b;
        if (typeof asset !== 'string' || !ASSET.test(asset)) throw malformed('balance asset');
        if (
          typeof free !== 'string' ||
          typeof locked !== 'string' ||
          !UDEC.test(free) ||
          !UDEC.test(locked)
        )
          throw malformed('balance amounts');
        const total = addDecimals(free, locked);
        const c = code(asset);
        const prev = totals.get(c); // two exchange ids can map to one currency code
        if (isPositive(total)) totals.set(c, prev === undefined ? total : addDecimals(prev, total));
      }
      return Object.fromEntries(totals);
    },
    async klines(symbol, interval, startTime, endTime) {
      const budget: Budget = { rateWaitMs: 0 };
      // Binance answers -1121 for a symbol it does not list; an unlisted symbol has no candles
      if (!(await listedSymbols(budget)).has(symbol)) return [];
      return fetchBinanceKlines(getter(budget), symbol, interval, startTime, endTime);
    },
  };
}

/** Points every `urls.api` entry at `baseUrl`'s origin, keeping each path (research §2.1). */
function redirect(ex: Binance, baseUrl: string): void {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new ExchangeError('EXCHANGE_EGRESS_DENIED', 'baseUrl is not a URL');
  }
  if (
    (base.protocol !== 'https:' && base.protocol !== 'http:') ||
    base.username ||
    base.password ||
    (base.pathname !== '/' && base.pathname !== '') ||
    base.search ||
    base.hash
  ) {
    throw new ExchangeError('EXCHANGE_EGRESS_DENIED', 'baseUrl must be a bare http(s) origin');
  }
  const api = ex.urls['api'] as Record<string, unknown>;
  for (const [k, v] of Object.entries(api)) {
    if (typeof v === 'string') api[k] = base.origin + new URL(v).pathname;
  }
}

/** Refuses any request whose host is not allow-listed; plain http only to loopback (the simulator). */
function assertEgress(url: string, allowed: Set<string>): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ExchangeError('EXCHANGE_EGRESS_DENIED', 'egress to an unparsable URL refused');
  }
  const schemeOk = u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname));
  if (!schemeOk || u.username || u.password || !allowed.has(u.host)) {
    throw new ExchangeError(
      'EXCHANGE_EGRESS_DENIED',
      `egress to ${u.protocol}//${u.host} is not allowed`,
    );
  }
}

function retryAfterMs(v: unknown): number | undefined {
  return typeof v === 'string' && /^\d{1,6}$/.test(v.trim()) ? Number(v.trim()) * 1000 : undefined;
}

function cmpId(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0); // both are canonical digit strings
}

const DEC = /^-?\d{1,30}(\.\d{1,30})?$/;

/** Validates one myTrades row (untrusted) and maps it to a NormalizedFill. */
function toFill(
  ex: Binance,
  m: { id: string; symbol: string; base: string; quote: string },
  r: unknown,
): NormalizedFill {
  if (!isRecord(r)) throw malformed('trade row');
  if (r['symbol'] !== undefined && r['symbol'] !== m.id)
    throw malformed('trade for another symbol');
  const id = intString(r['id']);
  const orderId = intString(r['orderId']);
  const time = r['time'];
  const ts =
    typeof time === 'number'
      ? time
      : typeof time === 'string' && /^\d{1,16}$/.test(time)
        ? Number(time)
        : NaN;
  const [price, qty, quoteQty, fee] = [r['price'], r['qty'], r['quoteQty'], r['commission']];
  const feeAsset = r['commissionAsset'];
  if (id === undefined || orderId === undefined || !Number.isSafeInteger(ts) || ts < 0)
    throw malformed('trade ids or time');
  if (
    typeof price !== 'string' ||
    typeof qty !== 'string' ||
    typeof quoteQty !== 'string' ||
    typeof fee !== 'string'
  ) {
    throw malformed('trade amounts');
  }
  if (![price, qty, quoteQty, fee].every((s) => DEC.test(s))) throw malformed('trade amounts');
  if (typeof feeAsset !== 'string' || !/^[A-Za-z0-9]{1,20}$/.test(feeAsset))
    throw malformed('commission asset');
  if (typeof r['isBuyer'] !== 'boolean' || typeof r['isMaker'] !== 'boolean')
    throw malformed('trade flags');
  return {
    exchange: 'binance',
    symbol: m.symbol,
    base: m.base,
    quote: m.quote,
    id,
    orderId,
    side: r['isBuyer'] ? 'buy' : 'sell',
    price,
    qty,
    quoteQty,
    fee,
    // same currency-code namespace as base/quote (ccxt maps a few legacy Binance codes)
    feeAsset: ex.safeCurrencyCode(feeAsset) ?? feeAsset,
    maker: r['isMaker'],
    ts,
  };
}

/** A non-negative integer id (JSON number, or string when ccxt kept an unsafe integer exact). */
function intString(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^(0|[1-9]\d{0,19})$/.test(v)) return v;
  return undefined;
}
