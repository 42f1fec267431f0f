/**
 * A simulated Binance spot REST API over real HTTP, for tests and demos. It checks what Binance
 * checks (binance-spot-api-docs rest-api.md @ a5e0bc3: "Timing security", "SIGNED Endpoint
 * security", "IP Limits", "Account trade list"; errors.md), so a client that passes here is not
 * relying on leniency. Facts the docs leave open are marked "choice:".
 *
 * Served: /api/v3 ping, time, exchangeInfo, klines (./binance-market.ts), account and myTrades
 * (./binance-spot.ts); /sapi/v1/capital deposit/hisrec and withdraw/history (./binance-flows.ts).
 * Accounts (./binance-account.ts) trade on one market shared by all, and are funded by deposits.
 *
 * Faults (slow answers, 5xx storms, hangs, resets mid-body) are switched on through the admin API
 * (`POST /__sim/faults`, ./binance-faults.ts), for reliability tests over real HTTP.
 *
 * Every request is attacker-controlled input: parsed strictly, answered with Binance-style
 * `{code,msg}` errors, never logged. Secrets live only in memory, inside the account table.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { generateAccount } from './binance-account.js';
import { SYMBOLS, symbolInfo, type SimSymbol, type SimTrade } from './binance-data.js';
import {
  queryHistory,
  withdrawalTime,
  type SimDeposit,
  type SimWithdrawal,
} from './binance-flows.js';
import { FaultPlan, parseFaultRules, type FaultRule } from './binance-faults.js';
import { Reject, bad, mandatory, parseQuery, toMs } from './binance-http.js';
import { createMeter, type MeterStats, type Pool } from './binance-limits.js';
import { buildMarket, klinesRequest, ticksAt, type MarketPath } from './binance-market.js';
import { DAY, fmt8, hash32, prng } from './binance-prim.js';
import { accountInfo, myTrades, type SpotAccount } from './binance-spot.js';
import {
  generateUsdm,
  incomeHistory,
  positionRisk,
  usdmBalance,
  usdmExchangeInfo,
  userTrades,
  type UsdmAccount,
  type UsdmIncome,
  type UsdmSpec,
  type UsdmTrade,
} from './binance-usdm.js';
import { optInt, isKeyAndSecret, listen, readBody, sendJson, splitUrl } from './sim-http.js';

export type { SimTrade } from './binance-data.js';
export type { SimDeposit, SimWithdrawal } from './binance-flows.js';
export type { KlineRow } from './binance-market.js';
export type { UsdmIncome, UsdmSpec, UsdmTrade } from './binance-usdm.js';
export type { FaultRule } from './binance-faults.js';

export interface SimAccountSpec {
  apiKey: string;
  apiSecret: string;
  /** data seed; default derived from the simulator seed and the key */
  seed?: number;
  /** ordinary fills (default 400) */
  fills?: number;
  /** fills of one market order sharing a single millisecond (default 0; the demo account has 1,200) */
  burst?: number;
  /** apiRestrictions flags (and /api/v3/account canTrade/canWithdraw); default read + spot trading */
  canWithdraw?: boolean;
  canTrade?: boolean;
  canFutures?: boolean;
  uid?: number;
  /** days of history (fills, flows) before the sim's current UTC day, < historyDays; default 90 */
  days?: number;
  /** adversarial: after this many signed requests the key is deleted (401 -2015 from then on) */
  authFailAfter?: number;
  /** adversarial: every `every`-th signed request starts a run of `length` 503 answers */
  outage?: { every: number; length: number };
  /** adversarial: each myTrades / userTrades fromId page also repeats the row just before fromId */
  pageEdgeDuplicates?: boolean;
  /** a USDⓈ-M futures account (./binance-usdm.ts); absent: an empty one */
  usdm?: UsdmSpec;
}

export interface BinanceSimOptions {
  port?: number;
  host?: string;
  seed?: number;
  weightLimitPerMinute?: number;
  /** USDⓈ-M REQUEST_WEIGHT per window (default 2,400, as fapi exchangeInfo reports) */
  fapiWeightLimitPerMinute?: number;
  /** length of a weight bucket; 60 000 like Binance. Shorter only so tests can wait it out. */
  weightWindowMs?: number;
  now?: () => number;
  /** days of market history (price path, candles) before the current UTC day; default 120 */
  historyDays?: number;
}

