/**
 * Binance spot adapter: complete trade history via GET /api/v3/myTrades, per symbol; external
 * flows (./binance-flows.ts), current balances, and candles (./binance-klines.ts).
 *
 * ccxt is used only to sign requests and to parse exchangeInfo into markets. Paging, retries,
 * rate-limit handling and error classification are ours, because ccxt's `paginate` loses
 * same-millisecond fills and turns one 429 into a 418 ban (research/exchanges.md §2.4).
 * Responses come from the network: every field is checked before it is trusted.
 */
import {
  ASSET,
  isRecord,
  malformed,
  resumeId,
  type BinanceEndpoint,
  type BinanceGet,
} from './binance-common.js';
import { BINANCE_LAUNCH_MS, fetchBinanceFlows } from './binance-flows.js';
import { parseApiRestrictions } from './binance-permissions.js';
import { fetchBinanceKlines } from './binance-klines.js';
import { BINANCE_SPOT_POOLS, binanceSpotCost } from './binance-limits.js';
import { UDEC, addDecimals, isPositive } from './decimal.js';
import { LimiterRegistry, type RateLimiter } from './limiter.js';
import {
  attachTransport,
  loadCcxtClass,
  redirect,
  safeOrigin,
  type Binance,
} from './binance-transport.js';
import type { SignedClientOptions } from './signed-http.js';
import {
  ExchangeError,
  type ExchangeClient,
  type FetchFillsOptions,
  type NormalizedFill,
} from './types.js';

export interface BinanceClientOptions extends SignedClientOptions {
  /**
   * HTTP CONNECT proxy for every request (Nitro: the host's egress proxy). TLS still runs from
   * here to the exchange inside the tunnel, so the proxy relays only ciphertext.
   */
  httpsProxy?: string;
}

/** ccxt's implicit method per endpoint: ccxt signs /sapi calls and throttles each by its cost. */
const IMPLICIT = {
  klines: 'publicGetKlines',
  depositHistory: 'sapiGetCapitalDepositHisrec',
  withdrawHistory: 'sapiGetCapitalWithdrawHistory',
} as const satisfies Record<BinanceEndpoint, string>;

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
  const retry = {
    maxRetries: opts.maxRetries ?? 4,
    maxPauseMs: opts.maxRetryAfterMs ?? 65_000,
    budgetMs: opts.rateLimitBudgetMs ?? 180_000,
  };
  const origin = opts.baseUrl === undefined ? 'https://api.binance.com' : safeOrigin(opts.baseUrl);
  const limiter: RateLimiter = (opts.limiters ?? new LimiterRegistry()).get(
    `binance|${origin}`,
    opts.egress ?? 'default',
    BINANCE_SPOT_POOLS,
  );

  const Binance = await loadCcxtClass('binance');
  const ex: Binance = new Binance({
    apiKey: opts.apiKey,
    secret: opts.apiSecret,
    // the shared limiter paces every request (ccxt's throttle is per instance, i.e. per
    // session, and runs at 5,936 weight/min: research §2.4)
    enableRateLimit: false,
    timeout: opts.timeoutMs ?? 10_000,
    options: {
      // each of these would otherwise make loadMarkets call sapi/dapi endpoints (research §2.1)
      fetchCurrencies: false,
      fetchMargins: false,
      fetchMarkets: { types: ['spot'] },
    },
  });
  if (opts.baseUrl !== undefined) redirect(ex, opts.baseUrl);
  // ccxt sends requests through an undici ProxyAgent (CONNECT, then TLS end to end) when set.
  if (opts.httpsProxy !== undefined) ex.httpsProxy = opts.httpsProxy;

  const call = attachTransport(ex, {
    allowed,
    limiter,
    cost: binanceSpotCost,
    retry,
  });

  async function account(): Promise<Record<string, unknown>> {
    const r: unknown = await call(() => ex.privateGetAccount({ omitZeroBalances: 'true' }));
    if (!isRecord(r)) throw malformed('account');
    return r;
  }

  async function fetchFills(o: FetchFillsOptions = {}): Promise<NormalizedFill[]> {
    await call(() => ex.loadMarkets(true)); // reload: ccxt memoises a failed load
    const markets = Object.values(ex.markets ?? {}).filter(
      (m) => m !== undefined && m.spot === true,
    );

    // Scan order only: symbols touching an asset we still hold go first. The scan still covers
    // every listed symbol (TRADING and BREAK), because an asset bought and fully sold leaves no
    // balance trace, and Binance has no "symbols I traded" endpoint (research §4).
    const acct = await account();
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
      let fromId = resumeId(o.fromIds, m.symbol);
      let pages = 0;
      for (;;) {
        const rows: unknown = await call(() =>
          ex.privateGetMyTrades({ symbol: m.id, fromId: fromId.toString(), limit: 1000 }),
        );
        if (!Array.isArray(rows)) throw malformed('myTrades');
        pages++;
        let max = -1n;
        for (const r of rows) {
          const f = toFill(ex, m, r);
          const id = BigInt(f.id);
          // a row before fromId repeats an earlier page (replica lag): counted once, by id
          if (id < fromId) continue;
          if (id > max) max = id;
          if (seen.has(f.id)) continue;
          seen.add(f.id);
          if (
            // with resume points the id cursor, not time, says what is new
            (o.since === undefined || o.fromIds !== undefined || f.ts >= o.since) &&
            (o.until === undefined || f.ts <= o.until)
          )
            out.push(f);
        }
        // the end: an empty page, or one that only repeats rows we have (no id ≥ fromId), which
        // also guarantees every further request moves the cursor forward
        if (max < fromId) {
          o.onProgress?.({ symbol: m.symbol, pages, fills: seen.size });
          break;
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

  /** GETs for the flow and candle modules, through the same limiter and retry path. */
  const getter: BinanceGet = (endpoint, params) =>
    call(() => ex[IMPLICIT[endpoint]](params) as Promise<unknown>);
  const code = (id: string) => ex.safeCurrencyCode(id) ?? id;

  // The listed spot symbols, loaded once for klines(); a failed load is retried next time.
  let listed: Promise<Set<string>> | undefined;
  function listedSymbols(): Promise<Set<string>> {
    listed ??= call(() => ex.loadMarkets(true)).then(
      () => new Set(Object.values(ex.markets ?? {}).flatMap((m) => (m?.spot ? [m.id] : []))),
    );
    listed.catch(() => (listed = undefined));
    return listed;
  }

  return {
    venue: `binance|${origin}`,
    async accountId() {
      const uid = (await account())['uid'];
      if (uid === undefined || uid === null) return null;
      if (
        (typeof uid === 'number' && Number.isSafeInteger(uid)) ||
        (typeof uid === 'string' && /^\d{1,20}$/.test(uid))
      )
        return String(uid);
      throw malformed('uid');
    },
    async permissions() {
      return parseApiRestrictions(await call(() => ex.sapiGetAccountApiRestrictions()));
    },
    historySince: () => BINANCE_LAUNCH_MS,
    fetchFills,
    fetchFlows: (o) => fetchBinanceFlows(getter, code, o),
    async balances() {
      const totals = new Map<string, string>();
      const rows = (await account())['balances'];
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
      // Binance answers -1121 for a symbol it does not list; an unlisted symbol has no candles
      if (!(await listedSymbols()).has(symbol)) return [];
      return fetchBinanceKlines(getter, symbol, interval, startTime, endTime);
    },
  };
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
