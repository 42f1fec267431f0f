/**
 * Bybit V5 (unified trading account) adapter: every execution of the spot, linear and inverse
 * categories via GET /v5/execution/list, realized PnL via /v5/position/closed-pnl, funding,
 * deposits and withdrawals, balances and the key's permissions.
 *
 * ccxt's bybit class (imported alone) only signs: X-BAPI-SIGN = hex HMAC-SHA256(secret,
 * timestamp + apiKey + recvWindow + query). Paging is ours. ccxt's fetchMyTrades sends
 * `execType=Trade`, which drops liquidations (BustTrade), auto-deleveraging (AdlTrade) and
 * delivery executions (research/exchanges.md §4): we never send execType for fills and classify
 * the raw rows ourselves (./bybit-rows.ts).
 *
 * Windows and paging (execution.mdx, close-pnl.mdx): `endTime − startTime ≤ 7 days`, history
 * reaches 2 years, `limit ≤ 100`, `nextPageCursor` paging. We walk consecutive 7-day windows
 * and, inside each, follow the cursor until an EMPTY page or an empty cursor: a short page proves
 * nothing. Rows sharing an `execTime` have no stable order (execution.mdx tip), so rows are keyed
 * by (category, execId) and a row repeated at a page edge counts once.
 */
import type { bybit as BybitExchange } from 'ccxt';
import type { FundingEvent, FuturesFill, SpotFill } from '../aggregates/ledger.js';
import { compareEvents } from '../aggregates/ledger.js';
import { compareFills } from '../aggregates/fill.js';
import { isRecord, malformed } from './binance-common.js';
import {
  guessInstrument,
  parseClosedPnl,
  parseExecution,
  toBybitDeposit,
  toBybitFill,
  toBybitFunding,
  toBybitWithdrawal,
  toInstrument,
  type Category,
  type ClosedPnl,
  type Instrument,
  type RawExecution,
} from './bybit-rows.js';
import { DEC, addSignedDecimals } from './decimal.js';
import {
  createSender,
  loadCcxtClass,
  retryAfterMs,
  keyId,
  rollingPool,
  type Budget,
  type Observe,
  type SignedRequest,
  type Verdict,
  type SignedClientOptions,
} from './signed-http.js';
import { LimiterRegistry, type WeightPool } from './limiter.js';
import {
  ExchangeError,
  type ExchangeClient,
  type FetchFillsOptions,
  type FetchFlowsOptions,
  type AccountEvent,
  type FlowEvent,
  type KeyPermissions,
  type NormalizedFill,
} from './types.js';
import { baseOrigin } from './egress.js';

export type BybitClientOptions = SignedClientOptions;

/** A Bybit client: the common contract plus funding payments. */
export interface BybitClient extends ExchangeClient {
  /** the funding part of fetchFlows alone: every funding payment of linear and inverse positions in [since, until], signed (> 0 received) */
  fetchFunding(o: FetchFlowsOptions): Promise<FundingEvent[]>;
}

type Bybit = InstanceType<typeof BybitExchange>;

const DAY = 86_400_000;
/** execution/list and closed-pnl: "endTime − startTime ≤ 7 days" */
export const TRADE_WINDOW_MS = 7 * DAY;
/** deposit and withdrawal records: 30-day windows (asset/deposit docs) */
export const FLOW_WINDOW_MS = 30 * DAY;
/** "Get Trade History (2 years)", "Get Closed PnL (2 years)" */
export const HISTORY_MS = 730 * DAY;
const CATEGORIES: readonly Category[] = ['spot', 'linear', 'inverse'];
const DERIVATIVES: readonly Category[] = ['linear', 'inverse'];
/** a server that never sends an empty page must not keep us paging forever */
const MAX_PAGES_PER_WINDOW = 10_000;

