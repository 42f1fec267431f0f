/**
 * The Coinbase simulator's endpoints (`./coinbase.ts` authenticates, meters and routes): what
 * each answers, with the page bounds and cursor rules of the real API ("choice:" where the docs
 * leave it open). Inputs are attacker-controlled query strings: parsed strictly, 400 otherwise.
 */
import { candle, type MarketPath } from './binance-market.js';
import { DAY, HOUR, fmt8, hash32, prng } from './binance-prim.js';
import { CB_PRODUCTS, type CbFill, type CbWallet } from './coinbase-data.js';
import type { CoinbaseSimAccountSpec } from './coinbase.js';

/** What an endpoint reads of an account. */
export interface EndpointAccount {
  spec: CoinbaseSimAccountSpec;
  fills: CbFill[];
  wallets: CbWallet[];
  portfolioId: string;
}

export class Reply extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super('reply');
  }
}
export const invalid = (details: string) =>
  new Reply(400, { error: 'INVALID_ARGUMENT', error_details: details, message: details });
const FILLS_PARAMS = new Set([
  'order_ids',
  'trade_ids',
  'product_ids',
  'start_sequence_timestamp',
  'end_sequence_timestamp',
  'retail_portfolio_id',
  'limit',
  'cursor',
  'sort_by',
]);
/** choice: the fills page maximum is not documented; 250 is ccxt's page size, larger is clamped */
export const MAX_FILLS_PAGE = 250;
const MAX_ACCOUNTS_PAGE = 250; // "limit: default 49, max 250" (List Accounts)
const MAX_TX_PAGE = 100; // v2 pagination: "limit … between 1 and 100, default 25"
const MAX_CANDLES = 350; // List Product Candles: at most 350 per request
const GRANULARITY: Record<string, number> = { ONE_HOUR: HOUR, SIX_HOUR: 6 * HOUR, ONE_DAY: DAY };

export function keyPermissions(a: EndpointAccount): unknown {
  return {
    can_view: true,
    can_trade: a.spec.canTrade === true,
    can_transfer: a.spec.canTransfer === true,
    portfolio_uuid: a.portfolioId,
    portfolio_type: 'DEFAULT',
  };
}

export function listAccounts(a: EndpointAccount, q: URLSearchParams): unknown {
  only(q, ['limit', 'cursor', 'retail_portfolio_id']);
  const limit = intIn(q.get('limit'), 1, MAX_ACCOUNTS_PAGE) ?? 49;
  const cursor = q.get('cursor');
  const from = cursor === null || cursor === '' ? 0 : decodeOffset(cursor);
  const rows = [...a.wallets].sort((x, y) => (x.uuid < y.uuid ? -1 : 1));
  const page = rows.slice(from, from + limit);
  const more = from + page.length < rows.length;
  return {
    accounts: page.map((w) => {
      // choice: a tenth of the USD balance is on hold (open orders); available + hold = balance
      const hold = w.currency === 'USD' ? w.balance / 10n : 0n;
      return {
        uuid: w.uuid,
        name: `${w.currency} Wallet`,
        currency: w.currency,
        available_balance: { value: fmt8(w.balance - hold), currency: w.currency },
        default: true,
        active: true,
        created_at: '2020-01-01T00:00:00Z',
        updated_at: '2020-01-01T00:00:00Z',
        deleted_at: null,
        type: w.currency === 'USD' ? 'ACCOUNT_TYPE_FIAT' : 'ACCOUNT_TYPE_CRYPTO',
        ready: true,
        hold: { value: fmt8(hold), currency: w.currency },
        retail_portfolio_id: a.portfolioId,
      };
    }),
    has_next: more,
    cursor: more ? encodeOffset(from + page.length) : '',
    size: page.length,
  };
}

