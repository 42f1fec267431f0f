/**
 * Coinbase Advanced Trade adapter: the complete fill history (one cursor walk, no symbol needed),
 * balances, external flows (./coinbase-flows.ts, v2 API), key permissions, and candles
 * (./coinbase-candles.ts).
 *
 * Authentication is a CDP API key: a fresh ES256 JWT per request, bound to method, host and path.
 * ccxt's `coinbase` class (imported alone, by file path) signs; everything else is ours: paging,
 * retries, Retry-After, error classification and checking every field of every response.
 */
import type { coinbase as CoinbaseExchange } from 'ccxt';
import { createHash, createPrivateKey } from 'node:crypto';
import { isRecord, malformed } from './binance-common.js';
import { fetchCoinbaseCandles } from './coinbase-candles.js';
import { spotLegs, toCoinbaseFill } from './coinbase-fills.js';
import { fetchCoinbaseFlows, type CoinbaseWallet } from './coinbase-flows.js';
import { UDEC, addDecimals, isPositive } from './decimal.js';
import { assertEgress, baseOrigin } from './egress.js';
import { rollingPool, type SignedClientOptions } from './signed-http.js';
import {
  LimiterRegistry,
  withRetries,
  type FailureKind,
  type RateLimiter,
  type Ticket,
  type WeightPool,
} from './limiter.js';
import {
  ExchangeError,
  type ExchangeClient,
  type FetchFillsOptions,
  type KeyPermissions,
  type NormalizedFill,
} from './types.js';

/** `apiKey`: the CDP key name, "organizations/<org>/apiKeys/<id>"; `apiSecret`: its EC private key,
 * PEM (SEC1 or PKCS#8; "\n" escapes as pasted from JSON allowed). */
export type CoinbaseClientOptions = SignedClientOptions;

type Coinbase = InstanceType<typeof CoinbaseExchange>;

let coinbaseClass: Promise<typeof CoinbaseExchange> | undefined;
/** One exchange class by file path: `import 'ccxt'` loads all of them (research §1). */
function loadCoinbaseClass(): Promise<typeof CoinbaseExchange> {
  coinbaseClass ??= import(new URL('./src/coinbase.js', import.meta.resolve('ccxt')).href).then(
    (m: { default: typeof CoinbaseExchange }) => m.default,
  );
  return coinbaseClass;
}

class RateLimited extends Error {}
class Transient extends Error {}

/** Fills per page: ccxt's page size for this endpoint; the API documents no maximum. */
export const FILLS_PAGE = 250;
const ACCOUNTS_PAGE = 250; // List Accounts: "max 250"
const MAX_FILLS = 10_000_000;
const SEQUENCE_MARGIN_MS = 86_400_000;
/** assumption: no account has Coinbase Exchange fills from before it opened */
const COINBASE_EXCHANGE_LAUNCH_MS = Date.UTC(2015, 0, 26);
const ASSET = /^[A-Z0-9]{1,20}$/;

/*
 * Coinbase's limits (Advanced Trade "Rate Limits"): private endpoints 30 requests/s per user
 * (key), public ones 10/s per IP; the v2 API allows 10,000/hour per key, far above what a walk
 * needs. Private: a rolling pool of 30 in any second (+ the latency margin), which keeps every
 * window Coinbase may count, fixed or sliding, at 30 or fewer, at 27/s (it was 5 per fixed
 * 200 ms, 25/s). Public: fixed windows, any one second overlaps ⌈1000/W⌉ + 1 windows of length
 * W, so 3 per 500 ms keeps every sliding second at 9.
 */
const PRIVATE_POOLS: readonly WeightPool[] = [rollingPool('private', 30, 1000)];
const PUBLIC_POOLS: readonly WeightPool[] = [{ name: 'public', limit: 3, windowMs: 500 }];

/**
 * The key as ccxt's signer needs it: a SEC1 "EC PRIVATE KEY" PEM on P-256. Keys pasted from the
 * CDP JSON download carry literal "\n" escapes; PKCS#8 PEMs are converted. Anything that is not a
 * P-256 private key is refused here, before a request is signed.
 */