/** retCodes (Bybit V5 error docs): key or signature rejected; retrying cannot help */
const AUTH_CODES = new Set([10003, 10004, 10005, 10007, 10010, 33004]);
/** rate limited per UID ("Too many visits!") */
const RATE_CODES = new Set([10006, 10018]);
/** server-side timeouts and internal errors */
const TRANSIENT_CODES = new Set([10000, 10016, 10019]);

let bybitClass: Promise<typeof BybitExchange> | undefined;

/**
 * @example
 * const c = await createBybitClient({ apiKey, apiSecret, allowHosts: ['api.bybit.com'] });
 * const fills = await c.fetchFills({ since: Date.parse('2026-01-01') });
 */
export async function createBybitClient(opts: BybitClientOptions): Promise<BybitClient> {
  if (!opts.apiKey || !opts.apiSecret)
    throw new ExchangeError('EXCHANGE_AUTH_FAILED', 'API key and secret are required');
  bybitClass ??= loadCcxtClass<typeof BybitExchange>('bybit');
  const Bybit = await bybitClass.catch((e: unknown) => {
    bybitClass = undefined;
    throw e;
  });
  const ex: Bybit = new Bybit({ apiKey: opts.apiKey, secret: opts.apiSecret });
  const origin = opts.baseUrl === undefined ? undefined : baseOrigin(opts.baseUrl);
  if (origin !== undefined) {
    const api = ex.urls['api'] as Record<string, unknown>;
    for (const k of Object.keys(api)) api[k] = origin;
  }

  /** Signs with ccxt; for a GET, ccxt puts the exact signed query string in the URL. */
  const signed =
    (path: string, params: Record<string, string>, api: 'public' | 'private' = 'private') =>
    (): SignedRequest => {
      const r = ex.sign(path, api, 'GET', params) as {
        url: string;
        headers?: Record<string, string>;
      };
      return { url: r.url, method: 'GET', headers: r.headers ?? {} };
    };

  const venue = `bybit|${origin ?? 'https://api.bybit.com'}`;
  const registry = opts.limiters ?? new LimiterRegistry();
  const egress = opts.egress ?? 'default';
  const send = createSender({
    ...opts,
    limiters: [
      { limiter: registry.get(venue, egress, BYBIT_IP_POOLS), cost: () => ({ ip: 1 }) },
      {
        limiter: registry.get(`${venue}|key:${keyId(opts.apiKey)}`, egress, UID_POOLS),
        // public endpoints have no per-UID budget
        cost: (endpoint) => (BYBIT_UID_LIMITS[endpoint] === undefined ? {} : { [endpoint]: 1 }),
      },
    ],
    observe: bybitObserve,
    classify: classifyBybit,
    async resync() {
      const r = await send('/v5/market/time', signed('v5/market/time', {}, 'public'), {
        rateWaitMs: 0,
      });
      const t = isRecord(r) ? Number(r['time']) : NaN;
      if (!Number.isSafeInteger(t)) throw malformed('server time');
      ex.options['timeDifference'] = Date.now() - t;
    },
  });

  const get = async (path: string, params: Record<string, string>, budget: Budget) => {
    const r = await send(`/${path}`, signed(path, params), budget);
    if (!isRecord(r)) throw malformed(path);
    return r;
  };

  // symbol → instrument per category, from instruments-info (public), loaded once
  const books = new Map<Category, Promise<Map<string, Instrument>>>();
  function book(c: Category, budget: Budget): Promise<Map<string, Instrument>> {
    let p = books.get(c);
    if (!p) {
      p = loadInstruments(c, budget);
      p.catch(() => books.delete(c));
      books.set(c, p);
    }
    return p;
  }
  async function loadInstruments(c: Category, budget: Budget): Promise<Map<string, Instrument>> {
    const out = new Map<string, Instrument>();
    let cursor = '';
    for (let page = 0; page < 100; page++) {
      const params: Record<string, string> = { category: c };
      if (c !== 'spot') params['limit'] = '1000'; // spot answers everything in one page
      if (cursor) params['cursor'] = cursor;
      const path = 'v5/market/instruments-info';
      const r = await send(`/${path}`, signed(path, params, 'public'), budget);
      if (!isRecord(r) || !Array.isArray(r['list'])) throw malformed('instruments-info');
      for (const row of r['list']) {
        const e = toInstrument(c, row);
        if (e) out.set(e[0], e[1]);
      }
      const next = r['nextPageCursor'];
      if (r['list'].length === 0 || typeof next !== 'string' || next === '' || next === cursor)
        return out;
      cursor = next;
    }
    throw malformed('instruments-info does not end');
  }
  async function instrument(c: Category, symbol: string, budget: Budget): Promise<Instrument> {
    // delisted symbols are gone from instruments-info: name them from the symbol itself
    const i = (await book(c, budget)).get(symbol) ?? guessInstrument(c, symbol);
    if (!i) throw malformed(`unknown ${c} symbol`);
    return i;
  }

  /**
   * Every row of a 7-day-windowed, cursor-paged list in [since, until]. `key` names a row for
   * de-duplication across page edges.
   */
  async function walk<T>(
    path: string,
    base: Record<string, string>,
    since: number,
    until: number,
    parse: (row: unknown) => T,
    key: (t: T) => string,
    budget: Budget,
    window = TRADE_WINDOW_MS,
    progress?: (pages: number, rows: number) => void,
  ): Promise<T[]> {
    const out = new Map<string, T>();
    let pages = 0;
    for (let start = since; start <= until; start += window) {
      const end = Math.min(start + window - 1, until);
      let cursor = '';
      for (let page = 0; ; page++) {
        if (page >= MAX_PAGES_PER_WINDOW) throw malformed(`${path} does not end`);
        const params: Record<string, string> = {
          ...base,
          startTime: String(start),
          endTime: String(end),
        };
        if (cursor) params['cursor'] = cursor;
        const r = await get(path, params, budget);
        const list = r['list'] ?? r['rows'];
        if (!Array.isArray(list)) throw malformed(`${path} list`);
        pages++;
        for (const row of list) {
          const t = parse(row);
          out.set(key(t), t);
        }
        progress?.(pages, out.size);
        const next = r['nextPageCursor'];
        if (list.length === 0 || next === undefined || next === '') break;
        if (typeof next !== 'string' || next.length > 512 || next === cursor)
          throw malformed(`${path} cursor`);
        cursor = next;
      }
    }
    return [...out.values()];
  }

  const range = (o: { since?: number; until?: number }) => {
    const until = o.until ?? Date.now();
    const since = Math.max(o.since ?? 0, until - HISTORY_MS);
    if (!Number.isSafeInteger(since) || !Number.isSafeInteger(until))
      throw new RangeError('since/until must be integer milliseconds');
    return { since, until };
  };

  async function executions(
    c: Category,
    since: number,
    until: number,
    budget: Budget,
    extra: Record<string, string> = {},
    onProgress?: FetchFillsOptions['onProgress'],
  ): Promise<RawExecution[]> {
    return walk(
      'v5/execution/list',
      { category: c, limit: '100', ...extra },
      since,
      until,
      (row) => parseExecution(c, row),
      (e) => e.execId,
      budget,
      TRADE_WINDOW_MS,
      (pages, fills) => onProgress?.({ symbol: c, pages, fills }),
    );
  }

  async function closedPnl(c: Category, since: number, until: number, budget: Budget) {
    return walk(
      'v5/position/closed-pnl',
      { category: c, limit: '100' },
      since,
      until,
      parseClosedPnl,
      (p: ClosedPnl) => `${p.symbol}|${p.orderId}|${p.ts}`,
      budget,
    );
  }

  async function fetchFills(o: FetchFillsOptions = {}): Promise<NormalizedFill[]> {
    const budget: Budget = { rateWaitMs: 0 };
    const { since, until } = range(o);
    // closed-pnl rows are stamped when the position closed: reach one window past the fills
    const pnlUntil = Math.min(until + TRADE_WINDOW_MS, Date.now());
    const out: (SpotFill | FuturesFill)[] = [];
    for (const c of CATEGORIES) {
      const rows = (await executions(c, since, until, budget, {}, o.onProgress)).filter(
        (e) => e.execType !== 'Funding', // funding is fetchFunding's, not a fill
      );
      const pnl = c === 'spot' ? [] : await closedPnl(c, since, pnlUntil, budget);
      const inst = new Map<string, Instrument>();
      for (const sym of new Set(rows.map((e) => e.symbol)))
        inst.set(sym, await instrument(c, sym, budget));
      out.push(...bybitFills(rows, pnl, (sym) => inst.get(sym)!));
    }
    return out.sort(compareFills);
  }

  async function fetchFunding(o: FetchFlowsOptions): Promise<FundingEvent[]> {
    const budget: Budget = { rateWaitMs: 0 };
    const { since, until } = range(o);
    const out: FundingEvent[] = [];
    for (const c of DERIVATIVES) {
      const rows = await executions(c, since, until, budget, { execType: 'Funding' });
      const inst = new Map<string, Instrument>();
      for (const sym of new Set(rows.map((e) => e.symbol)))
        inst.set(sym, await instrument(c, sym, budget));
      out.push(...bybitFunding(rows, (sym) => inst.get(sym)!));
    }
    return out.sort(compareEvents) as FundingEvent[];
  }

  /** Deposits and withdrawals, and funding (the contract's AccountEvent stream). */
  async function fetchFlows(o: FetchFlowsOptions): Promise<AccountEvent[]> {
    const budget: Budget = { rateWaitMs: 0 };
    const { since, until } = range(o);
    let skipped = 0; // rows that do not count need no de-duplication
    const key = (ev: FlowEvent | undefined) => (ev ? `${ev.type}:${ev.id}` : `skip:${skipped++}`);
    const out: FlowEvent[] = [];
    for (const [path, parse] of [
      ['v5/asset/deposit/query-record', toBybitDeposit],
      ['v5/asset/withdraw/query-record', toBybitWithdrawal],
    ] as const) {
      const rows = await walk<FlowEvent | undefined>(
        path,
        { limit: '50' },
        since,
        until,
        parse,
        key,
        budget,
        FLOW_WINDOW_MS,
      );
      for (const ev of rows) if (ev && ev.ts >= since && ev.ts <= until) out.push(ev);
    }
    return ([...out, ...(await fetchFunding(o))] as AccountEvent[]).sort(compareEvents);
  }

  async function queryApi(): Promise<Record<string, unknown>> {
    return get('v5/user/query-api', {}, { rateWaitMs: 0 });
  }

  return {
    venue,
    async accountId() {
      const uid = (await queryApi())['userID'];
      if (uid === undefined || uid === null || uid === '') return null;
      if (
        (typeof uid === 'number' && Number.isSafeInteger(uid)) ||
        (typeof uid === 'string' && /^\d{1,20}$/.test(uid))
      )
        return String(uid);
      throw malformed('userID');
    },
    async permissions() {
      return bybitPermissions(await queryApi());
    },
    // "Get Trade History (2 years)": nothing older can be fetched
    historySince: (now) => now - HISTORY_MS,
    fetchFills,
    fetchFunding,
    fetchFlows,
    async balances() {
      const r = await get(
        'v5/account/wallet-balance',
        { accountType: 'UNIFIED' },
        {
          rateWaitMs: 0,
        },
      );
      return bybitBalances(r);
    },
    async klines() {
      // Prices come from the Binance candle oracle (src/enclave/exchanges.ts); Bybit's own
      // /v5/market/kline is not wired yet, so no candles rather than wrong ones.
      return [];
    },
  };
}

