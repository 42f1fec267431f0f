/**
 * A simulated Coinbase Advanced Trade REST API (plus the v2 transactions the Advanced Trade API
 * has no equivalent for) over real HTTP, for tests and demos. It checks what Coinbase checks: a
 * fresh ES256 JWT per request, verified against the account's own P-256 public key and bound to
 * method, host and path (./coinbase-jwt.ts); per-key and per-IP request rates with 429 +
 * Retry-After; page-size bounds; opaque cursors. Facts the docs leave open are marked "choice:".
 *
 * Served: /api/v3/brokerage/{key_permissions, accounts, orders/historical/fills} (private),
 * /api/v3/brokerage/market/products[/<id>/candles] and /time (public), and
 * /v2/accounts/<uuid>/transactions (private), answered by ./coinbase-endpoints.ts. Adversarial
 * modes are per account (spec below).
 *
 * Every request is attacker-controlled input: parsed strictly, never logged. The simulator keeps
 * only public keys; a private key exists in the answer to the call that created its account (the
 * demo account's is printed at start).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildMarket, ticksAt, type MarketPath } from './binance-market.js';
import { DAY, fmt8, hash32, hex, prng } from './binance-prim.js';
import {
  CB_PRODUCTS,
  generateCoinbaseAccount,
  type CbFill,
  type CbTransaction,
  type CbWallet,
} from './coinbase-data.js';
import {
  Reply,
  candles,
  cmpKey,
  fillKey,
  keyPermissions,
  listAccounts,
  listFills,
  listTransactions,
  only,
  products,
} from './coinbase-endpoints.js';
import { JwtRejected, verifyCdpJwt } from './coinbase-jwt.js';
import { listen, optInt, readBody, sendJson } from './sim-http.js';

export type { CbFill, CbTransaction } from './coinbase-data.js';
export { MAX_FILLS_PAGE } from './coinbase-endpoints.js';

export interface CoinbaseSimAccountSpec {
  /** key name; default `organizations/<uuid>/apiKeys/<uuid>` from the seed */
  apiKey?: string;
  seed?: number;
  /** ordinary fills (default 400) */
  fills?: number;
  /** fills of one market order in a single millisecond (default 0; the demo account has 2,000) */
  burst?: number;
  /** days without fills in the middle of the history (default 0; the demo has 21) */
  gapDays?: number;
  /** days of history before the sim's current UTC day (default 90) */
  days?: number;
  canTrade?: boolean;
  canTransfer?: boolean;
  /** each fills page repeats the last row of the page before it */
  pageEdgeDuplicates?: boolean;
  /** pages mid-history come back shorter than `limit`, with a cursor */
  shortPages?: boolean;
  /** the key is revoked (401) after this many private requests */
  authFailAfter?: number;
  /** after `after` private requests, the next `count` answer 503 */
  serverErrors?: { after: number; count: number };
  /** after `after` private requests, one answer is 429 with `Retry-After: seconds` */
  rateLimitFault?: { after: number; seconds: number };
}

export interface CoinbaseSimOptions {
  port?: number;
  host?: string;
  seed?: number;
  now?: () => number;
  /** days of market history before the current UTC day; default 120 */
  historyDays?: number;
  /** private requests per second per key (Coinbase: 30) */
  privatePerSecond?: number;
  /** public requests per second per IP (Coinbase: 10) */
  publicPerSecond?: number;
}

export interface CoinbaseSimStats {
  /** private requests answered (any status) */
  requests: number;
  /** 429s sent to this key */
  rateLimited: number;
  /** most private requests accepted in any one 1-second window */
  maxPerSecond: number;
}

