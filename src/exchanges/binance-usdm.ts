/**
 * Binance USDⓈ-M futures adapter (exchange id `binanceusdm`): fills via GET /fapi/v1/userTrades
 * per symbol, funding and transfers via GET /fapi/v1/income, wallet balances via
 * GET /fapi/v2/balance. The key's permissions, the account id and the candles come from the
 * spot API (same Binance account and key), through a spot client sharing the same limiters.
 *
 * Reach (research/exchanges.md §4): userTrades keeps 6 months, income 3 months, so a download is
 * complete from now − 90 days (`historySince`); older futures history needs the async CSV export,
 * which this adapter does not use.
 *
 * Paging is ours (ccxt only signs): per symbol a `fromId` cursor from 0, next = max id + 1, until
 * a page brings no id ≥ fromId (an EMPTY page; short pages prove nothing). Income is walked in
 * 7-day windows (the endpoint's span), oldest first, with an inclusive time cursor and rows
 * keyed by tranId, until a page brings nothing new.
 */
import type { FeeEvent, FundingEvent, FuturesFill, TransferEvent } from '../aggregates/ledger.js';
import { isRecord, malformed, resumeId, safeInt, ASSET } from './binance-common.js';
import { BINANCE_USDM_POOLS, binanceUsdmCost } from './binance-limits.js';
import { attachTransport, loadCcxtClass, redirect, safeOrigin } from './binance-transport.js';
import { createBinanceClient, type BinanceClientOptions } from './binance.js';
import { LimiterRegistry } from './limiter.js';
import {
  ExchangeError,
  type AccountEvent,
  type ExchangeClient,
  type FetchFillsOptions,
  type FetchFlowsOptions,
} from './types.js';

const DAY = 86_400_000;
/** /fapi/v1/income: at most 7 days per request; 3 months of history */
export const INCOME_WINDOW_MS = 7 * DAY;
export const INCOME_HORIZON_MS = 90 * DAY;
/** /fapi/v1/userTrades: at most 7 days between startTime and endTime; 6 months of history */
export const TRADES_WINDOW_MS = 7 * DAY;
export const TRADES_HORIZON_MS = 180 * DAY;
const PAGE = 1000;
/** a server that never stops sending new rows must not keep us paging forever */
const MAX_PAGES_PER_SYMBOL = 100_000;
const DEC = /^-?\d{1,30}(\.\d{1,30})?$/;

export interface BinanceUsdmClientOptions extends BinanceClientOptions {
  /** origin for the spot API (permissions, account id, candles); default `baseUrl` */
  spotBaseUrl?: string;
}

interface UsdmMarket {
  id: string;
  base: string;
  quote: string;
  settle: string;
}

/**
 * @example
 * const c = await createBinanceUsdmClient({ apiKey, apiSecret,
 *   allowHosts: ['fapi.binance.com', 'api.binance.com'], limiters });
 * const fills = await c.fetchFills({});
 */