export interface BinanceSim {
  url: string;
  close(): Promise<void>;
  addAccount(a: SimAccountSpec): void;
  /** every trade of the account, the ground truth a client must reproduce */
  truth(apiKey: string): SimTrade[];
  /** the account's USDⓈ-M fills and income rows (all of them, including beyond the horizons) */
  usdmTruth(apiKey: string): { trades: UsdmTrade[]; income: UsdmIncome[] };
  /** every deposit and withdrawal row of the account, any status, oldest first */
  flows(apiKey: string): { deposits: SimDeposit[]; withdrawals: SimWithdrawal[] };
  /** the market price path at `t` (8 dp), or null outside the symbol's history */
  priceAt(symbol: string, t: number): string | null;
  /** peak weight per pool in any one window, and how many 429s and 418s were answered */
  stats(): MeterStats;
  /**
   * Serve only the account's spot trades executed at or before `t` (null: all), as if the later
   * ones had not happened yet; an incremental download must find them once they are served.
   */
  hideTradesAfter(apiKey: string, t: number | null): void;
  /** how many myTrades rows the account was served so far (what a download cost) */
  tradeRowsServed(apiKey: string): number;
  /** replaces the fault rules (./binance-faults.ts); the admin API's POST /__sim/faults */
  setFaults(rules: FaultRule[]): void;
}

/** Public demo credentials of the seeded account (not secrets: they only open the simulator). */
export const DEMO_ACCOUNT = {
  apiKey: 'demo-binance-key',
  apiSecret: 'demo-binance-secret',
} as const;

/** A seeded account whose key may withdraw: the service must refuse it (KEY_NOT_READ_ONLY). */
export const DEMO_WITHDRAW_ACCOUNT = {
  apiKey: 'demo-binance-withdraw-key',
  apiSecret: 'demo-binance-withdraw-secret',
  canWithdraw: true,
} as const;

const MAX_RECV_WINDOW = 60_000;
/** Binance's own spelling of the JSON content type. */
const JSON_TYPE = { 'Content-Type': 'application/json;charset=UTF-8' };
/** BREAK symbols stopped trading this long before the current UTC day: no candles after it */
const HALT_BEFORE_END = 30 * DAY;

interface Account extends SpotAccount {
  spec: SimAccountSpec;
  secret: Buffer;
  /** when the key was created (apiRestrictions.createTime) */
  createTime: number;
  /** signed requests answered so far (adversarial modes count them) */
  signedRequests: number;
  /** 503s left in the current outage */
  outageLeft: number;
  /** spot trades after this time are not served yet (hideTradesAfter) */
  hideAfter: number | null;
  tradeRowsServed: number;
  usdm: UsdmAccount;
  deposits: SimDeposit[];
  withdrawals: SimWithdrawal[];
}

/**
 * The signature payload Binance HMACs: the query string exactly as received minus its
 * `signature=` pair, concatenated with the raw body (rest-api.md "SIGNED Endpoint Examples").
 * Signing the received bytes, not re-encoded parameters, is what rejects clients that sign a
 * different encoding than they send.
 */
export function signaturePayload(
  rawQuery: string,
  rawBody: string,
): { payload: string; signature: string | undefined } {
  let signature: string | undefined;
  const kept: string[] = [];
  for (const pair of rawQuery === '' ? [] : rawQuery.split('&')) {
    if (pair.startsWith('signature=')) signature = pair.slice('signature='.length);
    else kept.push(pair);
  }
  return { payload: kept.join('&') + rawBody, signature };
}

/** HMAC-SHA256 check; hex is case-insensitive for HMAC keys ("Signature Case Sensitivity"). */
export function verifySignature(
  secret: string | Buffer,
  rawQuery: string,
  rawBody: string,
): boolean {
  const { payload, signature } = signaturePayload(rawQuery, rawBody);
  if (signature === undefined || !/^[0-9a-fA-F]{64}$/.test(signature)) return false;
  const want = createHmac('sha256', secret).update(payload).digest();
  return timingSafeEqual(want, Buffer.from(signature, 'hex'));
}

