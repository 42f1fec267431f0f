/**
 * A simulated Binance spot REST API over real HTTP, for tests and demos. It checks what Binance
 * checks (binance-spot-api-docs rest-api.md @ a5e0bc3: "Timing security", "SIGNED Endpoint
 * security", "IP Limits", "Account trade list"; errors.md), so a client that passes here is not
 * relying on leniency. Facts the docs leave open are marked "choice:".
 *
 * Every request is attacker-controlled input: parsed strictly, answered with Binance-style
 * `{code,msg}` errors, never logged. Secrets live only in memory, inside the account table.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SYMBOLS,
  fmt8,
  generateAccount,
  hash32,
  prng,
  symbolInfo,
  type SimSymbol,
  type SimTrade,
} from './binance-data.js';

export type { SimTrade } from './binance-data.js';

export interface SimAccountSpec {
  apiKey: string;
  apiSecret: string;
  /** data seed; default derived from the simulator seed and the key */
  seed?: number;
  /** ordinary fills (default 400) */
  fills?: number;
  /** fills of one market order sharing a single millisecond (default 0; the demo account has 1,200) */
  burst?: number;
  canWithdraw?: boolean;
  uid?: number;
}

export interface BinanceSimOptions {
  port?: number;
  host?: string;
  seed?: number;
  weightLimitPerMinute?: number;
  /** length of a weight bucket; 60 000 like Binance. Shorter only so tests can wait it out. */
  weightWindowMs?: number;
  now?: () => number;
}

export interface BinanceSim {
  url: string;
  close(): Promise<void>;
  addAccount(a: SimAccountSpec): void;
  /** every trade of the account, the ground truth a client must reproduce */
  truth(apiKey: string): SimTrade[];
}

/** Public demo credentials of the seeded account (not secrets: they only open the simulator). */
export const DEMO_ACCOUNT = {
  apiKey: 'demo-binance-key',
  apiSecret: 'demo-binance-secret',
} as const;

const DAY = 86_400_000;
const MAX_RECV_WINDOW = 60_000;
const BAN_MIN_MS = 120_000; // "IP bans ... scale in duration ... from 2 minutes to 3 days"
const BAN_MAX_MS = 3 * DAY;

class Reject extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(msg);
  }
}
const bad = (code: number, msg: string) => new Reject(400, code, msg);
const mandatory = (p: string) =>
  bad(-1102, `Mandatory parameter '${p}' was not sent, was empty/null, or malformed.`);

interface Account {
  spec: SimAccountSpec;
  secret: Buffer;
  uid: number;
  balances: Map<string, bigint>;
  updateTime: number;
  /** symbol → trades sorted by id (ids rise with time) */
  bySymbol: Map<string, SimTrade[]>;
}

interface IpState {
  bucket: number;
  used: number;
  /** a 429 told the client to wait until then; requests before it are violations */
  backoffUntil: number;
  strikes: number;
  bannedUntil: number;
  bans: number;
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
  const accounts = new Map<string, Account>();
  const ips = new Map<string, IpState>();

  function addAccount(spec: SimAccountSpec, demo = false): void {
    checkSpec(spec);
    if (accounts.has(spec.apiKey)) throw new Error('sim: account already exists');
    const aSeed = spec.seed ?? hash32(spec.apiKey, seed);
    const symbols = demo
      ? pick(['BTCUSDT', 'ETHUSDT', 'LUNAUSDT'])
      : shuffle(SYMBOLS, aSeed).slice(0, 3);
    // anchored to the current UTC day so the data is stable within a day and ends "now"
    const g = generateAccount({
      seed: aSeed,
      fills: spec.fills ?? 400,
      burst: spec.burst ?? (demo ? 1200 : 0),
      symbols,
      end: Math.floor(now() / DAY) * DAY,
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
      uid: spec.uid ?? g.uid,
      balances: g.balances,
      updateTime: g.updateTime,
      bySymbol,
    });
  }

  function truth(apiKey: string): SimTrade[] {
    const a = accounts.get(apiKey);
    if (!a) throw new Error('sim: unknown account');
    return [...a.bySymbol.values()]
      .flat()
      .map((t) => ({ ...t }))
      .sort((x, y) => x.time - y.time || x.symbol.localeCompare(y.symbol) || x.id - y.id);
  }

