/**
 * OKX v5 adapter: fills of the last 3 months via GET /api/v5/trade/fills-history (SPOT, MARGIN,
 * SWAP, FUTURES), funding via the bills archive (type 8), deposits, withdrawals, balances and
 * the key's permissions.
 *
 * ccxt's okx class (imported alone) only signs: OK-ACCESS-SIGN = base64 HMAC-SHA256(secret,
 * timestamp + METHOD + path?query + body), with OK-ACCESS-KEY, OK-ACCESS-PASSPHRASE and the ISO
 * OK-ACCESS-TIMESTAMP. Paging is ours: `after` = the smallest billId of the page (rows older
 * than it), until an EMPTY page. billIds are unique per account, so fills that share a
 * millisecond cannot straddle a page edge unseen; rows are keyed by billId, so a row repeated at
 * a page edge counts once.
 *
 * Older fills (up to 2 years): OKX serves them only as quarterly archive files (GET/POST
 * /api/v5/trade/fills-archive, a zipped CSV on OKX's file host), fetched when `archiveHosts` names
 * that host (./okx-archive.ts). A file still being generated shrinks what the download covers
 * (FetchFillsOptions.onCoverage) instead of being waited for.
 */
import type { okx as OkxExchange } from 'ccxt';
import { compareFills } from '../aggregates/fill.js';
import type { FundingEvent, FuturesFill, SpotFill } from '../aggregates/ledger.js';
import { compareEvents } from '../aggregates/ledger.js';
import { isRecord, malformed } from './binance-common.js';
import { DEC, addSignedDecimals } from './decimal.js';
import {
  guessOkxInstrument,
  parseOkxFill,
  toOkxDeposit,
  toOkxFill,
  toOkxFunding,
  toOkxInstrument,
  toOkxWithdrawal,
  type InstType,
  type OkxInstrument,
  type RawOkxFill,
} from './okx-rows.js';
import {
  archiveRowToFill,
  parseArchiveCsv,
  parseArchiveStatus,
  quarterLabel,
  quartersOverlapping,
} from './okx-archive.js';
import { readSingleZipEntry } from './zip.js';
import {
  createSender,
  loadCcxtClass,
  retryAfterMs,
  keyId,
  rollingPool,
  type Budget,
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

export interface OkxClientOptions extends SignedClientOptions {
  passphrase?: string;
  /**
   * Hosts a fills-archive `fileHref` may point to (OKX's file host; the simulator's own host in
   * dev). Absent or empty: the archive is not fetched and a download covers 90 days.
   */
  archiveHosts?: string[];
}

export interface OkxClient extends ExchangeClient {
  /** the funding part of fetchFlows alone: every funding payment of SWAP positions in [since, until] (3 months), signed (> 0 received) */
  fetchFunding(o: FetchFlowsOptions): Promise<FundingEvent[]>;
}

type Okx = InstanceType<typeof OkxExchange>;

const DAY = 86_400_000;
/** fills-history and the bills archive: "last 3 months" */
export const HISTORY_MS = 90 * DAY;
/** the fills archive: "fills older than 3 months, up to 2 years" (**assumption**: 730 days) */
export const ARCHIVE_MS = 730 * DAY;
/** largest archive ZIP and CSV accepted (one quarter of one account) */
const ARCHIVE_MAX_BYTES = 256 << 20;
const ARCHIVE_PATH = '/api/v5/trade/fills-archive';
const INST_TYPES: readonly InstType[] = ['SPOT', 'MARGIN', 'SWAP', 'FUTURES'];
const PAGE = '100';
const MAX_PAGES = 100_000;

/**
 * Requests per window, per user for private endpoints and per IP for public ones (OKX v5 docs
 * per endpoint; **assumption**: as ccxt encodes them, not verified against the live API). OKX
 * sends no usage headers; its windows are rolling (ccxt okx.js), hence `rollingPool`.
 */
export const OKX_LIMITS: Record<string, { n: number; ms: number }> = {
  '/api/v5/trade/fills-history': { n: 10, ms: 2000 },
  '/api/v5/account/bills-archive': { n: 5, ms: 2000 },
  // "Get fills archive" and "Apply for fills archive": 5 / 2 s per user id each
  '/api/v5/trade/fills-archive': { n: 5, ms: 2000 },
  'POST /api/v5/trade/fills-archive': { n: 5, ms: 2000 },
  '/api/v5/account/balance': { n: 10, ms: 2000 },
  '/api/v5/account/config': { n: 5, ms: 2000 },
  '/api/v5/asset/deposit-history': { n: 6, ms: 1000 },
  '/api/v5/asset/withdrawal-history': { n: 6, ms: 1000 },
  '/api/v5/public/instruments': { n: 20, ms: 2000 },
  '/api/v5/public/time': { n: 10, ms: 2000 },
};

const PUBLIC = new Set(['/api/v5/public/instruments', '/api/v5/public/time']);
const pools = (pub: boolean): WeightPool[] =>
  Object.entries(OKX_LIMITS)
    .filter(([path]) => PUBLIC.has(path) === pub)
    .map(([path, l]) => rollingPool(path, l.n, l.ms));
export const OKX_IP_POOLS: readonly WeightPool[] = pools(true);
const USER_POOLS: readonly WeightPool[] = pools(false);

const AUTH_CODES = new Set([
  '50100', // API frozen
  '50101', // APIKey does not match the environment
  '50103', // OK-ACCESS-KEY missing
  '50104', // OK-ACCESS-PASSPHRASE missing
  '50105', // OK-ACCESS-PASSPHRASE incorrect
  '50110', // IP not whitelisted
  '50111', // invalid OK-ACCESS-KEY
  '50113', // invalid signature
]);
const CLOCK_CODES = new Set(['50102', '50112']); // timestamp expired / invalid
const RATE_CODES = new Set(['50011', '50061']); // too many requests (endpoint / sub-account)
const TRANSIENT_CODES = new Set(['50001', '50004', '50013', '50026']); // maintenance, timeout, busy

let okxClass: Promise<typeof OkxExchange> | undefined;

/**
 * @example
 * const c = await createOkxClient({ apiKey, apiSecret, passphrase, allowHosts: ['www.okx.com'] });
 * const fills = await c.fetchFills({});
 */
export async function createOkxClient(opts: OkxClientOptions): Promise<OkxClient> {
  if (!opts.apiKey || !opts.apiSecret || !opts.passphrase)
    throw new ExchangeError('EXCHANGE_AUTH_FAILED', 'API key, secret and passphrase are required');
  okxClass ??= loadCcxtClass<typeof OkxExchange>('okx');
  const Okx = await okxClass.catch((e: unknown) => {
    okxClass = undefined;
    throw e;
  });
  const ex: Okx = new Okx({
    apiKey: opts.apiKey,
    secret: opts.apiSecret,
    password: opts.passphrase,
  });
  const origin = opts.baseUrl === undefined ? undefined : baseOrigin(opts.baseUrl);
  if (origin !== undefined) {
    const api = ex.urls['api'] as Record<string, unknown>;
    for (const k of Object.keys(api)) api[k] = origin;
  }

  const signed =
    (
      path: string,
      params: Record<string, string>,
      api: 'public' | 'private' = 'private',
      method: 'GET' | 'POST' = 'GET',
    ) =>
    (): SignedRequest => {
      const r = ex.sign(path, api, method, params) as {
        url: string;
        headers?: Record<string, string>;
        body?: string;
      };
      return {
        url: r.url,
        method,
        headers: r.headers ?? {},
        ...(typeof r.body === 'string' && { body: r.body }),
      };
    };

  const venue = `okx|${origin ?? 'https://www.okx.com'}`;
  const registry = opts.limiters ?? new LimiterRegistry();
  const egress = opts.egress ?? 'default';
  const send = createSender({
    ...opts,
    limiters: [
      {
        limiter: registry.get(venue, egress, OKX_IP_POOLS),
        cost: (endpoint) => (PUBLIC.has(endpoint) ? { [endpoint]: 1 } : {}),
      },
      {
        limiter: registry.get(`${venue}|key:${keyId(opts.apiKey)}`, egress, USER_POOLS),
        cost: (endpoint) => (PUBLIC.has(endpoint) ? {} : { [endpoint]: 1 }),
      },
    ],
    classify: classifyOkx,
    async resync() {
      const r = await send('/api/v5/public/time', signed('public/time', {}, 'public'), {
        rateWaitMs: 0,
      });
      const t = Array.isArray(r) && isRecord(r[0]) ? Number(r[0]['ts']) : NaN;
      if (!Number.isSafeInteger(t)) throw malformed('server time');
      ex.options['timeDifference'] = Date.now() - t;
    },
  });

  const archiveHosts = opts.archiveHosts ?? [];
  const archive = archiveHosts.length > 0;
  // The archive file is fetched unsigned from OKX's file host, with the same egress checks,
  // retries and limiter as every request, but its own allow-list: only the file host(s).
  const download = createSender({
    ...opts,
    allowHosts: archiveHosts,
    timeoutMs: Math.max(opts.timeoutMs ?? 0, 120_000),
    binary: { maxBytes: ARCHIVE_MAX_BYTES },
    limiters: [
      {
        // choice: the file host publishes no limit; 2 downloads a second is far below any CDN's
        limiter: registry.get(`okx-archive-files|${egress}`, egress, [
          rollingPool('file', 2, 1000),
        ]),
        cost: () => ({ file: 1 }),
      },
    ],
    classify: classifyFile,
  });

  const get = async (
    path: string,
    params: Record<string, string>,
    budget: Budget,
    api: 'public' | 'private' = 'private',
  ): Promise<unknown[]> => {
    const r = await send(`/api/v5/${path}`, signed(path, params, api), budget);
    if (!Array.isArray(r)) throw malformed(path);
    return r;
  };

  const books = new Map<InstType, Promise<Map<string, OkxInstrument>>>();
  function book(t: InstType, budget: Budget): Promise<Map<string, OkxInstrument>> {
    let p = books.get(t);
    if (!p) {
      // margin pairs are spot pairs; one public listing serves both
      p = get(
        'public/instruments',
        { instType: t === 'MARGIN' ? 'SPOT' : t },
        budget,
        'public',
      ).then((rows) => {
        const m = new Map<string, OkxInstrument>();
        for (const r of rows) {
          const e = toOkxInstrument(t, r);
          if (e) m.set(e[0], e[1]);
        }
        return m;
      });
      p.catch(() => books.delete(t));
      books.set(t, p);
    }
    return p;
  }
  /**
   * A delisted spot pair is named from its id. An expired future is gone from the listing with
   * its contract value; the perpetual of the same pair has the same one (**assumption**: OKX
   * sizes a pair's futures and swaps alike, e.g. 0.01 BTC for BTC-USDT).
   */
  async function instrument(t: InstType, instId: string, budget: Budget): Promise<OkxInstrument> {
    const listed = (await book(t, budget)).get(instId);
    if (listed) return listed;
    const guess = guessOkxInstrument(t, instId);
    if (!guess) throw malformed(`unknown ${t} instrument`);
    if (t === 'SPOT' || t === 'MARGIN') return guess;
    const [base, quote] = instId.split('-');
    const swap = (await book('SWAP', budget)).get(`${base}-${quote}-SWAP`);
    if (!swap?.ctVal) throw malformed(`no contract value for ${instId}`);
    return { ...guess, ctVal: swap.ctVal, inverse: swap.inverse };
  }

  const range = (o: { since?: number; until?: number }, reach = HISTORY_MS) => {
    const until = o.until ?? Date.now();
    const since = Math.max(o.since ?? 0, until - reach);
    if (!Number.isSafeInteger(since) || !Number.isSafeInteger(until))
      throw new RangeError('since/until must be integer milliseconds');
    return { since, until };
  };

  /** billId-paged rows, newest first: `after` = the page's smallest billId, until an empty page. */
  async function byBillId(
    path: string,
    base: Record<string, string>,
    budget: Budget,
    onPage?: (pages: number, rows: number) => void,
  ): Promise<unknown[]> {
    const out = new Map<string, unknown>();
    let after: bigint | undefined;
    for (let pages = 1; ; pages++) {
      if (pages > MAX_PAGES) throw malformed(`${path} does not end`);
      const params = { ...base, limit: PAGE };
      const rows = await get(
        path,
        after === undefined ? params : { ...params, after: String(after) },
        budget,
      );
      if (rows.length === 0) break;
      let min: bigint | undefined;
      for (const r of rows) {
        const id = isRecord(r) ? r['billId'] : undefined;
        if (typeof id !== 'string' || !/^\d{1,20}$/.test(id)) throw malformed(`${path} billId`);
        const b = BigInt(id);
        if (min === undefined || b < min) min = b;
        out.set(id, r);
      }
      if (after !== undefined && min! >= after) throw malformed(`${path} paging goes backwards`);
      after = min;
      onPage?.(pages, out.size);
    }
    return [...out.values()];
  }

  /**
   * The archive files of the quarters overlapping [since, before): their rows, and where the
   * coverage must start because a quarter's file is not (yet) available: after the newest such
   * quarter, at most `before` (fills-history's reach covers the rest).
   */
  async function archived(
    since: number,
    before: number,
    now: number,
    budget: Budget,
    onProgress: FetchFillsOptions['onProgress'],
  ): Promise<{ rows: RawOkxFill[]; coveredFrom: number }> {
    const rows: RawOkxFill[] = [];
    let coveredFrom = since;
    for (const qt of quartersOverlapping(since, before)) {
      const label = quarterLabel(qt);
      const params = { year: String(qt.year), quarter: `Q${qt.q}` };
      let requests = 0;
      const status = async () => {
        requests++;
        return parseArchiveStatus(await get('trade/fills-archive', params, budget));
      };
      // a quarter still running has no file yet; fills-history covers its recent part
      let s: Awaited<ReturnType<typeof status>> = { state: 'ongoing' };
      if (qt.end <= now) {
        s = await status();
        if (s.state === 'none' || s.state === 'failed') {
          // "failed: apply again"; a fresh request is read once more (a small file may be ready)
          requests++;
          await send(
            `POST ${ARCHIVE_PATH}`,
            signed('trade/fills-archive', params, 'private', 'POST'),
            budget,
          );
          s = await status();
        }
      }
      if (s.href === undefined) {
        coveredFrom = Math.max(coveredFrom, Math.min(qt.end, before));
        onProgress?.({ symbol: `archive/${label}/${s.state}`, pages: requests, fills: 0 });
        continue;
      }
      const zip = await download(
        ARCHIVE_PATH,
        () => ({ url: s.href!, method: 'GET', headers: {} }),
        budget,
      );
      const csv = readSingleZipEntry(zip as Uint8Array, ARCHIVE_MAX_BYTES).data;
      let n = 0;
      for (const r of parseArchiveCsv(Buffer.from(csv).toString('utf8'))) {
        const x = archiveRowToFill(r);
        if (!x) continue;
        rows.push(parseOkxFill(x.instType, x.row));
        n++;
      }
      onProgress?.({ symbol: `archive/${label}`, pages: requests + 1, fills: n });
    }
    return { rows, coveredFrom };
  }

  async function fetchFills(o: FetchFillsOptions = {}): Promise<NormalizedFill[]> {
    const budget: Budget = { rateWaitMs: 0 };
    const { since: first, until } = range(o, archive ? ARCHIVE_MS : HISTORY_MS);
    const recent = Math.max(first, until - HISTORY_MS);
    const byId = new Map<string, RawOkxFill>();
    let since = first;
    if (first < recent) {
      const a = await archived(first, recent, Date.now(), budget, o.onProgress);
      since = a.coveredFrom;
      // fills before a missing quarter are left out: positions across the hole would be wrong
      for (const f of a.rows) if (f.ts >= since) byId.set(`${f.instId}|${f.billId}`, f);
      if (since > first) o.onCoverage?.(since);
    }
    for (const t of INST_TYPES) {
      const rows = await byBillId(
        'trade/fills-history',
        { instType: t, begin: String(recent), end: String(until) },
        budget,
        (pages, fills) => o.onProgress?.({ symbol: t, pages, fills }),
      );
      // billId is unique per account: an archived row fills-history serves again counts once
      for (const r of rows) {
        const f = parseOkxFill(t, r);
        byId.set(`${f.instId}|${f.billId}`, f);
      }
    }
    const out: (SpotFill | FuturesFill)[] = [];
    for (const f of byId.values()) {
      if (f.ts < since || f.ts > until) continue;
      out.push(toOkxFill(f, await instrument(f.instType, f.instId, budget)));
    }
    return out.sort(compareFills);
  }

  async function fetchFunding(o: FetchFlowsOptions): Promise<FundingEvent[]> {
    const budget: Budget = { rateWaitMs: 0 };
    const { since, until } = range(o);
    const rows = await byBillId(
      'account/bills-archive',
      { type: '8', begin: String(since), end: String(until) },
      budget,
    );
    const names = new Map<string, string>();
    for (const r of rows) {
      if (!isRecord(r) || typeof r['instId'] !== 'string') throw malformed('bill row');
      const t = r['instType'] === 'FUTURES' ? 'FUTURES' : 'SWAP';
      if (!names.has(r['instId']))
        names.set(r['instId'], (await instrument(t, r['instId'], budget)).symbol);
    }
    const out = rows
      .map((r) => toOkxFunding(r, (_t, id) => names.get(id)!))
      .filter((e) => e.ts >= since && e.ts <= until);
    return out.sort(compareEvents) as FundingEvent[];
  }

  /**
   * Deposit and withdrawal history page by time: `after` = a ts, rows strictly older. To keep
   * rows sharing the boundary millisecond, the next `after` is the page's oldest ts + 1 and rows
   * are keyed by id; the walk ends on a page with no new row (an empty page included). A full
   * page of one millisecond could hide more rows behind it: that is refused, not guessed.
   */
  async function byTime(
    path: string,
    idKey: string,
    since: number,
    until: number,
    budget: Budget,
  ): Promise<unknown[]> {
    const out = new Map<string, unknown>();
    let after = until + 1;
    for (let pages = 1; ; pages++) {
      if (pages > MAX_PAGES) throw malformed(`${path} does not end`);
      const rows = await get(path, { after: String(after), limit: PAGE }, budget);
      let fresh = 0;
      let oldest = after;
      for (const r of rows) {
        const id = isRecord(r) ? r[idKey] : undefined;
        const ts = isRecord(r) ? Number(r['ts']) : NaN;
        if (typeof id !== 'string' || !Number.isSafeInteger(ts)) throw malformed(`${path} row`);
        if (!out.has(id)) fresh++;
        out.set(id, r);
        oldest = Math.min(oldest, ts);
      }
      if (fresh === 0) {
        if (rows.length >= Number(PAGE)) throw malformed(`${path}: a full page in one millisecond`);
        break;
      }
      if (oldest < since) break; // newest first: everything further is older than asked
      after = oldest + 1;
    }
    return [...out.values()];
  }

  /** Deposits and withdrawals, and funding (the contract's AccountEvent stream). */
  async function fetchFlows(o: FetchFlowsOptions): Promise<AccountEvent[]> {
    const budget: Budget = { rateWaitMs: 0 };
    const until = o.until ?? Date.now();
    const since = o.since;
    const out: FlowEvent[] = [];
    for (const r of await byTime('asset/deposit-history', 'depId', since, until, budget)) {
      const ev = toOkxDeposit(r);
      if (ev && ev.ts >= since && ev.ts <= until) out.push(ev);
    }
    for (const r of await byTime('asset/withdrawal-history', 'wdId', since, until, budget)) {
      const ev = toOkxWithdrawal(r);
      if (ev && ev.ts >= since && ev.ts <= until) out.push(ev);
    }
    return ([...out, ...(await fetchFunding(o))] as AccountEvent[]).sort(compareEvents);
  }

  async function config(): Promise<Record<string, unknown>> {
    const r = await get('account/config', {}, { rateWaitMs: 0 });
    if (!isRecord(r[0])) throw malformed('account config');
    return r[0];
  }

  return {
    venue,
    async accountId() {
      const uid = (await config())['uid'];
      if (uid === undefined || uid === '') return null;
      if (typeof uid === 'string' && /^\d{1,20}$/.test(uid)) return uid;
      throw malformed('uid');
    },
    async permissions() {
      return okxPermissions(await config());
    },
    // fills-history keeps 3 months; the archive files reach 2 years (when their host is allowed)
    historySince: (now) => now - (archive ? ARCHIVE_MS : HISTORY_MS),
    fetchFills,
    fetchFunding,
    fetchFlows,
    async balances() {
      return okxBalances(await get('account/balance', {}, { rateWaitMs: 0 }));
    },
    async klines() {
      // Prices come from the Binance candle oracle (src/enclave/exchanges.ts)
      return [];
    },
  };
}

/**
 * `perm` of /account/config: "read_only", "trade" and "withdraw", comma-separated. OKX's trade
 * permission covers every instrument type, margin included, and the funds-transfer endpoint.
 */
export function okxPermissions(c: Record<string, unknown>): KeyPermissions {
  const perm = c['perm'];
  if (typeof perm !== 'string' || !/^[a-z_]+(,[a-z_]+)*$/.test(perm))
    throw malformed('key permissions');
  const set = new Set(perm.split(','));
  const trade = set.has('trade');
  return {
    read: set.has('read_only'),
    trade,
    withdraw: set.has('withdraw'),
    transfer: trade,
    futures: trade,
    margin: trade,
  };
}

/** /account/balance: `cashBal` per currency of the trading account (unrealized PnL excluded). */
export function okxBalances(rows: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const acct of rows) {
    if (!isRecord(acct) || !Array.isArray(acct['details'])) throw malformed('balance account');
    for (const d of acct['details']) {
      if (!isRecord(d)) throw malformed('balance row');
      const { ccy, cashBal } = d;
      if (typeof ccy !== 'string' || !/^[A-Z0-9]{1,20}$/.test(ccy)) throw malformed('balance ccy');
      if (typeof cashBal !== 'string' || !DEC.test(cashBal)) throw malformed('balance amount');
      if (/[1-9]/.test(cashBal))
        out[ccy] = out[ccy] === undefined ? cashBal : addSignedDecimals(out[ccy], cashBal);
    }
  }
  return out;
}