/**
 * The key's powers from /v5/user/query-api. `readOnly` 1 is a read-only key; 0 a "read-write" key,
 * whose permission lists say what it may write: `Wallet` "Withdraw" (refused by the caller) and
 * "AccountTransfer"/"SubMemberTransfer", `ContractTrade`/`Derivatives`/`Options` (futures),
 * `Spot` (spot, and margin where the account enables it). A read-write key counts as trading
 * even with empty lists: the safe reading of an unknown permission is "may".
 */
export function bybitPermissions(r: Record<string, unknown>): KeyPermissions {
  const perms = r['permissions'];
  const ro = r['readOnly'];
  if (!isRecord(perms) || (ro !== 0 && ro !== 1)) throw malformed('key permissions');
  const list = (k: string): string[] => {
    const v = perms[k];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      throw malformed('key permissions');
    return v as string[];
  };
  const wallet = list('Wallet');
  const rw = ro === 0;
  return {
    read: true,
    trade: rw,
    withdraw: wallet.includes('Withdraw'),
    transfer: wallet.includes('AccountTransfer') || wallet.includes('SubMemberTransfer'),
    futures: rw && ['ContractTrade', 'Derivatives', 'Options'].some((k) => list(k).length > 0),
    margin: rw && list('Spot').length > 0,
  };
}