  /** Per-IP weight in fixed buckets; 429 past the limit, 418 for clients that ignore Retry-After. */
  function meter(ip: string, weight: number): { used: number; reject?: Reject } {
    const t = now();
    const bucket = Math.floor(t / windowMs);
    let s = ips.get(ip);
    if (!s)
      ips.set(ip, (s = { bucket, used: 0, backoffUntil: 0, strikes: 0, bannedUntil: 0, bans: 0 }));
    if (s.bucket !== bucket) [s.bucket, s.used] = [bucket, 0];
    const secs = (until: number) => String(Math.max(1, Math.ceil((until - t) / 1000)));
    if (s.bannedUntil > t) {
      return {
        used: s.used,
        reject: new Reject(
          418,
          -1003,
          `Way too much request weight used; IP banned until ${s.bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.`,
          { 'Retry-After': secs(s.bannedUntil) },
        ),
      };
    }
    if (s.backoffUntil > t) {
      // choice: the 3rd violation in a row (the first 429 included) earns a ban, as research §2.3
      if (++s.strikes >= 3) {
        s.bans++;
        s.bannedUntil = t + Math.min(BAN_MIN_MS * 2 ** (s.bans - 1), BAN_MAX_MS);
        s.backoffUntil = 0;
        s.strikes = 0;
        return meter(ip, weight);
      }
      return { used: s.used, reject: tooMuch(secs(s.backoffUntil)) };
    }
    s.strikes = 0;
    if (s.used + weight > limit) {
      const retry = secs((bucket + 1) * windowMs);
      s.backoffUntil = t + Number(retry) * 1000;
      s.strikes = 1;
      return { used: s.used, reject: tooMuch(retry) };
    }
    s.used += weight;
    return { used: s.used };
  }
  const tooMuch = (retryAfter: string) =>
    new Reject(
      429,
      -1003,
      `Too much request weight used; current limit is ${limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
      { 'Retry-After': retryAfter },
    );

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
    return acct;
  }

  function accountInfo(a: Account, p: Map<string, string>): unknown {
    const omit = p.get('omitZeroBalances');
    if (omit !== undefined && omit !== 'true' && omit !== 'false')
      throw bad(-1130, "Data sent for parameter 'omitZeroBalances' is not valid.");
    const assets = new Set<string>([
      ...a.balances.keys(),
      ...SYMBOLS.flatMap((s) => [s.base, s.quote]),
    ]);
    const balances = [...assets]
      .sort()
      .map((asset) => ({ asset, free: fmt8(a.balances.get(asset) ?? 0n), locked: '0.00000000' }))
      .filter((b) => omit !== 'true' || b.free !== '0.00000000');
    return {
      makerCommission: 10,
      takerCommission: 10,
      buyerCommission: 0,
      sellerCommission: 0,
      commissionRates: {
        maker: '0.00100000',
        taker: '0.00100000',
        buyer: '0.00000000',
        seller: '0.00000000',
      },
      canTrade: true,
      canWithdraw: a.spec.canWithdraw ?? false,
      canDeposit: true,
      brokered: false,
      requireSelfTradePrevention: false,
      preventSor: false,
      updateTime: a.updateTime,
      accountType: 'SPOT',
      balances,
      permissions: ['SPOT'],
      uid: a.uid,
    };
  }

  /** GET /api/v3/myTrades semantics from "Account trade list" and "General API Information". */
  function myTrades(a: Account, p: Map<string, string>): SimTrade[] {
    const symbol = p.get('symbol');
    if (symbol === undefined || symbol === '') throw mandatory('symbol');
    if (!SYMBOLS.some((s) => s.symbol === symbol)) throw bad(-1121, 'Invalid symbol.');
    const num = (k: string): number | undefined => {
      const v = p.get(k);
      if (v === undefined) return undefined;
      if (!/^\d{1,19}$/.test(v))
        throw bad(
          -1100,
          `Illegal characters found in parameter '${k}'; legal range is '^[0-9]{1,20}$'.`,
        );
      return Number(v);
    };
    const orderId = num('orderId');
    const fromId = num('fromId');
    const rawStart = num('startTime');
    const rawEnd = num('endTime');
    const lim = num('limit') ?? 500;
    // choice: the docs only say "Maximum: 1000"; we reject rather than clamp, so a client that
    // assumes bigger pages fails loudly instead of silently losing rows
    if (lim < 1 || lim > 1000) throw bad(-1130, "Data sent for parameter 'limit' is not valid.");
    const combo = ['orderId', 'startTime', 'endTime', 'fromId'].filter((k) => p.has(k)).join('+');
    if (
      ![
        '',
        'orderId',
        'startTime',
        'endTime',
        'fromId',
        'startTime+endTime',
        'orderId+fromId',
      ].includes(combo)
    ) {
      throw bad(-1128, 'Combination of optional parameters invalid.');
    }
    const start = rawStart === undefined ? undefined : toMs(rawStart);
    const end = rawEnd === undefined ? undefined : toMs(rawEnd);
    if (start !== undefined && end !== undefined && end - start > DAY)
      throw bad(-1127, 'More than 24 hours between startTime and endTime.');
    let rows = a.bySymbol.get(symbol) ?? [];
    if (orderId !== undefined) rows = rows.filter((t) => t.orderId === orderId);
    if (fromId !== undefined) return rows.filter((t) => t.id >= fromId).slice(0, lim);
    if (start !== undefined)
      return rows
        .filter((t) => t.time >= start && (end === undefined || t.time <= end))
        .slice(0, lim);
    if (end !== undefined) rows = rows.filter((t) => t.time <= end);
    return rows.slice(Math.max(0, rows.length - lim)); // most recent `limit`, still chronological
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

  type Route = {
    weight: (p: Map<string, string>) => number;
    signed: boolean;
    run: (p: Map<string, string>, a: Account | undefined) => unknown;
  };
  const routes: Record<string, Route> = {
    '/api/v3/ping': { weight: () => 1, signed: false, run: () => ({}) },
    '/api/v3/time': { weight: () => 1, signed: false, run: () => ({ serverTime: now() }) },
    '/api/v3/exchangeInfo': { weight: () => 20, signed: false, run: exchangeInfo },
    '/api/v3/account': { weight: () => 20, signed: true, run: (p, a) => accountInfo(a!, p) },
    '/api/v3/myTrades': {
      weight: (p) => (p.has('orderId') ? 5 : 20),
      signed: true,
      run: (p, a) => myTrades(a!, p),
    },
  };
  const ALLOWED: Record<string, string[]> = {
    '/api/v3/account': ['omitZeroBalances'],
    '/api/v3/myTrades': ['symbol', 'orderId', 'startTime', 'endTime', 'fromId', 'limit'],
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    const rawBody = await readBody(req, 64 * 1024);
    if (path.startsWith('/__sim/')) return admin(req, res, path, rawQuery, rawBody);

    const route = req.method === 'GET' ? routes[path] : undefined;
    const ip = req.socket.remoteAddress ?? '?';
    let used = 0;
    try {
      // malformed queries still cost weight, so they cannot be used to hammer for free
      let params = new Map<string, string>();
      let malformed: Reject | undefined;
      try {
        params = parseQuery(rawQuery);
      } catch (e) {
        malformed = e as Reject;
      }
      const m = meter(ip, route && !malformed ? route.weight(params) : 1);
      used = m.used;
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
      if (route.signed) {
        acct = authenticate(req, rawQuery, rawBody, params);
        const allowed = new Set([...(ALLOWED[path] ?? []), 'recvWindow', 'timestamp', 'signature']);
        const extra = [...params.keys()].filter((k) => !allowed.has(k));
        if (extra.length > 0)
          throw bad(
            -1101,
            `Too many parameters; expected '${[...allowed].join(',')}' and received '${[...params.keys()].join(',')}'.`,
          );
      }
      send(res, 200, route.run(params, acct), used);
    } catch (e) {
      if (!(e instanceof Reject)) throw e;
      send(res, e.status, { code: e.code, msg: e.msg }, used, e.headers);
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
    if (req.method === 'GET' && path === '/__sim/truth') {
      const key = new URLSearchParams(rawQuery).get('apiKey') ?? '';
      if (!accounts.has(key)) return send(res, 404, { code: -1, msg: 'sim: unknown account' });
      return send(res, 200, truth(key));
    }
    send(res, 404, { code: -1, msg: `sim: no such endpoint ${req.method} ${path}` });
  }

  addAccount({ ...DEMO_ACCOUNT }, true);
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent)
        send(res, 500, {
          code: -1000,
          msg: 'An unknown error occurred while processing the request.',
        });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    addAccount: (a) => addAccount(a),
    truth,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // clients keep sockets alive; don't wait for them
      }),
  };
}

/** Timestamps may be sent in microseconds ("General API Information"). */
function toMs(t: number): number {
  return t >= 1e14 ? Math.floor(t / 1000) : t;
}

/** Strict query parser: printable ASCII only (-1100), each name once (-1101). */
function parseQuery(raw: string): Map<string, string> {
  if (/[^\x21-\x7e]/.test(raw)) throw bad(-1100, 'Illegal characters found in a parameter.');
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(raw)) {
    if (out.has(k)) throw bad(-1101, 'Duplicate values for a parameter detected.');
    out.set(k, v);
  }
  return out;
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        reject(new Error('sim: body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  usedWeight?: number,
  headers: Record<string, string> = {},
): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(json),
    ...(usedWeight === undefined ? {} : { 'X-MBX-USED-WEIGHT-1M': String(usedWeight) }),
    ...headers,
  });
  res.end(json);
}

function checkSpec(s: SimAccountSpec): void {
  const ok =
    typeof s === 'object' &&
    s !== null &&
    typeof s.apiKey === 'string' &&
    /^[A-Za-z0-9_-]{1,128}$/.test(s.apiKey) &&
    typeof s.apiSecret === 'string' &&
    s.apiSecret.length >= 1 &&
    s.apiSecret.length <= 256 &&
    (s.seed === undefined || Number.isSafeInteger(s.seed)) &&
    (s.fills === undefined ||
      (Number.isSafeInteger(s.fills) && s.fills >= 0 && s.fills <= 100_000)) &&
    (s.burst === undefined ||
      (Number.isSafeInteger(s.burst) && s.burst >= 0 && s.burst <= 10_000)) &&
    (s.canWithdraw === undefined || typeof s.canWithdraw === 'boolean') &&
    (s.uid === undefined || (Number.isSafeInteger(s.uid) && s.uid > 0));
  if (!ok) throw new Error('sim: invalid account spec');
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
