/**
 * A simulated Bybit V5 REST API over real HTTP (its own port), for tests and demos. It checks
 * what Bybit checks (bybit-exchange/docs @ 072c197, excerpts in ../shared/vectors/exchanges/
 * bybit_v5_docs_excerpts.md): the X-BAPI-* HMAC-SHA256 signature over timestamp + key +
 * recvWindow + the raw query, the timestamp window ("server_time − recv_window ≤ timestamp <
 * server_time + 1000"), 7-day windows, `limit` bounds, cursor paging, and the per-UID,
 * per-endpoint rolling one-second rate limit with its X-Bapi-Limit-* headers and retCode 10006.
 * Facts the docs leave open are marked "choice:".
 *
 * Adversarial modes per account: one order filling `burst` times in one millisecond, page-edge
 * duplicates (each page repeats the previous page's last row), a multi-week gap, delisted
 * symbols (traded, absent from instruments-info), funding every 8 h, deposits and withdrawals
 * with statuses that do not count, the key revoked after `authFailAfter` requests, and bursts
 * of 5xx answers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DAY, hash32 } from './binance-prim.js';
import {
  LISTED,
  generateBybitAccount,
  type BybitAccountData,
  type Category,
  type SimExecution,
} from './bybit-data.js';
import {
  fmt10,
  listen,
  readBody,
  sendJson,
  splitUrl,
  optInt,
  optBool,
  isKeyAndSecret,
} from './sim-http.js';
import { accountBook, serveAdmin, simHandle, type SimHandle } from './sim-accounts.js';
import { rollingWindow } from './rolling-window.js';

export type {
  SimBybitDeposit,
  SimBybitWithdrawal,
  SimClosedPnl,
  SimExecution,
} from './bybit-data.js';

export interface BybitSimAccountSpec {
  apiKey: string;
  apiSecret: string;
  seed?: number;
  /** spot fills (default 200) */
  spotFills?: number;
  /** linear/inverse round trips (default 40) */
  trips?: number;
  /** fills of one linear order sharing one millisecond (default 0) */
  burst?: number;
  /** days of history before the sim's current UTC day (default 60, at most 720) */
  days?: number;
  /** a stretch without any activity in the middle of the history (default 0) */
  gapDays?: number;
  /** every page after the first repeats the previous page's last row */
  pageEdgeDuplicates?: boolean;
  /** readOnly 0: a key that may trade (default false: read-only) */
  canTrade?: boolean;
  canWithdraw?: boolean;
  /** the key is revoked after this many signed requests (default: never) */
  authFailAfter?: number;
  /** every n-th request starts a burst of 3 answers 502/503 (default: never) */
  serverErrorEvery?: number;
  uid?: number;
}

export interface BybitSimOptions {
  port?: number;
  host?: string;
  seed?: number;
  now?: () => number;
}

export interface BybitSimStats {
  requests: number;
  /** answers with retCode 10006 or HTTP 403: a client that follows the headers gets none */
  rateLimited: number;
  serverErrors: number;
  /** signed requests after the key was revoked */
  afterRevocation: number;
  /** pages that repeated the previous page's last row */
  duplicatesServed: number;
}

export type BybitSim = SimHandle<BybitSimAccountSpec, BybitAccountData, BybitSimStats>;

export const BYBIT_DEMO_ACCOUNT = {
  apiKey: 'demo-bybit-key',
  apiSecret: 'demo-bybit-secret',
} as const;

const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
/** "Get Trade History (2 years)": older rows are not served (choice: silently, not an error) */
const HORIZON = 730 * DAY;
const DEFAULT_RECV_WINDOW = 5000;
/** per-UID requests per rolling second (rate-limit.mdx table; choice for the asset endpoints) */
const UID_LIMITS: Record<string, number> = {
  '/v5/execution/list': 50,
  '/v5/position/closed-pnl': 50,
  '/v5/account/wallet-balance': 50,
  '/v5/user/query-api': 10,
  '/v5/asset/deposit/query-record': 5,
  '/v5/asset/withdraw/query-record': 5,
};
/** "600 requests within a 5-second window per IP", then 403 */
const IP_LIMIT = 600;
const IP_WINDOW = 5000;