/** wallet-balance (UNIFIED): `walletBalance` per coin, which may be negative when borrowed. */
export function bybitBalances(r: Record<string, unknown>): Record<string, string> {
  const list = r['list'];
  if (!Array.isArray(list)) throw malformed('wallet-balance');
  const out: Record<string, string> = {};
  for (const acct of list) {
    if (!isRecord(acct) || !Array.isArray(acct['coin'])) throw malformed('wallet-balance account');
    for (const c of acct['coin']) {
      if (!isRecord(c)) throw malformed('wallet-balance coin');
      const { coin, walletBalance } = c;
      if (typeof coin !== 'string' || !/^[A-Z0-9]{1,20}$/.test(coin))
        throw malformed('wallet-balance coin');
      if (typeof walletBalance !== 'string' || !DEC.test(walletBalance))
        throw malformed('wallet-balance amount');
      if (/[1-9]/.test(walletBalance))
        out[coin] =
          out[coin] === undefined ? walletBalance : addSignedDecimals(out[coin], walletBalance);
    }
  }
  return out;
}

/**
 * Bybit's verdict on one answer. Most errors come as HTTP 200 with a non-zero `retCode`; an IP
 * over 600 requests / 5 s gets HTTP 403 "access too frequent" and must stop for 10 minutes
 * (rate-limit.mdx), longer than any wait budget.
 */