export function normalizeCdpSecret(secret: string): string {
  // Rebuilt from its parts: a single-line form field drops the newlines altogether, and the CDP
  // JSON download escapes them as "\n".
  const m =
    /^(?:\s|\\n)*-----BEGIN ((?:EC )?PRIVATE KEY)-----([A-Za-z0-9+/=\s\\n]{1,8192})-----END \1-----(?:\s|\\n)*$/.exec(
      secret,
    );
  const body = m?.[2]!.replace(/\\n/g, '').replace(/\s/g, '') ?? '';
  const pem = m
    ? `-----BEGIN ${m[1]}-----\n${body.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${m[1]}-----\n`
    : '';
  try {
    const key = createPrivateKey({ key: pem, format: 'pem' });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      throw new Error('not P-256');
    return key.export({ type: 'sec1', format: 'pem' }) as string;
  } catch {
    throw new ExchangeError(
      'EXCHANGE_AUTH_FAILED',
      'the API secret is not a P-256 EC private key (CDP ECDSA key)',
    );
  }
}

/**
 * @example
 * const c = await createCoinbaseClient({ apiKey, apiSecret, allowHosts: ['api.coinbase.com'] });
 * const fills = await c.fetchFills({});
 */
export async function createCoinbaseClient(opts: CoinbaseClientOptions): Promise<ExchangeClient> {
  if (typeof opts.apiKey !== 'string' || !/^[A-Za-z0-9/_-]{1,256}$/.test(opts.apiKey))
    throw new ExchangeError('EXCHANGE_AUTH_FAILED', 'the API key name is not a CDP key name');
  const secret = normalizeCdpSecret(opts.apiSecret);
  const allowed = new Set(opts.allowHosts.map((h) => h.toLowerCase()));
  const retry = {
    maxRetries: opts.maxRetries ?? 4,
    maxPauseMs: opts.maxRetryAfterMs ?? 65_000,
    budgetMs: opts.rateLimitBudgetMs ?? 180_000,
  };
  const origin = opts.baseUrl === undefined ? 'https://api.coinbase.com' : baseOrigin(opts.baseUrl);
  const registry = opts.limiters ?? new LimiterRegistry();
  const egress = opts.egress ?? 'default';
  // the private budget is the key's: keyed by a hash, so the registry keeps no key name
  const keyTag = createHash('sha256').update(opts.apiKey).digest('hex').slice(0, 32);
  const limiters = {
    private: registry.get(`coinbase|${origin}|key:${keyTag}`, egress, PRIVATE_POOLS),
    public: registry.get(`coinbase|${origin}`, egress, PUBLIC_POOLS),
  };

  const Coinbase = await loadCoinbaseClass();
  const ex: Coinbase = new Coinbase({
    apiKey: opts.apiKey,
    secret,
    // the shared limiters pace every request (ccxt's throttle is per instance, i.e. per session)
    enableRateLimit: false,
    timeout: opts.timeoutMs ?? 10_000,
  });
  // ccxt builds every URL as urls.api.rest + '/api/v3/…' or '/v2/…', so an origin is enough
  (ex.urls['api'] as Record<string, unknown>)['rest'] = origin;

  // A request's slot is booked BEFORE ccxt signs it, so a wait in the queue never ages the JWT
  // (valid 120 s). ccxt's fetch2 signs and calls fetch with no await in between, so the ticket is
  // handed over through `next`, and on to handleErrors by URL.
  type Booked = { limiter: RateLimiter; ticket: Ticket };
  const tickets = new Map<string, Booked>();
  let next: Booked | undefined;
  const ccxtFetch2 = ex.fetch2.bind(ex);
  ex.fetch2 = async (path: string, api: unknown = [], ...rest: unknown[]) => {
    const limiter = Array.isArray(api) && api[1] === 'public' ? limiters.public : limiters.private;
    const ticket = await limiter.acquire(
      limiter === limiters.public ? { public: 1 } : { private: 1 },
    );
    next = { limiter, ticket };
    return (ccxtFetch2 as (...a: unknown[]) => Promise<unknown>)(path, api, ...rest);
  };
  const ccxtFetch = ex.fetch.bind(ex);
  ex.fetch = async (url: string, method?: string, headers?: unknown, body?: unknown) => {
    const booked = next;
    next = undefined;
    assertEgress(url, allowed);
    if (booked) tickets.set(url, booked);
    try {
      return await ccxtFetch(url, method, headers, body);
    } catch (e) {
      if (e instanceof ExchangeError || e instanceof RateLimited || e instanceof Transient) throw e;
      throw new Transient(e instanceof Error ? e.name : 'fetch failed'); // network error or timeout
    } finally {
      tickets.delete(url);
    }
  };
  // Our classification from the status alone. Coinbase answers 401 to a bad or revoked key or
  // token and 403 to a missing permission; neither is retried. The limiter reads Retry-After.
  ex.handleErrors = (
    status: number,
    _r: string,
    url: string,
    _m: string,
    headers: Record<string, unknown>,
  ) => {
    const booked = tickets.get(url);
    booked?.limiter.observe(booked.ticket, { status, headers });
    if (status < 300) return undefined;
    if (status === 429) throw new RateLimited();
    if (status === 401 || status === 403)
      throw new ExchangeError('EXCHANGE_AUTH_FAILED', 'exchange rejected the API key or token');
    if (status >= 500 || status === 408) throw new Transient(`HTTP ${status}`);
    throw new ExchangeError(
      'EXCHANGE_UNAVAILABLE',
      `exchange rejected the request (HTTP ${status})`,
    );
  };

  const classify = (e: unknown): FailureKind =>
    e instanceof RateLimited ? 'rate-limited' : e instanceof Transient ? 'transient' : 'fatal';

  /** Runs one exchange call through its limiter; every failure leaves as an ExchangeError. */
  async function call<T>(fn: () => Promise<T>, kind: 'private' | 'public' = 'private'): Promise<T> {
    try {
      return await withRetries(limiters[kind], fn, classify, retry);
    } catch (e) {
      if (e instanceof ExchangeError) throw e;
      throw new ExchangeError(
        'EXCHANGE_UNAVAILABLE',
        `exchange call failed (${e instanceof Error ? e.name : 'unknown'})`,
      );
    }
  }

  // Asked once per client (a client lives for one request): permissions() and accountId() both
  // read it; a failed read is retried next time.
  let perms: Promise<Record<string, unknown>> | undefined;
  function keyPermissions(): Promise<Record<string, unknown>> {
    perms ??= call(() => ex.v3PrivateGetBrokerageKeyPermissions()).then((r: unknown) => {
      if (
        !isRecord(r) ||
        typeof r['can_trade'] !== 'boolean' ||
        typeof r['can_transfer'] !== 'boolean'
      )
        throw malformed('key_permissions');
      return r;
    });
    perms.catch(() => (perms = undefined));
    return perms;
  }

  async function fetchFills(o: FetchFillsOptions = {}): Promise<NormalizedFill[]> {
    // One walk over every product: the endpoint needs none, so delisted products are covered.
    // Stop on an EMPTY page or an empty cursor, never on a short page (pages are not always full).
    const byEntry = new Map<string, NormalizedFill>();
    let cursor = '';
    let pages = 0;
    let rows = 0;
    for (;;) {
      const params: Record<string, string> = { limit: String(FILLS_PAGE) };
      // An incremental run asks only for recent rows. The server filters on sequence_timestamp,
      // which is when the fill was sequenced, at or after its trade_time; a day of margin covers
      // any disagreement, and the trade_time filter below stays the one that decides.
      if (o.since !== undefined)
        params['start_sequence_timestamp'] = new Date(
          Math.max(0, o.since - SEQUENCE_MARGIN_MS),
        ).toISOString();
      if (cursor !== '') params['cursor'] = cursor;
      const r: unknown = await call(() => ex.v3PrivateGetBrokerageOrdersHistoricalFills(params));
      if (!isRecord(r) || !Array.isArray(r['fills'])) throw malformed('fills');
      const next = r['cursor'] ?? '';
      if (typeof next !== 'string' || next.length > 1024) throw malformed('fills cursor');
      pages++;
      for (const row of r['fills']) {
        const f = toCoinbaseFill(row);
        if (!f) continue; // not a spot product (docs/exchanges.md "Not covered")
        // a page may repeat the row it ended on: the entry id decides
        if (
          !byEntry.has(f.id) &&
          (o.since === undefined || f.ts >= o.since) &&
          (o.until === undefined || f.ts <= o.until)
        )
          byEntry.set(f.id, f);
      }
      rows += r['fills'].length;
      o.onProgress?.({ symbol: 'all products', pages, fills: byEntry.size });
      if (r['fills'].length === 0 || next === '') break;
      if (next === cursor) throw malformed('fills cursor does not advance'); // would loop forever
      if (rows > MAX_FILLS) throw malformed('fills do not end');
      cursor = next;
    }
    return [...byEntry.values()].sort(
      (a, b) =>
        a.ts - b.ts ||
        (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0) ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }

  /** Every wallet of the key's portfolio, with its total (available + hold). */
  async function wallets(): Promise<(CoinbaseWallet & { total: string })[]> {
    const out = new Map<string, CoinbaseWallet & { total: string }>();
    let cursor = '';
    for (let pages = 0; ; pages++) {
      const params: Record<string, string> = { limit: String(ACCOUNTS_PAGE) };
      if (cursor !== '') params['cursor'] = cursor;
      const r: unknown = await call(() => ex.v3PrivateGetBrokerageAccounts(params));
      if (!isRecord(r) || !Array.isArray(r['accounts'])) throw malformed('accounts');
      for (const a of r['accounts']) out.set(...toWallet(a));
      const next = r['cursor'] ?? '';
      if (typeof next !== 'string') throw malformed('accounts cursor');
      if (r['accounts'].length === 0 || r['has_next'] !== true || next === '') break;
      if (next === cursor || pages > 10_000) throw malformed('accounts cursor does not advance');
      cursor = next;
    }
    return [...out.values()];
  }

  // The listed products, loaded once for klines(); a failed load is retried next time.
  let listed: Promise<Set<string>> | undefined;
  function listedProducts(): Promise<Set<string>> {
    listed ??= call(() => ex.v3PublicGetBrokerageMarketProducts(), 'public').then((r: unknown) => {
      if (!isRecord(r) || !Array.isArray(r['products'])) throw malformed('products');
      const ids = new Set<string>();
      for (const p of r['products'])
        if (isRecord(p) && typeof p['product_id'] === 'string' && spotLegs(p['product_id']))
          ids.add(p['product_id']);
      return ids;
    });
    listed.catch(() => (listed = undefined));
    return listed;
  }

  const client: ExchangeClient & { historySince(now: number): number } = {
    venue: `coinbase|${origin}`,
    /** The key's portfolio: a CDP key is scoped to exactly one. */
    async accountId() {
      const id = (await keyPermissions())['portfolio_uuid'];
      if (typeof id !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(id))
        throw malformed('portfolio_uuid');
      return id;
    },
    async permissions() {
      const p = await keyPermissions();
      const view = p['can_view'] === true;
      const trade = p['can_trade'] as boolean;
      const transfer = p['can_transfer'] as boolean;
      // Coinbase has one "transfer" permission for every way funds leave: withdrawal and
      // transfer alike. Advanced Trade spot keys carry no futures or margin grant.
      const out: KeyPermissions = {
        read: view,
        trade,
        withdraw: transfer,
        transfer,
        futures: false,
        margin: false,
      };
      return out;
    },
    /** Coinbase documents no lookback limit: complete since Coinbase Exchange opened (2015-01-26). */
    historySince: () => COINBASE_EXCHANGE_LAUNCH_MS,
    fetchFills,
    async fetchFlows(o) {
      const ws = await wallets();
      return fetchCoinbaseFlows(
        (_e, params) => {
          const { account_id, ...rest } = params;
          return call(() => ex.v2PrivateGetAccountsAccountIdTransactions({ account_id, ...rest }));
        },
        ws,
        o,
      );
    },
    async balances() {
      const totals: Record<string, string> = {};
      for (const w of await wallets()) {
        const prev = totals[w.currency];
        if (isPositive(w.total))
          totals[w.currency] = prev === undefined ? w.total : addDecimals(prev, w.total);
      }
      return totals;
    },
    /** USD-quoted products price every asset: Coinbase's deepest books are in USD. */
    priceSymbol: (asset: string) => `${asset}-USD`,
    async klines(symbol, interval, startTime, endTime) {
      // an unlisted (e.g. delisted) product has no candles; Coinbase would answer 404
      if (!(await listedProducts()).has(symbol)) return [];
      return fetchCoinbaseCandles(
        (params) =>
          call(
            () =>
              ex.v3PublicGetBrokerageMarketProductsProductIdCandles({
                product_id: symbol,
                ...params,
              }),
            'public',
          ),
        interval,
        startTime,
        endTime,
      );
    },
  };
  return client;
}

/** Validates one List Accounts row; total = available_balance + hold, same currency. */
function toWallet(a: unknown): [string, CoinbaseWallet & { total: string }] {
  if (!isRecord(a)) throw malformed('account row');
  const { uuid, currency, available_balance: avail, hold } = a;
  if (typeof uuid !== 'string' || !/^[0-9a-fA-F-]{36}$/.test(uuid)) throw malformed('account uuid');
  if (typeof currency !== 'string' || !ASSET.test(currency)) throw malformed('account currency');
  const value = (b: unknown, what: string): string => {
    if (b === undefined || b === null) return '0';
    if (
      !isRecord(b) ||
      typeof b['value'] !== 'string' ||
      !UDEC.test(b['value']) ||
      b['currency'] !== currency
    )
      throw malformed(what);
    return b['value'];
  };
  return [
    uuid,
    { uuid, currency, total: addDecimals(value(avail, 'available_balance'), value(hold, 'hold')) },
  ];
}