export async function startBinanceSim(opts: BinanceSimOptions = {}): Promise<BinanceSim> {
  const now = opts.now ?? Date.now;
  const seed = opts.seed ?? 1;
  const limit = opts.weightLimitPerMinute ?? 6000;
  const windowMs = opts.weightWindowMs ?? 60_000;
  const historyDays = opts.historyDays ?? 120;
  if (!Number.isSafeInteger(historyDays) || historyDays < 60 || historyDays > 3650)
    throw new Error('sim: historyDays must be an integer in [60, 3650]');
  const accounts = new Map<string, Account>();
  const meter = createMeter(now);
  const faultPlan = new FaultPlan();
  const pools: Record<'api' | 'sapiIp' | 'sapiRestrictions' | 'fapi' | 'sapiIp1s', Pool> = {
    api: { name: 'api', limit, windowMs, header: 'X-MBX-USED-WEIGHT-1M', per: '1 MINUTE' },
    sapiIp: {
      name: 'sapiIp',
      limit: 12_000,
      windowMs,
      header: 'X-SAPI-USED-IP-WEIGHT-1M',
      per: '1 MINUTE',
    },
    sapiRestrictions: {
      name: 'sapiRestrictions',
      limit: 12_000,
      windowMs,
      header: 'X-SAPI-USED-IP-WEIGHT-1M',
      per: '1 MINUTE',
    },
    fapi: {
      name: 'fapi',
      limit: opts.fapiWeightLimitPerMinute ?? 2400,
      windowMs,
      header: 'X-MBX-USED-WEIGHT-1M',
      per: '1 MINUTE',
    },
    sapiIp1s: {
      name: 'sapiIp1s',
      limit: 180_000,
      windowMs: 1000,
      header: 'X-SAPI-USED-IP-WEIGHT-1S',
      per: '1 SECOND',
    },
  };

  // Anchored to the current UTC day at start, so data is stable within a run and ends "now";
  // one price path per symbol, shared by every account.
  const end = Math.floor(now() / DAY) * DAY;
  const origin = end - historyDays * DAY;
  const markets = new Map<string, MarketPath>();
  for (const s of SYMBOLS) {
    const halt = s.status === 'BREAK' ? end - HALT_BEFORE_END : undefined;
    markets.set(s.symbol, buildMarket(seed, s, origin, (historyDays + 8) * 24, halt));
  }
  const market = {
    ticks(symbol: string, t: number): number {
      const v = ticksAt(markets.get(symbol)!, t);
      if (v === null) throw new Error(`sim: no ${symbol} price at ${t}`);
      return v;
    },
    halt(symbol: string): number | undefined {
      const m = markets.get(symbol)!;
      return m.sym.status === 'BREAK' ? m.end : undefined;
    },
  };

  function addAccount(spec: SimAccountSpec, demo = false): void {
    checkSpec(spec);
    if (accounts.has(spec.apiKey)) throw new Error('sim: account already exists');
    const days = spec.days ?? Math.min(90, historyDays - 1);
    if (days >= historyDays) throw new Error('sim: account days must be < historyDays');
    const aSeed = spec.seed ?? hash32(spec.apiKey, seed);
    const symbols = demo
      ? pick(['BTCUSDT', 'ETHUSDT', 'LUNAUSDT'])
      : shuffle(SYMBOLS, aSeed).slice(0, 3);
    const g = generateAccount({
      seed: aSeed,
      fills: spec.fills ?? 400,
      burst: spec.burst ?? (demo ? 1200 : 0),
      symbols,
      end,
      days,
      market,
    });
    const bySymbol = new Map<string, SimTrade[]>();
    for (const t of g.trades) {
      const list = bySymbol.get(t.symbol) ?? [];
      list.push(t);
      bySymbol.set(t.symbol, list);
    }
    for (const list of bySymbol.values()) list.sort((a, b) => a.id - b.id);
    accounts.set(spec.apiKey, {
      spec: { ...spec },
      secret: Buffer.from(spec.apiSecret, 'utf8'),
      createTime: end - days * DAY - 2 * DAY,
      signedRequests: 0,
      outageLeft: 0,
      hideAfter: null,
      tradeRowsServed: 0,
      usdm: generateUsdm(aSeed, spec.usdm ?? { fills: 0, bnbFees: false }, end, priceE8, (s) =>
        market.halt(s),
      ),
      uid: spec.uid ?? g.uid,
      balances: g.balances,
      updateTime: g.updateTime,
      bySymbol,
      deposits: g.deposits,
      withdrawals: g.withdrawals,
    });
  }

  const priceE8 = (symbol: string, t: number): bigint =>
    BigInt(market.ticks(symbol, t)) * SYMBOLS.find((x) => x.symbol === symbol)!.tickE8;

  function usdmTruth(apiKey: string): { trades: UsdmTrade[]; income: UsdmIncome[] } {
    const u = account(apiKey).usdm;
    return {
      trades: [...u.trades.values()].flat().map((t) => ({ ...t })),
      income: u.income.map((r) => ({ ...r })),
    };
  }

  function account(apiKey: string): Account {
    const a = accounts.get(apiKey);
    if (!a) throw new Error('sim: unknown account');
    return a;
  }

  function truth(apiKey: string): SimTrade[] {
    return [...account(apiKey).bySymbol.values()]
      .flat()
      .map((t) => ({ ...t }))
      .sort((x, y) => x.time - y.time || x.symbol.localeCompare(y.symbol) || x.id - y.id);
  }

  function flows(apiKey: string): { deposits: SimDeposit[]; withdrawals: SimWithdrawal[] } {
    const a = account(apiKey);
    return {
      deposits: a.deposits.map((d) => ({ ...d })),
      withdrawals: a.withdrawals.map((w) => ({ ...w })),
    };
  }

  function priceAt(symbol: string, t: number): string | null {
    const m = markets.get(symbol);
    const ticks = m ? ticksAt(m, t) : null;
    return m && ticks !== null ? fmt8(BigInt(ticks) * m.sym.tickE8) : null;
  }

  /**
   * SIGNED checks: key (-2014/-2015, 401), mandatory parameters (-1102), recvWindow (choice:
   * -1131 BAD_RECV_WINDOW, from errors.md; research §2.3), signature (-1022), timing (-1021).
   */
  function authenticate(
    req: IncomingMessage,
    rawQuery: string,
    rawBody: string,
    params: Map<string, string>,
  ): Account {
    const key = req.headers['x-mbx-apikey'];
    if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(key))
      throw new Reject(401, -2014, 'API-key format invalid.');
    const acct = accounts.get(key);
    if (!acct) throw new Reject(401, -2015, 'Invalid API-key, IP, or permissions for action.');
    const sig = params.get('signature');
    if (sig === undefined || sig === '') throw mandatory('signature');
    const ts = params.get('timestamp');
    if (ts === undefined || !/^\d{1,16}$/.test(ts)) throw mandatory('timestamp');
    const rw = params.get('recvWindow');
    if (rw !== undefined && !/^\d{1,9}(\.\d{1,3})?$/.test(rw))
      throw bad(
        -1100,
        "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,9}(\\.[0-9]{1,3})?$'.",
      );
    const recvWindow = rw === undefined ? 5000 : Number(rw);
    if (recvWindow > MAX_RECV_WINDOW) throw bad(-1131, 'recvWindow must be less than 60000');
    if (!verifySignature(acct.secret, rawQuery, rawBody))
      throw bad(-1022, 'Signature for this request is not valid.');
    const serverTime = now();
    const timestamp = toMs(Number(ts));
    if (timestamp >= serverTime + 1000)
      throw bad(-1021, "Timestamp for this request was 1000ms ahead of the server's time.");
    if (serverTime - timestamp > recvWindow)
      throw bad(-1021, 'Timestamp for this request is outside of the recvWindow.');
    faults(acct);
    return acct;
  }

  /** The adversarial modes that act on any signed request of the account. */
  function faults(a: Account): void {
    const n = ++a.signedRequests;
    const { authFailAfter, outage } = a.spec;
    if (authFailAfter !== undefined && n > authFailAfter)
      throw new Reject(401, -2015, 'Invalid API-key, IP, or permissions for action.');
    if (outage && n % outage.every === 0) a.outageLeft = outage.length;
    if (a.outageLeft > 0) {
      a.outageLeft--;
      throw new Reject(503, -1008, 'Service Unavailable.');
    }
  }

  function exchangeInfo(): unknown {
    return {
      timezone: 'UTC',
      serverTime: now(),
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
        { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
        { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
      ],
      exchangeFilters: [],
      symbols: SYMBOLS.map(symbolInfo),
    };
  }

  /** GET /sapi/v1/account/apiRestrictions: the key's flags, shaped as the wallet docs show them. */
  function apiRestrictions(a: Account): unknown {
    const trade = a.spec.canTrade ?? true;
    return {
      ipRestrict: false,
      createTime: a.createTime,
      enableReading: true,
      enableWithdrawals: a.spec.canWithdraw ?? false,
      enableInternalTransfer: false,
      enableMargin: false,
      enableFutures: a.spec.canFutures ?? false,
      permitsUniversalTransfer: false,
      enableVanillaOptions: false,
      enableFixApiTrade: false,
      enableFixReadOnly: true,
      enableSpotAndMarginTrading: trade,
      enablePortfolioMarginTrading: false,
    };
  }

  /** GET /sapi/v1/capital/deposit/hisrec, filtered on insertTime. */
  function depositHistory(a: Account, p: Map<string, string>): SimDeposit[] {
    return queryHistory(a.deposits, (d) => d.insertTime, p, now());
  }

  /** GET /sapi/v1/capital/withdraw/history, filtered on applyTime (UTC, second resolution). */
  function withdrawHistory(a: Account, p: Map<string, string>): SimWithdrawal[] {
    return queryHistory(a.withdrawals, withdrawalTime, p, now());
  }

  type Route = {
    pool: Pool;
    weight: (p: Map<string, string>) => number;
    signed: boolean;
    /** accepted parameters (signed routes add recvWindow, timestamp, signature); unchecked if absent */
    params?: string[];
    run: (p: Map<string, string>, a: Account | undefined) => unknown;
  };
  const api = pools.api;
  const routes: Record<string, Route> = {
    '/api/v3/ping': { pool: api, weight: () => 1, signed: false, run: () => ({}) },
    '/api/v3/time': {
      pool: api,
      weight: () => 1,
      signed: false,
      run: () => ({ serverTime: now() }),
    },
    '/api/v3/exchangeInfo': { pool: api, weight: () => 20, signed: false, run: exchangeInfo },
    '/api/v3/klines': {
      pool: api,
      weight: () => 2,
      signed: false,
      params: ['symbol', 'interval', 'startTime', 'endTime', 'timeZone', 'limit'],
      run: (p) => klinesRequest(markets, p, now()),
    },
    '/api/v3/account': {
      pool: api,
      weight: () => 20,
      signed: true,
      params: ['omitZeroBalances'],
      run: (p, a) => accountInfo(a!, p),
    },
    '/api/v3/myTrades': {
      pool: api,
      weight: (p) => (p.has('orderId') ? 5 : 20),
      signed: true,
      params: ['symbol', 'orderId', 'startTime', 'endTime', 'fromId', 'limit'],
      run: (p, a) => {
        const t = a!.hideAfter;
        const view =
          t === null
            ? a!
            : {
                ...a!,
                bySymbol: new Map(
                  [...a!.bySymbol].map(([k, v]) => [k, v.filter((x) => x.time <= t)]),
                ),
              };
        const rows = myTrades(view, p, a!.spec.pageEdgeDuplicates === true);
        a!.tradeRowsServed += rows.length;
        return rows;
      },
    },
    // choice: txId, withdrawOrderId and idList filters are not simulated; sending them is -1101
    '/sapi/v1/capital/deposit/hisrec': {
      pool: pools.sapiIp,
      weight: () => 1,
      signed: true,
      params: ['includeSource', 'coin', 'status', 'startTime', 'endTime', 'offset', 'limit'],
      run: (p, a) => depositHistory(a!, p),
    },
    '/fapi/v1/ping': { pool: pools.fapi, weight: () => 1, signed: false, run: () => ({}) },
    '/fapi/v1/time': {
      pool: pools.fapi,
      weight: () => 1,
      signed: false,
      run: () => ({ serverTime: now() }),
    },
    '/fapi/v1/exchangeInfo': {
      pool: pools.fapi,
      weight: () => 1,
      signed: false,
      run: () => usdmExchangeInfo(pools.fapi.limit, now()),
    },
    '/fapi/v1/userTrades': {
      pool: pools.fapi,
      weight: () => 5,
      signed: true,
      params: ['symbol', 'orderId', 'startTime', 'endTime', 'fromId', 'limit'],
      run: (p, a) => userTrades(a!.usdm, p, now(), a!.spec.pageEdgeDuplicates === true),
    },
    '/fapi/v1/income': {
      pool: pools.fapi,
      weight: () => 30,
      signed: true,
      params: ['symbol', 'incomeType', 'startTime', 'endTime', 'page', 'limit'],
      run: (p, a) => incomeHistory(a!.usdm, p, now()),
    },
    '/fapi/v2/balance': {
      pool: pools.fapi,
      weight: () => 5,
      signed: true,
      params: [],
      run: (_p, a) => usdmBalance(a!.usdm, now()),
    },
    '/fapi/v2/positionRisk': {
      pool: pools.fapi,
      weight: () => 5,
      signed: true,
      params: ['symbol'],
      run: (_p, a) => positionRisk(a!.usdm, priceE8, now()),
    },
    '/sapi/v1/account/apiRestrictions': {
      pool: pools.sapiRestrictions,
      weight: () => 1,
      signed: true,
      params: [],
      run: (_p, a) => apiRestrictions(a!),
    },
    '/sapi/v1/capital/withdraw/history': {
      pool: pools.sapiIp1s,
      weight: () => 18_000,
      signed: true,
      params: ['coin', 'status', 'startTime', 'endTime', 'offset', 'limit'],
      run: (p, a) => withdrawHistory(a!, p),
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, rawQuery } = splitUrl(req);
    const rawBody = await readBody(req, 64 * 1024);
    if (path.startsWith('/__sim/')) return admin(req, res, path, rawQuery, rawBody);
    const fault = faultPlan.pick(path);
    if (fault?.kind === 'hang') return; // never answered; close() destroys the socket
    if (fault?.kind === 'latency') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'status')
      return send(res, fault.status!, {
        code: -1001,
        msg: 'Internal error; unable to process your request. Please try again.',
      });
    const reply = fault?.kind === 'reset' ? sendTruncated : send;

    const route = req.method === 'GET' && Object.hasOwn(routes, path) ? routes[path] : undefined;
    const pool = route?.pool ?? api;
    const ip = req.socket.remoteAddress ?? '?';
    let used: Record<string, string> = {};
    try {
      // malformed queries still cost weight, so they cannot be used to hammer for free
      let params = new Map<string, string>();
      let malformed: Reject | undefined;
      try {
        params = parseQuery(rawQuery);
      } catch (e) {
        malformed = e as Reject;
      }
      const m = meter(ip, pool, route && !malformed ? route.weight(params) : 1);
      used = { [pool.header]: String(m.used) };
      if (m.reject) throw m.reject;
      if (malformed) throw malformed;
      if (!route)
        return send(
          res,
          404,
          { code: -1, msg: `sim: no such endpoint ${req.method} ${path}` },
          used,
        );
      let acct: Account | undefined;
      if (route.signed) acct = authenticate(req, rawQuery, rawBody, params);
      if (route.params) {
        const signing = route.signed ? ['recvWindow', 'timestamp', 'signature'] : [];
        const allowed = new Set([...route.params, ...signing]);
        const extra = [...params.keys()].filter((k) => !allowed.has(k));
        if (extra.length > 0)
          throw bad(
            -1101,
            `Too many parameters; expected '${[...allowed].join(',')}' and received '${[...params.keys()].join(',')}'.`,
          );
      }
      reply(res, 200, route.run(params, acct), used);
    } catch (e) {
      if (!(e instanceof Reject)) throw e;
      reply(res, e.status, { code: e.code, msg: e.msg }, { ...used, ...e.headers });
    }
  }

  function admin(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    rawQuery: string,
    rawBody: string,
  ): void {
    if (req.method === 'POST' && path === '/__sim/accounts') {
      let spec: SimAccountSpec;
      try {
        spec = JSON.parse(rawBody) as SimAccountSpec;
        addAccount(spec);
      } catch {
        return send(res, 400, { code: -1, msg: 'sim: invalid or duplicate account spec' });
      }
      return send(res, 201, { apiKey: spec.apiKey, uid: accounts.get(spec.apiKey)!.uid });
    }
    if (req.method === 'GET' && (path === '/__sim/truth' || path === '/__sim/flows')) {
      const key = new URLSearchParams(rawQuery).get('apiKey') ?? '';
      if (!accounts.has(key)) return send(res, 404, { code: -1, msg: 'sim: unknown account' });
      return send(res, 200, path === '/__sim/truth' ? truth(key) : flows(key));
    }
    if (path === '/__sim/faults') {
      if (req.method === 'GET') return send(res, 200, { rules: faultPlan.view() });
      if (req.method === 'DELETE') {
        faultPlan.set([]);
        return send(res, 200, { rules: [] });
      }
      if (req.method === 'POST') {
        try {
          faultPlan.set(parseFaultRules(JSON.parse(rawBody)));
        } catch {
          return send(res, 400, { code: -1, msg: 'sim: invalid fault rules' });
        }
        return send(res, 200, { rules: faultPlan.view() });
      }
    }
    send(res, 404, { code: -1, msg: `sim: no such endpoint ${req.method} ${path}` });
  }

  addAccount({ ...DEMO_ACCOUNT, usdm: { fills: 300, burst: 2000, delisted: true } }, true);
  addAccount({ ...DEMO_WITHDRAW_ACCOUNT, fills: 50 });
  const server = await listen(
    opts.port ?? 0,
    opts.host ?? '127.0.0.1',
    handle,
    { code: -1000, msg: 'An unknown error occurred while processing the request.' },
    JSON_TYPE,
  );
  return {
    url: server.url,
    addAccount: (a) => addAccount(a),
    truth,
    usdmTruth,
    flows,
    priceAt,
    stats: () => meter.stats(),
    hideTradesAfter: (apiKey, t) => {
      account(apiKey).hideAfter = t;
    },
    tradeRowsServed: (apiKey) => account(apiKey).tradeRowsServed,
    setFaults: (rules) => faultPlan.set(rules),
    close: server.close,
  };
}