export function classifyBybit(status: number, headers: Headers, body: unknown): Verdict {
  const code = isRecord(body) ? Number(body['retCode']) : NaN;
  if (status === 403 && !Number.isFinite(code))
    return { kind: 'rateLimited', retryAfterMs: 600_000 };
  if (status === 429 || RATE_CODES.has(code)) {
    const reset = Number(headers.get('X-Bapi-Limit-Reset-Timestamp'));
    const wait =
      Number.isSafeInteger(reset) && reset > 0 ? Math.max(0, reset - Date.now()) : undefined;
    return {
      kind: 'rateLimited',
      retryAfterMs: retryAfterMs(headers.get('Retry-After')) ?? wait ?? 1000,
    };
  }
  if (status === 401 || AUTH_CODES.has(code)) return { kind: 'auth' };
  if (code === 10002) return { kind: 'clockSkew' };
  if (status >= 500 || TRANSIENT_CODES.has(code))
    return { kind: 'transient', why: `HTTP ${status}` };
  if (status !== 200 || !isRecord(body)) return { kind: 'rejected', why: `HTTP ${status}` };
  if (code !== 0)
    return { kind: 'rejected', why: `retCode ${Number.isFinite(code) ? code : 'none'}` };
  const result = body['result'];
  return { kind: 'ok', data: result };
}