/** The archive file host's verdict: the ZIP's bytes on 200 (no OKX envelope there). */
export function classifyFile(status: number, headers: Headers, body: unknown): Verdict {
  if (status === 429)
    return { kind: 'rateLimited', retryAfterMs: retryAfterMs(headers.get('Retry-After')) ?? 2000 };
  if (status >= 500) return { kind: 'transient', why: `HTTP ${status}` };
  if (status !== 200 || !(body instanceof Uint8Array))
    return { kind: 'rejected', why: `file HTTP ${status}` };
  return { kind: 'ok', data: body };
}

/** OKX's verdict: `code` "0" is success; errors also carry an HTTP status (401, 429, 5xx). */
export function classifyOkx(status: number, headers: Headers, body: unknown): Verdict {
  const code = isRecord(body) && typeof body['code'] === 'string' ? body['code'] : undefined;
  if (status === 429 || (code !== undefined && RATE_CODES.has(code)))
    return { kind: 'rateLimited', retryAfterMs: retryAfterMs(headers.get('Retry-After')) ?? 2000 };
  if (code !== undefined && CLOCK_CODES.has(code)) return { kind: 'clockSkew' };
  if (status === 401 || (code !== undefined && AUTH_CODES.has(code))) return { kind: 'auth' };
  if (status >= 500 || (code !== undefined && TRANSIENT_CODES.has(code)))
    return { kind: 'transient', why: `HTTP ${status}` };
  if (status !== 200 || !isRecord(body) || code === undefined)
    return { kind: 'rejected', why: `HTTP ${status}` };
  if (code !== '0') return { kind: 'rejected', why: `code ${/^\d{1,6}$/.test(code) ? code : '?'}` };
  return { kind: 'ok', data: body['data'] };
}