export function listFills(a: EndpointAccount, q: URLSearchParams): unknown {
  for (const k of q.keys()) if (!FILLS_PARAMS.has(k)) throw invalid(`unknown parameter ${k}`);
  const limit = Math.min(intIn(q.get('limit'), 1, 100_000) ?? 100, MAX_FILLS_PAGE);
  const products = new Set(q.getAll('product_ids'));
  const start = timeParam(q.get('start_sequence_timestamp'));
  const endTs = timeParam(q.get('end_sequence_timestamp'));
  const rows = a.fills.filter(
    (f) =>
      (products.size === 0 || products.has(f.product_id)) &&
      (start === undefined || f.sequence_timestamp >= start) &&
      (endTs === undefined || f.sequence_timestamp <= endTs),
  );
  const cursor = q.get('cursor');
  let from = 0;
  if (cursor !== null && cursor !== '') {
    const after = decodeKey(cursor);
    from = rows.findIndex((f) => cmpKey(fillKey(f), after) < 0);
    if (from < 0) from = rows.length;
    // page-edge duplicates: the row the cursor points at is served again
    if (a.spec.pageEdgeDuplicates && from > 0) from--;
  }
  let size = limit;
  if (a.spec.shortPages) {
    const r = prng(hash32(cursor ?? '', rows.length))();
    // at least one row beyond a repeated one, or the cursor could not move
    size = Math.max(a.spec.pageEdgeDuplicates ? 2 : 1, Math.floor(r * limit));
  }
  const page = rows.slice(from, from + size);
  const more = from + page.length < rows.length;
  return {
    fills: page,
    cursor: more && page.length > 0 ? encodeKey(fillKey(page[page.length - 1]!)) : '',
  };
}

export function listTransactions(
  a: EndpointAccount,
  walletId: string,
  q: URLSearchParams,
): unknown {
  only(q, ['limit', 'starting_after', 'ending_before', 'order']);
  const w = a.wallets.find((x) => x.uuid === walletId);
  if (!w) throw new Reply(404, { errors: [{ id: 'not_found', message: 'Not found' }] });
  const limit = intIn(q.get('limit'), 1, MAX_TX_PAGE) ?? 25;
  const order = q.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc')
    throw new Reply(400, {
      errors: [{ id: 'invalid_request', message: 'order must be asc or desc' }],
    });
  if (q.has('ending_before'))
    throw new Reply(400, {
      errors: [{ id: 'invalid_request', message: 'sim: ending_before is not simulated' }],
    });
  const rows = [...w.transactions].sort((x, y) =>
    x.created_at < y.created_at ? -1 : x.created_at > y.created_at ? 1 : x.id < y.id ? -1 : 1,
  );
  if (order === 'desc') rows.reverse();
  const after = q.get('starting_after');
  let from = 0;
  if (after !== null) {
    const i = rows.findIndex((r) => r.id === after);
    if (i < 0)
      throw new Reply(400, {
        errors: [{ id: 'invalid_request', message: 'starting_after is not a transaction id' }],
      });
    from = i + 1;
  }
  const page = rows.slice(from, from + limit);
  const more = from + page.length < rows.length;
  const lastId = page[page.length - 1]?.id ?? null;
  const path = `/v2/accounts/${w.uuid}/transactions`;
  return {
    pagination: {
      ending_before: null,
      starting_after: after,
      previous_ending_before: null,
      next_starting_after: more ? lastId : null,
      limit,
      order,
      previous_uri: null,
      next_uri: more ? `${path}?limit=${limit}&order=${order}&starting_after=${lastId}` : null,
    },
    data: page,
  };
}

export function products(q: URLSearchParams, price: (product: string) => string | null): unknown {
  only(q, ['limit', 'offset', 'product_type', 'product_ids', 'get_all_products']);
  const listed = CB_PRODUCTS.filter((s) => s.listed);
  const offset = intIn(q.get('offset'), 0, 1_000_000) ?? 0;
  const limit = intIn(q.get('limit'), 1, 1_000_000) ?? listed.length;
  return {
    products: listed.slice(offset, offset + limit).map((s) => ({
      product_id: s.symbol,
      price: price(s.symbol) ?? '0',
      base_increment: fmt8(s.stepE8),
      quote_increment: fmt8(s.tickE8),
      base_currency_id: s.base,
      quote_currency_id: s.quote,
      base_display_symbol: s.base,
      quote_display_symbol: s.quote,
      status: 'online',
      trading_disabled: false,
      is_disabled: false,
      product_type: 'SPOT',
    })),
    num_products: listed.length,
  };
}