/**
 * Bybit's limits as pools of the shared limiter (rate-limit.mdx): per IP, 600 requests in any
 * 5 s (else HTTP 403 and a 10-minute ban), shared by every session behind the egress; per UID
 * and endpoint, a rolling second (execution/list, closed-pnl, wallet-balance 50/s; choice for
 * the others). Both are rolling windows, hence `rollingPool`.
 */
export const BYBIT_IP_POOLS: readonly WeightPool[] = [rollingPool('ip', 600, 5000)];
export const BYBIT_UID_LIMITS: Readonly<Record<string, number>> = {
  '/v5/execution/list': 50,
  '/v5/position/closed-pnl': 50,
  '/v5/account/wallet-balance': 50,
  '/v5/user/query-api': 10,
  '/v5/asset/deposit/query-record': 5,
  '/v5/asset/withdraw/query-record': 5,
};
const UID_POOLS: readonly WeightPool[] = Object.entries(BYBIT_UID_LIMITS).map(([path, n]) =>
  rollingPool(path, n, 1000),
);

/**
 * A "Too many visits!" inside an HTTP 200 is a 429 to the limiter, with the wait Bybit names in
 * X-Bapi-Limit-Reset-Timestamp; the IP ban (HTTP 403) is a 418 of 10 minutes.
 */
export const bybitObserve: Observe = (_e, status, headers, v) => {
  const out = Object.fromEntries(headers.entries());
  if (v.kind !== 'rateLimited') return { status, headers: out };
  const secs = Math.max(1, Math.ceil((v.retryAfterMs ?? 1000) / 1000));
  return { status: status === 403 ? 418 : 429, headers: { ...out, 'retry-after': String(secs) } };
};

/**
 * Executions of one category → fills, Funding rows left out. Bybit reports realized PnL per
 * closing order (closed-pnl), not per fill: the order's gross PnL (closedPnl + openFee +
 * closeFee, see ./bybit-rows.ts) goes on its last fill (by time, then execId) and "0" on its
 * other fills, so their sum is the exchange's figure; an opening fill (closedSize "0") realizes
 * nothing. A closing fill whose order has no closed-pnl row carries no figure: the engine then
 * computes it against the average entry, as Bybit does for linear contracts.
 */
export function bybitFills(
  rows: readonly RawExecution[],
  pnl: readonly ClosedPnl[],
  inst: (symbol: string) => Instrument,
): (SpotFill | FuturesFill)[] {
  const gross = new Map<string, string>();
  for (const p of pnl) {
    const k = `${p.symbol}|${p.orderId}`;
    const g = addSignedDecimals(p.closedPnl, addSignedDecimals(p.openFee, p.closeFee));
    gross.set(k, addSignedDecimals(gross.get(k) ?? '0', g));
  }
  const fills = rows.filter((e) => e.execType !== 'Funding');
  const last = new Map<string, RawExecution>();
  for (const e of fills) {
    const k = `${e.symbol}|${e.orderId}`;
    const p = last.get(k);
    if (!p || e.ts > p.ts || (e.ts === p.ts && e.execId > p.execId)) last.set(k, e);
  }
  return fills.map((e) => {
    const f = toBybitFill(e, inst(e.symbol));
    if (e.category === 'spot') return f;
    const ff = f as FuturesFill;
    const k = `${e.symbol}|${e.orderId}`;
    const g = gross.get(k);
    if (g !== undefined) ff.realizedPnl = last.get(k) === e ? g : '0';
    else if (e.closedSize === '0') ff.realizedPnl = '0';
    return ff;
  });
}

/** The Funding rows of one derivative category → signed funding events (> 0 received). */
export function bybitFunding(
  rows: readonly RawExecution[],
  inst: (symbol: string) => Instrument,
): FundingEvent[] {
  return rows.filter((e) => e.execType === 'Funding').map((e) => toBybitFunding(e, inst(e.symbol)));
}