/** `headers` carries the used-weight header of the request's pool, and Retry-After. */
function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, body, { ...JSON_TYPE, ...headers });
}

/** The `reset` fault: full headers, half the body, then the socket is destroyed mid-response. */
function sendTruncated(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const json = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { ...JSON_TYPE, 'Content-Length': json.length, ...headers });
  res.write(json.subarray(0, Math.floor(json.length / 2)), () => res.socket?.destroy());
}

function checkSpec(s: SimAccountSpec): void {
  const ok =
    isKeyAndSecret(s) &&
    (s.seed === undefined || Number.isSafeInteger(s.seed)) &&
    (s.fills === undefined ||
      (Number.isSafeInteger(s.fills) && s.fills >= 0 && s.fills <= 100_000)) &&
    (s.burst === undefined ||
      (Number.isSafeInteger(s.burst) && s.burst >= 0 && s.burst <= 10_000)) &&
    (s.canWithdraw === undefined || typeof s.canWithdraw === 'boolean') &&
    (s.canTrade === undefined || typeof s.canTrade === 'boolean') &&
    (s.authFailAfter === undefined ||
      (Number.isSafeInteger(s.authFailAfter) && s.authFailAfter >= 0)) &&
    (s.outage === undefined ||
      (typeof s.outage === 'object' &&
        s.outage !== null &&
        Number.isSafeInteger(s.outage.every) &&
        s.outage.every >= 2 &&
        Number.isSafeInteger(s.outage.length) &&
        s.outage.length >= 1 &&
        s.outage.length < s.outage.every)) &&
    (s.pageEdgeDuplicates === undefined || typeof s.pageEdgeDuplicates === 'boolean') &&
    (s.usdm === undefined || validUsdm(s.usdm)) &&
    (s.canFutures === undefined || typeof s.canFutures === 'boolean') &&
    (s.uid === undefined || (Number.isSafeInteger(s.uid) && s.uid > 0)) &&
    (s.days === undefined || (Number.isSafeInteger(s.days) && s.days >= 2 && s.days <= 3649));
  if (!ok) throw new Error('sim: invalid account spec');
}

function validUsdm(u: UsdmSpec): boolean {
  return (
    typeof u === 'object' &&
    u !== null &&
    optInt(u.fills, 0, 100_000) &&
    optInt(u.burst, 0, 10_000) &&
    optInt(u.days, 10, 85) &&
    optInt(u.gapDays, 0, 60) &&
    (u.bnbFees === undefined || typeof u.bnbFees === 'boolean') &&
    (u.delisted === undefined || typeof u.delisted === 'boolean') &&
    (u.strictFromId === undefined || typeof u.strictFromId === 'boolean')
  );
}

function pick(names: string[]): SimSymbol[] {
  return names.map((n) => SYMBOLS.find((s) => s.symbol === n)!);
}

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const rnd = prng(seed ^ 0x5bd1e995);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