export async function createBinanceUsdmClient(
  opts: BinanceUsdmClientOptions,
): Promise<ExchangeClient> {
  const limiters = opts.limiters ?? new LimiterRegistry();
  const spot = await createBinanceClient({
    ...opts,
    baseUrl: opts.spotBaseUrl ?? opts.baseUrl,
    limiters,
  });
  const origin = opts.baseUrl === undefined ? 'https://fapi.binance.com' : safeOrigin(opts.baseUrl);
  const limiter = limiters.get(
    `binanceusdm|${origin}`,
    opts.egress ?? 'default',
    BINANCE_USDM_POOLS,
  );
  const Usdm = await loadCcxtClass('binanceusdm');
  const ex = new Usdm({
    apiKey: opts.apiKey,
    secret: opts.apiSecret,
    enableRateLimit: false, // the shared limiter paces (./limiter.ts)
    timeout: opts.timeoutMs ?? 10_000,
    options: { fetchCurrencies: false, fetchMargins: false, fetchMarkets: { types: ['linear'] } },
  });
  if (opts.baseUrl !== undefined) redirect(ex, opts.baseUrl);
  const call = attachTransport(ex, {
    allowed: new Set(opts.allowHosts.map((h) => h.toLowerCase())),
    limiter,
    cost: (path) => binanceUsdmCost(path),
    retry: {
      maxRetries: opts.maxRetries ?? 4,
      maxPauseMs: opts.maxRetryAfterMs ?? 65_000,
      budgetMs: opts.rateLimitBudgetMs ?? 180_000,
    },
  });

  /** Listed perpetuals by id (exchangeInfo), parsed by us: ccxt's market parser is not needed. */
  async function listed(): Promise<Map<string, UsdmMarket>> {
    const info: unknown = await call(() => ex.fapiPublicGetExchangeInfo());
    if (!isRecord(info) || !Array.isArray(info['symbols'])) throw malformed('fapi exchangeInfo');
    const out = new Map<string, UsdmMarket>();
    for (const s of info['symbols']) {
      if (!isRecord(s)) throw malformed('fapi symbol');
      const { symbol, baseAsset, quoteAsset, marginAsset } = s;
      if (
        typeof symbol !== 'string' ||
        !ASSET.test(symbol) ||
        typeof baseAsset !== 'string' ||
        !ASSET.test(baseAsset) ||
        typeof quoteAsset !== 'string' ||
        !ASSET.test(quoteAsset)
      )
        throw malformed('fapi symbol fields');
      const settle =
        typeof marginAsset === 'string' && ASSET.test(marginAsset) ? marginAsset : quoteAsset;
      out.set(symbol, { id: symbol, base: baseAsset, quote: quoteAsset, settle });
    }
    return out;
  }

  /**
   * Income rows of one type in [since, until], walked in 7-day windows. Within a window the
   * cursor is the last row's time, inclusive (rows sharing a millisecond may straddle a page),
   * and rows are keyed by tranId; a full page that is one single millisecond cannot be paged by
   * time, and is an error rather than a silent loss.
   */
  async function income(
    type: string,
    since: number,
    until: number,
  ): Promise<Record<string, unknown>[]> {
    const rows = new Map<string, Record<string, unknown>>();
    for (let start = since; start <= until; start += INCOME_WINDOW_MS) {
      const end = Math.min(start + INCOME_WINDOW_MS - 1, until);
      for (let cursor = start; ;) {
        const page: unknown = await call(() =>
          ex.fapiPrivateGetIncome({
            incomeType: type,
            startTime: String(cursor),
            endTime: String(end),
            limit: String(PAGE),
          }),
        );
        if (!Array.isArray(page)) throw malformed('income');
        let fresh = 0;
        let last = cursor;
        for (const r of page) {
          if (!isRecord(r)) throw malformed('income row');
          const id = r['tranId'];
          const t = safeInt(r['time']);
          if ((typeof id !== 'number' && typeof id !== 'string') || t === undefined)
            throw malformed('income id or time');
          if (t < cursor || t > end) continue;
          last = Math.max(last, t);
          const key = `${String(id)}|${String(r['incomeType'])}`;
          if (!rows.has(key)) {
            rows.set(key, r);
            fresh++;
          }
        }
        if (fresh === 0) break; // nothing new: the window is done
        if (page.length >= PAGE && last === cursor)
          throw new ExchangeError('EXCHANGE_UNAVAILABLE', 'more income rows in one ms than a page');
        cursor = last;
      }
    }
    return [...rows.values()];
  }

  /** Every symbol the account may have traded within the horizons: listed, income, positions. */
  /**
   * Every symbol to scan, and the ones known to have been traded (named by income or a
   * position): for those an empty first `fromId` page is not believed (see `firstId`).
   */
  async function symbols(
    now: number,
  ): Promise<{ all: Map<string, UsdmMarket>; traded: Set<string> }> {
    const out = new Map(await listed());
    const since = now - INCOME_HORIZON_MS;
    // a delisted symbol is gone from exchangeInfo but still named by its income rows: every
    // fill has a COMMISSION row; a position older than that still shows in positionRisk
    const traded = await incomeSymbols('COMMISSION', since, now);
    const pos: unknown = await call(() => ex.fapiPrivateV2GetPositionRisk());
    if (!Array.isArray(pos)) throw malformed('positionRisk');
    for (const p of pos) {
      if (!isRecord(p) || typeof p['symbol'] !== 'string' || !ASSET.test(p['symbol']))
        throw malformed('position row');
      traded.add(p['symbol']);
    }
    for (const t of traded) if (!out.has(t)) out.set(t, guess(t));
    return { all: out, traded };
  }

  /**
   * The first trade id the exchange still keeps for `m`, found by walking 7-day windows
   * (userTrades' maximum span) forward over the 6-month reach; null when there is none. Used when
   * `fromId=0` answers nothing for a symbol we know was traded: the docs do not say what a
   * `fromId` older than the retained history returns (research §7), so we do not rely on it.
   */
  async function firstId(m: UsdmMarket, now: number): Promise<bigint | null> {
    for (let start = now - TRADES_HORIZON_MS; start <= now; start += TRADES_WINDOW_MS) {
      const end = Math.min(start + TRADES_WINDOW_MS - 1, now);
      const rows: unknown = await call(() =>
        ex.fapiPrivateGetUserTrades({
          symbol: m.id,
          startTime: String(start),
          endTime: String(end),
          limit: PAGE,
        }),
      );
      if (!Array.isArray(rows)) throw malformed('userTrades');
      let min: bigint | null = null;
      for (const r of rows) {
        const id = BigInt(toFuturesFill(m, r).id);
        if (min === null || id < min) min = id;
      }
      if (min !== null) return min;
    }
    return null;
  }

  /**
   * Symbols named by income rows of one type. Used only to find symbols, so a millisecond with
   * more rows than a page (a 2,000-fill order's commissions) is stepped over, not an error: the
   * fills themselves come from userTrades.
   */
  async function incomeSymbols(type: string, since: number, until: number): Promise<Set<string>> {
    const out = new Set<string>();
    for (let start = since; start <= until; start += INCOME_WINDOW_MS) {
      const end = Math.min(start + INCOME_WINDOW_MS - 1, until);
      for (let cursor = start; cursor <= end;) {
        const page: unknown = await call(() =>
          ex.fapiPrivateGetIncome({
            incomeType: type,
            startTime: String(cursor),
            endTime: String(end),
            limit: String(PAGE),
          }),
        );
        if (!Array.isArray(page)) throw malformed('income');
        if (page.length === 0) break;
        let last = cursor;
        for (const r of page) {
          if (!isRecord(r)) throw malformed('income row');
          const t = safeInt(r['time']);
          if (t === undefined) throw malformed('income time');
          last = Math.max(last, t);
          if (typeof r['symbol'] === 'string' && ASSET.test(r['symbol'])) out.add(r['symbol']);
        }
        if (page.length < PAGE) break; // only symbols are wanted; a short page ends the window
        cursor = last === cursor ? last + 1 : last;
      }
    }
    return out;
  }

  async function fetchFills(o: FetchFillsOptions = {}): Promise<FuturesFill[]> {
    const now = Date.now();
    const out: FuturesFill[] = [];
    const { all, traded } = await symbols(now);
    for (const m of [...all.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const seen = new Set<string>();
      let fromId = resumeId(o.fromIds, unified(m));
      let located = false;
      for (let pages = 1; ; pages++) {
        if (pages > MAX_PAGES_PER_SYMBOL) throw malformed('userTrades does not end');
        const rows: unknown = await call(() =>
          ex.fapiPrivateGetUserTrades({ symbol: m.id, fromId: fromId.toString(), limit: PAGE }),
        );
        if (!Array.isArray(rows)) throw malformed('userTrades');
        let max = -1n;
        for (const r of rows) {
          const f = toFuturesFill(m, r);
          const id = BigInt(f.id);
          if (id < fromId) continue; // repeats the previous page's edge
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
        o.onProgress?.({ symbol: unified(m), pages, fills: seen.size });
        if (max < fromId && fromId === 0n && !located && traded.has(m.id)) {
          located = true;
          const first = await firstId(m, now);
          if (first === null) break;
          fromId = first;
          continue;
        }
        if (max < fromId) break; // empty (or only repeats): the symbol is done
        fromId = max + 1n;
      }
    }
    return out.sort(
      (a, b) =>
        a.ts - b.ts ||
        (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0) ||
        cmpId(a.id, b.id),
    );
  }

  async function fetchFlows(o: FetchFlowsOptions): Promise<AccountEvent[]> {
    const until = o.until ?? Date.now();
    const since = Math.max(o.since, until - INCOME_HORIZON_MS);
    const out: AccountEvent[] = [];
    for (const type of ['FUNDING_FEE', 'TRANSFER', 'INSURANCE_CLEAR'] as const) {
      for (const r of await income(type, since, until)) {
        const e = toIncomeEvent(r);
        if (e) out.push(e);
      }
    }
    return out.sort((a, b) => a.ts - b.ts);
  }

  return {
    venue: spot.venue, // candles are the spot API's
    accountId: () => spot.accountId(),
    permissions: () => spot.permissions(),
    historySince: (now) => now - INCOME_HORIZON_MS,
    fetchFills,
    fetchFlows,
    async balances() {
      const rows: unknown = await call(() => ex.fapiPrivateV2GetBalance());
      if (!Array.isArray(rows)) throw malformed('fapi balance');
      const out: Record<string, string> = {};
      for (const b of rows) {
        if (!isRecord(b)) throw malformed('fapi balance row');
        const { asset, balance } = b;
        if (typeof asset !== 'string' || !ASSET.test(asset)) throw malformed('fapi balance asset');
        if (typeof balance !== 'string' || !DEC.test(balance))
          throw malformed('fapi balance amount');
        // wallet balance: realized PnL, commission, funding and transfers; never unrealized PnL
        if (/[1-9]/.test(balance)) out[asset] = balance;
      }
      return out;
    },
    klines: (symbol, interval, startTime, endTime) =>
      spot.klines(symbol, interval, startTime, endTime),
  };
}

/** A delisted symbol's assets, from its id (every USDⓈ-M perpetual settles in its quote). */
function guess(id: string): UsdmMarket {
  for (const q of ['USDT', 'USDC', 'BUSD']) {
    if (id.endsWith(q) && id.length > q.length) {
      const base = id.slice(0, -q.length);
      return { id, base, quote: q, settle: q };
    }
  }
  return { id, base: id, quote: 'USDT', settle: 'USDT' };
}

const unified = (m: UsdmMarket) => `${m.base}/${m.quote}:${m.settle}`;

function cmpId(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function intString(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^(0|[1-9]\d{0,19})$/.test(v)) return v;
  return undefined;
}

/** Validates one userTrades row (untrusted) and maps it to a FuturesFill. */
export function toFuturesFill(m: UsdmMarket, r: unknown): FuturesFill {
  if (!isRecord(r)) throw malformed('userTrades row');
  if (r['symbol'] !== undefined && r['symbol'] !== m.id)
    throw malformed('trade for another symbol');
  const id = intString(r['id']);
  const orderId = intString(r['orderId']);
  const ts = safeInt(r['time']);
  const { price, qty, quoteQty, commission, commissionAsset, realizedPnl, side } = r;
  if (id === undefined || orderId === undefined || ts === undefined)
    throw malformed('trade ids or time');
  const amounts = [price, qty, quoteQty, commission, realizedPnl];
  if (!amounts.every((s) => typeof s === 'string' && DEC.test(s))) throw malformed('trade amounts');
  if (typeof commissionAsset !== 'string' || !ASSET.test(commissionAsset))
    throw malformed('commission asset');
  if (side !== 'BUY' && side !== 'SELL') throw malformed('trade side');
  if (typeof r['maker'] !== 'boolean') throw malformed('trade flags');
  return {
    exchange: 'binanceusdm',
    market: 'futures',
    symbol: unified(m),
    base: m.base,
    quote: m.quote,
    id,
    orderId,
    side: side === 'BUY' ? 'buy' : 'sell',
    price: price as string,
    qty: qty as string,
    quoteQty: quoteQty as string,
    fee: commission as string,
    feeAsset: commissionAsset,
    maker: r['maker'],
    ts,
    realizedPnl: realizedPnl as string,
    settleAsset: m.settle,
  };
}

/** Maps an income row to the engine's event; undefined for a zero amount. */
export function toIncomeEvent(
  r: Record<string, unknown>,
): FundingEvent | TransferEvent | FeeEvent | undefined {
  const { incomeType, income, asset, symbol } = r;
  const ts = safeInt(r['time']);
  const id = intString(r['tranId']);
  if (ts === undefined || id === undefined) throw malformed('income id or time');
  if (typeof income !== 'string' || !DEC.test(income)) throw malformed('income amount');
  if (typeof asset !== 'string' || !ASSET.test(asset)) throw malformed('income asset');
  if (!/[1-9]/.test(income)) return undefined;
  const sym = typeof symbol === 'string' && ASSET.test(symbol) ? symbol : undefined;
  switch (incomeType) {
    case 'FUNDING_FEE':
      return { type: 'funding', ts, asset, amount: income, id, ...(sym && { symbol: sym }) };
    case 'TRANSFER':
      // spot ↔ futures: an external flow of the measured futures wallet (signed, > 0 in)
      return { type: 'transfer', ts, asset, amount: income, id };
    case 'INSURANCE_CLEAR': {
      // a liquidation clearance fee: a cost, positive when paid
      const paid = income.startsWith('-') ? income.slice(1) : `-${income}`;
      return { type: 'fee', ts, asset, amount: paid, id, ...(sym && { symbol: sym }) };
    }
    default:
      throw malformed('income type');
  }
}