class Fail extends Error {
  constructor(
    readonly retCode: number,
    readonly retMsg: string,
    readonly status = 200,
  ) {
    super(retMsg);
  }
}
const paramErr = (msg: string) => new Fail(10001, msg);

interface Account {
  spec: BybitSimAccountSpec;
  secret: Buffer;
  uid: number;
  data: BybitAccountData;
  signed: number;
  revoked: boolean;
}

/** HMAC-SHA256 hex over timestamp + apiKey + recvWindow + payload (raw query or body). */
export function bybitSignature(
  secret: string | Buffer,
  ts: string,
  key: string,
  recvWindow: string,
  payload: string,
): string {
  return createHmac('sha256', secret)
    .update(ts + key + recvWindow + payload)
    .digest('hex');
}

export async function startBybitSim(opts: BybitSimOptions = {}): Promise<BybitSim> {
  const now = opts.now ?? Date.now;
  const seed = opts.seed ?? 1;
  const end = Math.floor(now() / DAY) * DAY;
  const perUid = rollingWindow(now);
  const perIp = rollingWindow(now);
  const stats: BybitSimStats = {
    requests: 0,
    rateLimited: 0,
    serverErrors: 0,
    afterRevocation: 0,
    duplicatesServed: 0,
  };
  let errorBurst = 0;

  const accounts = accountBook<BybitSimAccountSpec, Account>(seed, checkSpec, (spec, aSeed) => ({
    spec: { ...spec },
    secret: Buffer.from(spec.apiSecret, 'utf8'),
    uid: spec.uid ?? 100_000_000 + (aSeed % 900_000_000),
    data: generateBybitAccount({
      seed: aSeed,
      spotFills: spec.spotFills ?? 200,
      trips: spec.trips ?? 40,
      burst: spec.burst ?? 0,
      end,
      days: spec.days ?? 60,
      gapDays: spec.gapDays ?? 0,
    }),
    signed: 0,
    revoked: false,
  }));

  function authenticate(req: IncomingMessage, rawQuery: string): Account {
    const h = (n: string) => {
      const v = req.headers[n];
      return typeof v === 'string' ? v : undefined;
    };
    const key = h('x-bapi-api-key');
    const ts = h('x-bapi-timestamp');
    const sign = h('x-bapi-sign');
    const rw = h('x-bapi-recv-window') ?? String(DEFAULT_RECV_WINDOW);
    const acct = key === undefined ? undefined : accounts.get(key);
    if (!acct || key === undefined) throw new Fail(10003, 'API key is invalid.');
    if (acct.revoked) {
      stats.afterRevocation++;
      throw new Fail(10003, 'API key is invalid.');
    }
    if (ts === undefined || !/^\d{13}$/.test(ts) || !/^\d{1,6}$/.test(rw))
      throw paramErr('invalid request, please check your server timestamp or recv_window param');
    const want = bybitSignature(acct.secret, ts, key, rw, rawQuery);
    if (
      sign === undefined ||
      !/^[0-9a-f]{64}$/i.test(sign) ||
      !timingSafeEqual(Buffer.from(want, 'hex'), Buffer.from(sign, 'hex'))
    )
      throw new Fail(10004, 'error sign! origin_string[...]');
    const t = now();
    if (Number(ts) >= t + 1000 || t - Number(rw) > Number(ts))
      throw new Fail(
        10002,
        'invalid request, please check your server timestamp or recv_window param',
      );
    if (acct.spec.authFailAfter !== undefined && acct.signed >= acct.spec.authFailAfter) {
      acct.revoked = true;
      stats.afterRevocation++;
      throw new Fail(10003, 'API key is invalid.');
    }
    acct.signed++;
    return acct;
  }

  /** startTime/endTime per execution.mdx: ≤ `span` apart; one alone spans `span`; none: the last. */
  function window(p: URLSearchParams, span: number): [number, number] {
    const num = (k: string) => {
      const v = p.get(k);
      if (v === null) return undefined;
      if (!/^\d{1,16}$/.test(v)) throw paramErr(`params error: ${k} invalid`);
      return Number(v);
    };
    const s = num('startTime');
    const e = num('endTime');
    const t = now();
    if (s !== undefined && e !== undefined) {
      if (e < s) throw paramErr('params error: startTime is greater than endTime');
      if (e - s > span)
        throw paramErr(`params error: the time range cannot exceed ${span / DAY} days`);
      return [s, e];
    }
    if (s !== undefined) return [s, s + span];
    if (e !== undefined) return [e - span, e];
    return [t - span, t];
  }

  function limitOf(p: URLSearchParams, def: number, max: number): number {
    const v = p.get('limit');
    if (v === null) return def;
    if (!/^\d{1,4}$/.test(v) || Number(v) < 1 || Number(v) > max)
      throw paramErr(`params error: limit must be in [1, ${max}]`);
    return Number(v);
  }

  /**
   * Cursor pages of `rows` (already filtered and ordered). The cursor is opaque to clients and
   * comes URL-encoded, as Bybit's does ("4159101%3A0%2C4159101%3A0"): a client must send it back
   * as received. choice: every non-empty page carries a cursor, so the end is an empty page.
   */
  function page<T>(a: Account, rows: T[], p: URLSearchParams, limit: number) {
    const c = p.get('cursor');
    let offset = 0;
    if (c !== null && c !== '') {
      const m = /^(\d{1,9}):0,\1:0$/.exec(c);
      if (!m) throw paramErr('params error: cursor invalid');
      offset = Number(m[1]);
    }
    // page-edge duplicates: a page with new rows starts with the previous page's last row
    const from =
      a.spec.pageEdgeDuplicates && offset > 0 && offset < rows.length ? offset - 1 : offset;
    if (from < offset) stats.duplicatesServed++;
    const list = rows.slice(from, from + limit);
    const next = from + list.length;
    return {
      list,
      nextPageCursor: list.length === 0 ? '' : encodeURIComponent(`${next}:0,${next}:0`),
    };
  }

  function category(p: URLSearchParams, allowed: Category[]): Category {
    const c = p.get('category');
    if (c === null) throw paramErr('params error: category is required');
    if (!(allowed as string[]).includes(c)) throw paramErr('params error: category invalid');
    return c as Category;
  }

  const visible = (t: number) => t >= now() - HORIZON;
  /** ties in execTime come in no particular order (execution.mdx tip): mix them by a hash */
  const desc = (a: SimExecution, b: SimExecution) =>
    Number(b.execTime) - Number(a.execTime) || hash32(a.execId) - hash32(b.execId);

  type Route = {
    signed: boolean;
    params: string[];
    run: (p: URLSearchParams, a: Account) => unknown;
  };
  const routes: Record<string, Route> = {
    '/v5/market/time': {
      signed: false,
      params: [],
      run: () => {
        const t = now();
        return { timeSecond: String(Math.floor(t / 1000)), timeNano: `${t}000000` };
      },
    },
    '/v5/market/instruments-info': {
      signed: false,
      params: ['category', 'symbol', 'status', 'baseCoin', 'limit', 'cursor'],
      run: (p) => {
        const c = category(p, ['spot', 'linear', 'inverse']);
        limitOf(p, 500, 1000);
        return {
          category: c,
          list: LISTED[c].map((i) => ({
            symbol: i.symbol,
            contractType:
              c === 'spot' ? undefined : c === 'linear' ? 'LinearPerpetual' : 'InversePerpetual',
            status: 'Trading',
            baseCoin: i.base,
            quoteCoin: i.quote,
            settleCoin: c === 'spot' ? undefined : c === 'inverse' ? i.base : i.quote,
          })),
          nextPageCursor: '',
        };
      },
    },
    '/v5/execution/list': {
      signed: true,
      params: [
        'category',
        'symbol',
        'orderId',
        'orderLinkId',
        'baseCoin',
        'settleCoin',
        'startTime',
        'endTime',
        'execType',
        'limit',
        'cursor',
      ],
      run: (p, a) => {
        const c = category(p, ['spot', 'linear', 'inverse']);
        const [s, e] = window(p, WEEK);
        const limit = limitOf(p, 50, 100);
        const sym = p.get('symbol');
        const type = p.get('execType');
        const rows = a.data.executions
          .filter(
            (x) =>
              x.category === c &&
              Number(x.execTime) >= s &&
              Number(x.execTime) <= e &&
              visible(Number(x.execTime)) &&
              (sym === null || x.symbol === sym) &&
              (type === null || x.execType === type),
          )
          .sort(desc)
          .map(({ category: _c, ...row }) => row);
        return { category: c, ...page(a, rows, p, limit) };
      },
    },
    '/v5/position/closed-pnl': {
      signed: true,
      params: ['category', 'symbol', 'startTime', 'endTime', 'limit', 'cursor'],
      run: (p, a) => {
        const c = category(p, ['linear', 'inverse']);
        const [s, e] = window(p, WEEK);
        const limit = limitOf(p, 50, 100);
        const sym = p.get('symbol');
        const rows = a.data.closedPnl
          .filter((x) => {
            const t = Number(x.updatedTime);
            return (
              x.category === c &&
              t >= s &&
              t <= e &&
              visible(t) &&
              (sym === null || x.symbol === sym)
            );
          })
          .sort((x, y) => Number(y.updatedTime) - Number(x.updatedTime))
          .map(({ category: _c, ...row }) => row);
        return { category: c, ...page(a, rows, p, limit) };
      },
    },
    '/v5/account/wallet-balance': {
      signed: true,
      params: ['accountType', 'coin'],
      run: (p, a) => {
        if (p.get('accountType') !== 'UNIFIED') throw paramErr('accountType only support UNIFIED');
        const coins = [...a.data.balances]
          .filter(([, v]) => v !== 0n)
          .sort(([x], [y]) => (x < y ? -1 : 1))
          .map(([coin, v]) => ({
            coin,
            walletBalance: fmt10(v),
            equity: fmt10(v),
            locked: '0',
            unrealisedPnl: '0',
            cumRealisedPnl: '0',
            borrowAmount: '0',
          }));
        return { list: [{ accountType: 'UNIFIED', coin: coins }] };
      },
    },
    '/v5/user/query-api': {
      signed: true,
      params: [],
      run: (_p, a) => ({
        id: String(a.uid % 100_000),
        note: 'sim',
        apiKey: a.spec.apiKey,
        readOnly: a.spec.canTrade ? 0 : 1,
        secret: '',
        permissions: {
          ContractTrade: a.spec.canTrade ? ['Order', 'Position'] : [],
          Spot: a.spec.canTrade ? ['SpotTrade'] : [],
          Wallet: a.spec.canWithdraw ? ['AccountTransfer', 'SubMemberTransfer', 'Withdraw'] : [],
          Options: [],
          Derivatives: [],
          CopyTrading: [],
          BlockTrade: [],
          Exchange: [],
          NFT: [],
          Affiliate: [],
        },
        ips: ['*'],
        type: 1,
        deadlineDay: -1,
        expiredAt: '',
        createdAt: new Date(end - 400 * DAY).toISOString(),
        unified: 0,
        uta: 1,
        userID: a.uid,
        inviterID: 0,
        isMaster: true,
        parentUid: '0',
      }),
    },
    '/v5/asset/deposit/query-record': {
      signed: true,
      params: ['id', 'txID', 'coin', 'startTime', 'endTime', 'limit', 'cursor'],
      run: (p, a) => {
        const [s, e] = window(p, MONTH);
        const limit = limitOf(p, 50, 50);
        const rows = a.data.deposits
          .filter((d) => Number(d.successAt) >= s && Number(d.successAt) <= e)
          .sort((x, y) => Number(y.successAt) - Number(x.successAt));
        const { list, nextPageCursor } = page(a, rows, p, limit);
        return { rows: list, nextPageCursor };
      },
    },
    '/v5/asset/withdraw/query-record': {
      signed: true,
      params: [
        'withdrawID',
        'txID',
        'coin',
        'withdrawType',
        'startTime',
        'endTime',
        'limit',
        'cursor',
      ],
      run: (p, a) => {
        const [s, e] = window(p, MONTH);
        const limit = limitOf(p, 50, 50);
        const rows = a.data.withdrawals
          .filter((w) => Number(w.updateTime) >= s && Number(w.updateTime) <= e)
          .sort((x, y) => Number(y.updateTime) - Number(x.updateTime));
        const { list, nextPageCursor } = page(a, rows, p, limit);
        return { rows: list, nextPageCursor };
      },
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, rawQuery } = splitUrl(req);
    const rawBody = await readBody(req, 64 * 1024);
    if (path.startsWith('/__sim/'))
      return serveAdmin(
        { req, res, path, rawQuery, body: rawBody },
        accounts,
        (a) => structuredClone(a.data),
        (msg) => ({ retCode: -1, retMsg: msg }),
      );
    stats.requests++;
    const ip = req.socket.remoteAddress ?? '?';
    if (perIp(ip, IP_LIMIT, IP_WINDOW).left < 0) {
      stats.rateLimited++;
      res.writeHead(403, { 'Content-Type': 'text/html' });
      return void res.end('<html><body>403 Forbidden: access too frequent</body></html>');
    }
    if (errorBurst > 0) {
      errorBurst--;
      stats.serverErrors++;
      res.writeHead(errorBurst % 2 === 0 ? 502 : 503, { 'Content-Type': 'text/html' });
      return void res.end('<html><body>Bad Gateway</body></html>');
    }
    const route = req.method === 'GET' && Object.hasOwn(routes, path) ? routes[path] : undefined;
    let headers: Record<string, string> = {};
    try {
      if (!route) throw new Fail(10001, `sim: no such endpoint ${req.method} ${path}`, 404);
      if (/[^\x21-\x7e]/.test(rawQuery)) throw paramErr('params error: illegal characters');
      const p = new URLSearchParams(rawQuery);
      if (new Set(p.keys()).size !== [...p.keys()].length)
        throw paramErr('params error: duplicate');
      let acct: Account | undefined;
      if (route.signed) {
        acct = authenticate(req, rawQuery);
        const every = acct.spec.serverErrorEvery;
        if (every !== undefined && acct.signed % every === 0) {
          errorBurst = 3; // this and the next two requests fail
          errorBurst--;
          stats.serverErrors++;
          res.writeHead(502, { 'Content-Type': 'text/html' });
          return void res.end('<html><body>Bad Gateway</body></html>');
        }
        const limit = UID_LIMITS[path] ?? 10;
        const r = perUid(`${acct.uid}|${path}`, limit, 1000);
        headers = {
          'X-Bapi-Limit': String(limit),
          'X-Bapi-Limit-Status': String(Math.max(0, r.left)),
          'X-Bapi-Limit-Reset-Timestamp': String(r.left < 0 ? r.reset : now()),
        };
        if (r.left < 0) {
          stats.rateLimited++;
          throw new Fail(10006, 'Too many visits!');
        }
      }
      const extra = [...p.keys()].filter((k) => !route.params.includes(k));
      if (extra.length > 0) throw paramErr(`params error: unknown parameter ${extra[0]}`);
      const result = route.run(p, acct!);
      sendJson(
        res,
        200,
        { retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: now() },
        headers,
      );
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      sendJson(
        res,
        e.status,
        { retCode: e.retCode, retMsg: e.retMsg, result: {}, retExtInfo: {}, time: now() },
        headers,
      );
    }
  }

  accounts.add({ ...BYBIT_DEMO_ACCOUNT, burst: 2000 });
  const server = await listen(opts.port ?? 0, opts.host ?? '127.0.0.1', handle, {
    retCode: 10016,
    retMsg: 'Internal server error.',
  });
  return simHandle(server, accounts, stats);
}

function checkSpec(s: BybitSimAccountSpec): void {
  const ok =
    isKeyAndSecret(s) &&
    optInt(s.seed, 0, 2 ** 32) &&
    optInt(s.spotFills, 0, 50_000) &&
    optInt(s.trips, 0, 5_000) &&
    optInt(s.burst, 0, 10_000) &&
    optInt(s.days, 10, 720) &&
    optInt(s.gapDays, 0, 360) &&
    (s.gapDays ?? 0) <= (s.days ?? 60) - 10 &&
    optInt(s.authFailAfter, 0, 1_000_000) &&
    optInt(s.serverErrorEvery, 2, 1_000_000) &&
    optInt(s.uid, 1, 2 ** 40) &&
    optBool(s.pageEdgeDuplicates) &&
    optBool(s.canTrade) &&
    optBool(s.canWithdraw);
  if (!ok) throw new Error('sim: invalid account spec');
}