export interface CoinbaseSim {
  url: string;
  close(): Promise<void>;
  /** creates an account with a fresh P-256 key; returns its credentials (PEM private key) */
  addAccount(spec?: CoinbaseSimAccountSpec): { apiKey: string; apiSecret: string };
  /** every fill of the account, newest first, as served */
  truth(apiKey: string): CbFill[];
  /** every wallet with its transactions (any status) and current balance */
  wallets(
    apiKey: string,
  ): { currency: string; uuid: string; balance: string; transactions: CbTransaction[] }[];
  stats(apiKey: string): CoinbaseSimStats;
  /** the market price of a product at `t` (8 dp), or null */
  priceAt(product: string, t: number): string | null;
  /** the demo account's credentials */
  demo: { apiKey: string; apiSecret: string };
}

interface Account {
  spec: CoinbaseSimAccountSpec;
  publicKey: KeyObject;
  fills: CbFill[];
  wallets: CbWallet[];
  portfolioId: string;
  served: number;
  stats: CoinbaseSimStats;
  window: { second: number; used: number };
  faultsDone: Set<string>;
}

export async function startCoinbaseSim(opts: CoinbaseSimOptions = {}): Promise<CoinbaseSim> {
  const now = opts.now ?? Date.now;
  const seed = opts.seed ?? 1;
  const historyDays = opts.historyDays ?? 120;
  const privateLimit = opts.privatePerSecond ?? 30;
  const publicLimit = opts.publicPerSecond ?? 10;
  const accounts = new Map<string, Account>();
  const publicWindows = new Map<string, { second: number; used: number }>();
  const seen = new Map<string, number>();
  const end = Math.floor(now() / DAY) * DAY;
  const origin = end - historyDays * DAY;
  const markets = new Map<string, MarketPath>();
  for (const s of CB_PRODUCTS)
    markets.set(s.symbol, buildMarket(seed, s, origin, (historyDays + 8) * 24));
  let created = 0;

  function addAccount(spec: CoinbaseSimAccountSpec = {}): { apiKey: string; apiSecret: string } {
    checkSpec(spec);
    const aSeed = spec.seed ?? hash32(`coinbase:${created++}`, seed);
    const rnd = prng(aSeed ^ 0x1b873593);
    const uuid = () =>
      `${hex(rnd, 8)}-${hex(rnd, 4)}-${hex(rnd, 4)}-${hex(rnd, 4)}-${hex(rnd, 12)}`;
    const apiKey = spec.apiKey ?? `organizations/${uuid()}/apiKeys/${uuid()}`;
    if (accounts.has(apiKey)) throw new Error('sim: account already exists');
    const days = spec.days ?? 90;
    if (days >= historyDays || days < 10) throw new Error('sim: days must be in [10, historyDays)');
    if ((spec.gapDays ?? 0) * 4 > days) throw new Error('sim: gapDays must be at most days / 4');
    const g = generateCoinbaseAccount({
      seed: aSeed,
      fills: spec.fills ?? 400,
      burst: spec.burst ?? 0,
      gapDays: spec.gapDays ?? 0,
      end,
      days,
      ticks: (symbol, t) => {
        const v = ticksAt(markets.get(symbol)!, t);
        if (v === null) throw new Error(`sim: no ${symbol} price at ${t}`);
        return v;
      },
    });
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    accounts.set(apiKey, {
      spec: { ...spec },
      publicKey,
      fills: g.fills.sort((a, b) => cmpKey(fillKey(b), fillKey(a))),
      wallets: g.wallets,
      portfolioId: g.portfolioId,
      served: 0,
      stats: { requests: 0, rateLimited: 0, maxPerSecond: 0 },
      window: { second: -1, used: 0 },
      faultsDone: new Set(),
    });
    // SEC1 "EC PRIVATE KEY" PEM: the format the CDP portal hands out for ECDSA keys
    return { apiKey, apiSecret: privateKey.export({ type: 'sec1', format: 'pem' }) as string };
  }

  function account(apiKey: string): Account {
    const a = accounts.get(apiKey);
    if (!a) throw new Error('sim: unknown account');
    return a;
  }

  /** Fixed one-second windows; a request over the limit is refused and not counted. */
  function admit(w: { second: number; used: number }, limit: number): Reply | undefined {
    const t = now();
    const second = Math.floor(t / 1000);
    if (w.second !== second) [w.second, w.used] = [second, 0];
    if (w.used >= limit) {
      const retry = String(Math.max(1, Math.ceil(((second + 1) * 1000 - t) / 1000)));
      return new Reply(
        429,
        { error: 'RATE_LIMIT_EXCEEDED', message: 'Too many requests' },
        { 'Retry-After': retry },
      );
    }
    w.used++;
    return undefined;
  }

  function authenticate(req: IncomingMessage, path: string): Account {
    let kid: string;
    try {
      kid = verifyCdpJwt(req.headers['authorization'], {
        publicKey: (k) => accounts.get(k)?.publicKey,
        method: req.method ?? 'GET',
        host: req.headers['host'] ?? '',
        path,
        now: Math.floor(now() / 1000),
        seen,
      });
    } catch (e) {
      if (!(e instanceof JwtRejected)) throw e;
      throw new Reply(401, {
        error: 'UNAUTHENTICATED',
        message: 'Unauthorized',
        error_details: e.message,
      });
    }
    const a = accounts.get(kid)!;
    a.stats.requests++;
    const limited = admit(a.window, privateLimit);
    if (limited) {
      a.stats.rateLimited++;
      throw limited;
    }
    a.stats.maxPerSecond = Math.max(a.stats.maxPerSecond, a.window.used);
    const n = ++a.served;
    const { authFailAfter, serverErrors, rateLimitFault } = a.spec;
    if (authFailAfter !== undefined && n > authFailAfter)
      throw new Reply(401, {
        error: 'UNAUTHENTICATED',
        message: 'Unauthorized',
        error_details: 'key revoked',
      });
    if (serverErrors && n > serverErrors.after && n <= serverErrors.after + serverErrors.count)
      throw new Reply(503, { error: 'UNAVAILABLE', message: 'service unavailable' });
    if (rateLimitFault && n > rateLimitFault.after && !a.faultsDone.has('429')) {
      a.faultsDone.add('429');
      a.stats.rateLimited++;
      throw new Reply(
        429,
        { error: 'RATE_LIMIT_EXCEEDED', message: 'Too many requests' },
        { 'Retry-After': String(rateLimitFault.seconds) },
      );
    }
    return a;
  }

  function priceAt(product: string, t: number): string | null {
    const m = markets.get(product);
    const v = m ? ticksAt(m, t) : null;
    return m && v !== null ? fmt8(BigInt(v) * m.sym.tickE8) : null;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    const q = url.searchParams;
    const body = await readBody(req, 64 * 1024);
    if (path.startsWith('/__sim/')) return admin(req, res, path, q, body);
    try {
      if (req.method !== 'GET')
        throw new Reply(404, { error: 'NOT_FOUND', message: 'sim: GET only' });
      if (path.startsWith('/api/v3/brokerage/market/') || path === '/api/v3/brokerage/time') {
        const ip = req.socket.remoteAddress ?? '?';
        let w = publicWindows.get(ip);
        if (!w) publicWindows.set(ip, (w = { second: -1, used: 0 }));
        const limited = admit(w, publicLimit);
        if (limited) throw limited;
        if (path === '/api/v3/brokerage/time') {
          const t = now();
          return sendJson(res, 200, {
            iso: new Date(t).toISOString(),
            epochSeconds: String(Math.floor(t / 1000)),
            epochMillis: String(t),
          });
        }
        if (path === '/api/v3/brokerage/market/products')
          return sendJson(
            res,
            200,
            products(q, (id) => priceAt(id, now())),
          );
        const m =
          /^\/api\/v3\/brokerage\/market\/products\/([A-Z0-9]{1,12}-[A-Z0-9]{1,12})\/candles$/.exec(
            path,
          );
        if (m) return sendJson(res, 200, candles(markets, m[1]!, q, now()));
        throw new Reply(404, { error: 'NOT_FOUND', message: `sim: no such endpoint ${path}` });
      }
      const tx = /^\/v2\/accounts\/([0-9a-f-]{36})\/transactions$/.exec(path);
      const known =
        path === '/api/v3/brokerage/key_permissions' ||
        path === '/api/v3/brokerage/accounts' ||
        path === '/api/v3/brokerage/orders/historical/fills' ||
        tx !== null;
      if (!known)
        throw new Reply(404, { error: 'NOT_FOUND', message: `sim: no such endpoint ${path}` });
      const a = authenticate(req, path);
      if (path === '/api/v3/brokerage/key_permissions') {
        only(q, []);
        return sendJson(res, 200, keyPermissions(a));
      }
      if (path === '/api/v3/brokerage/accounts') return sendJson(res, 200, listAccounts(a, q));
      if (tx) return sendJson(res, 200, listTransactions(a, tx[1]!, q));
      return sendJson(res, 200, listFills(a, q));
    } catch (e) {
      if (!(e instanceof Reply)) throw e;
      sendJson(res, e.status, e.body, e.headers);
    }
  }

  function admin(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    q: URLSearchParams,
    body: string,
  ): void {
    if (req.method === 'POST' && path === '/__sim/accounts') {
      try {
        return sendJson(res, 201, addAccount(JSON.parse(body || '{}') as CoinbaseSimAccountSpec));
      } catch {
        return sendJson(res, 400, {
          error: 'INVALID_ARGUMENT',
          message: 'sim: invalid account spec',
        });
      }
    }
    const key = q.get('apiKey') ?? '';
    if (req.method === 'GET' && accounts.has(key)) {
      if (path === '/__sim/truth') return sendJson(res, 200, truth(key));
      if (path === '/__sim/wallets') return sendJson(res, 200, wallets(key));
      if (path === '/__sim/stats') return sendJson(res, 200, account(key).stats);
    }
    sendJson(res, 404, { error: 'NOT_FOUND', message: `sim: no such endpoint or account` });
  }

  const truth = (apiKey: string): CbFill[] => account(apiKey).fills.map((f) => ({ ...f }));
  const wallets = (apiKey: string) =>
    account(apiKey).wallets.map((w) => ({
      currency: w.currency,
      uuid: w.uuid,
      balance: fmt8(w.balance),
      transactions: w.transactions.map((t) => structuredClone(t)),
    }));

  const demo = addAccount({ burst: 2000, gapDays: 21, canTrade: true });
  const server = await listen(opts.port ?? 0, opts.host ?? '127.0.0.1', handle, {
    error: 'INTERNAL',
    message: 'internal error',
  });
  return {
    url: server.url,
    addAccount,
    truth,
    wallets,
    stats: (k) => ({ ...account(k).stats }),
    priceAt,
    demo,
    close: server.close,
  };
}

function checkSpec(s: CoinbaseSimAccountSpec): void {
  const ok =
    typeof s === 'object' &&
    s !== null &&
    (s.apiKey === undefined ||
      (typeof s.apiKey === 'string' && /^[A-Za-z0-9/_-]{1,200}$/.test(s.apiKey))) &&
    optInt(s.seed, -(2 ** 31), 2 ** 32) &&
    optInt(s.fills, 0, 100_000) &&
    optInt(s.burst, 0, 10_000) &&
    optInt(s.gapDays, 0, 60) &&
    optInt(s.days, 10, 3649) &&
    optInt(s.authFailAfter, 0, 1_000_000) &&
    (s.serverErrors === undefined ||
      (optInt(s.serverErrors.after, 0, 1e6) && optInt(s.serverErrors.count, 1, 100))) &&
    (s.rateLimitFault === undefined ||
      (optInt(s.rateLimitFault.after, 0, 1e6) && optInt(s.rateLimitFault.seconds, 1, 60)));
  if (!ok) throw new Error('sim: invalid account spec');
}