/** start/end are unix seconds; candles newest first; at most 350 (choice: 400 beyond). */
export function candles(
  markets: ReadonlyMap<string, MarketPath>,
  productId: string,
  q: URLSearchParams,
  now: number,
): unknown {
  only(q, ['start', 'end', 'granularity', 'limit']);
  const m = markets.get(productId);
  const prod = CB_PRODUCTS.find((s) => s.symbol === productId);
  if (!m || !prod?.listed)
    throw new Reply(404, { error: 'NOT_FOUND', message: 'product not found' });
  const gran = GRANULARITY[q.get('granularity') ?? ''];
  if (gran === undefined)
    throw invalid('granularity is required (ONE_HOUR, SIX_HOUR, ONE_DAY in the simulator)');
  const start = intIn(q.get('start'), 0, 1e11);
  const stop = intIn(q.get('end'), 0, 1e11);
  if (start === undefined || stop === undefined || start > stop)
    throw invalid('start and end are required, start <= end');
  const limit = intIn(q.get('limit'), 1, MAX_CANDLES) ?? MAX_CANDLES;
  const lo = Math.ceil((start * 1000) / gran) * gran;
  const hi = Math.min(stop * 1000, now, m.end - 1);
  if ((stop * 1000 - lo) / gran >= MAX_CANDLES + 1)
    throw invalid(`number of candles requested should be less than ${MAX_CANDLES + 1}`);
  const out: unknown[] = [];
  for (let t = Math.max(lo, m.origin); t <= hi && out.length < limit; t += gran) {
    const k = candle(m, t, gran, now);
    out.push({
      start: String(t / 1000),
      low: k[3],
      high: k[2],
      open: k[1],
      close: k[4],
      volume: k[5],
    });
  }
  return { candles: out.reverse() };
}

export const fillKey = (f: CbFill) => `${f.sequence_timestamp}|${f.entry_id}`;
export const cmpKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const encodeKey = (k: string) => Buffer.from(`k:${k}`).toString('base64url');
function decodeKey(c: string): string {
  const s = Buffer.from(c, 'base64url').toString('utf8');
  if (!/^k:\d{4}-\d\d-\d\dT[\d:.]+Z\|[0-9a-f-]{36}$/.test(s)) throw invalid('invalid cursor');
  return s.slice(2);
}
const encodeOffset = (n: number) => Buffer.from(`o:${n}`).toString('base64url');
function decodeOffset(c: string): number {
  const m = /^o:(\d{1,9})$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  if (!m) throw invalid('invalid cursor');
  return Number(m[1]);
}

export function only(q: URLSearchParams, allowed: string[]): void {
  for (const k of q.keys()) if (!allowed.includes(k)) throw invalid(`unknown parameter ${k}`);
}

function intIn(v: string | null, min: number, max: number): number | undefined {
  if (v === null) return undefined;
  if (!/^\d{1,12}$/.test(v) || Number(v) < min || Number(v) > max)
    throw invalid(`value ${v} is out of range`);
  return Number(v);
}

/** RFC 3339 → the fixed-width form the rows use, so string order is time order. */
function timeParam(v: string | null): string | undefined {
  if (v === null) return undefined;
  const t = Date.parse(v);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/.test(v) || Number.isNaN(t))
    throw invalid('invalid timestamp');
  const frac = (/\.(\d+)Z$/.exec(v)?.[1] ?? '').padEnd(6, '0').slice(0, 6);
  return `${new Date(t).toISOString().slice(0, 19)}.${frac}Z`;
}
