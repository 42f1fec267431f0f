/**
 * A simulated Kraken spot REST API over real HTTP (its own port), for tests and demos. It checks
 * what Kraken checks (docs.kraken.com: authentication guide, ratelimits.md, get-trades-history,
 * get-ledgers): API-Sign = base64 HMAC-SHA512(base64-decoded secret, path + SHA-256(nonce +
 * body)) over the body as received; a nonce strictly greater than the key's last one ("EAPI:
 * Invalid nonce"); the per-key call counter (+2 for TradesHistory and Ledgers, +1 otherwise,
 * decaying; "EAPI:Rate limit exceeded"); 50 rows per page by `ofs`, newest first; `start`
 * exclusive and `end` inclusive. Errors come as HTTP 200 with an `error` list, as Kraken's do.
 *
 * Adversarial modes per account: a burst of fills at one instant, new trades arriving during a
 * download (offsets shift under a client that does not pin `end`), a multi-week gap, a delisted
 * pair, rollover every 4 h, deposits, withdrawals and transfers, the key revoked after
 * `authFailAfter` calls, and bursts of 5xx answers.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DAY, hash32 } from './binance-prim.js';
import {
  KRAKEN_PAIRS,
  generateKrakenAccount,
  type KrakenAccountData,
  type SimKrakenTrade,
} from './kraken-data.js';
import {
  fmt10,
  listen,
  readBody,
  sendJson,
  splitUrl,
  optInt,
  optBool,
  isKeyName,
} from './sim-http.js';
import { accountBook, serveAdmin, simHandle, type SimHandle } from './sim-accounts.js';

export type { KrakenAccountData, SimKrakenLedger, SimKrakenTrade } from './kraken-data.js';

export interface KrakenSimAccountSpec {
  apiKey: string;
  /** base64 */
  apiSecret: string;
  seed?: number;
  trades?: number;
  burst?: number;
  days?: number;
  gapDays?: number;
  /** trades added (at the current time) after the first TradesHistory page is served */
  newTradesDuringWalk?: number;
  canTrade?: boolean;
  canWithdraw?: boolean;
  authFailAfter?: number;
  serverErrorEvery?: number;
}

export interface KrakenSimOptions {
  port?: number;
  host?: string;
  seed?: number;
  now?: () => number;
  /** the call counter of every key (default Starter: 15, decaying 0.33/s) */
  counter?: { max: number; decayPerSec: number };
}

export interface KrakenSimStats {
  requests: number;
  /** "EAPI:Rate limit exceeded" answers */
  rateLimited: number;
  /** "EAPI:Invalid nonce" answers */
  badNonces: number;
  serverErrors: number;
  afterRevocation: number;
  /** trades added during a walk */
  shifted: number;
}

export type KrakenSim = SimHandle<KrakenSimAccountSpec, KrakenAccountData, KrakenSimStats>;

export const KRAKEN_DEMO_ACCOUNT = {
  apiKey: 'demo-kraken-key',
  apiSecret: Buffer.from('demo-kraken-secret-for-the-simulator-only').toString('base64'),
} as const;

const PAGE = 50;

interface Account {
  spec: KrakenSimAccountSpec;
  secret: Buffer;
  data: KrakenAccountData;
  lastNonce: bigint;
  counter: number;
  counterAt: number;
  calls: number;
  revoked: boolean;
  walked: boolean;
}

/** API-Sign for `path` and the raw form body (whose `nonce` field is signed twice over). */
export function krakenSignature(secret: Buffer, path: string, nonce: string, body: string): string {
  const inner = createHash('sha256')
    .update(nonce + body)
    .digest();
  return createHmac('sha512', secret)
    .update(Buffer.concat([Buffer.from(path), inner]))
    .digest('base64');
}

class Fail extends Error {}

export async function startKrakenSim(opts: KrakenSimOptions = {}): Promise<KrakenSim> {
  const now = opts.now ?? Date.now;
  const seed = opts.seed ?? 1;
  const counter = opts.counter ?? { max: 15, decayPerSec: 0.33 };
  const end = Math.floor(now() / DAY) * DAY;
  const stats: KrakenSimStats = {
    requests: 0,
    rateLimited: 0,
    badNonces: 0,
    serverErrors: 0,
    afterRevocation: 0,
    shifted: 0,
  };
  let errorBurst = 0;

  const accounts = accountBook<KrakenSimAccountSpec, Account>(seed, checkSpec, (spec, aSeed) => ({
    spec: { ...spec },
    secret: Buffer.from(spec.apiSecret, 'base64'),
    data: generateKrakenAccount({
      seed: aSeed,
      trades: spec.trades ?? 300,
      burst: spec.burst ?? 0,
      end,
      days: spec.days ?? 60,
      gapDays: spec.gapDays ?? 0,
    }),
    lastNonce: 0n,
    counter: 0,
    counterAt: now(),
    calls: 0,
    revoked: false,
    walked: false,
  }));

  function authenticate(req: IncomingMessage, path: string, body: string, form: URLSearchParams) {
    const key = req.headers['api-key'];
    const sign = req.headers['api-sign'];
    const a = typeof key === 'string' ? accounts.get(key) : undefined;
    if (!a) throw new Fail('EAPI:Invalid key');
    if (a.revoked) {
      stats.afterRevocation++;
      throw new Fail('EAPI:Invalid key');
    }
    const nonce = form.get('nonce');
    if (nonce === null || !/^\d{1,19}$/.test(nonce)) throw new Fail('EAPI:Invalid nonce');
    const want = Buffer.from(krakenSignature(a.secret, path, nonce, body), 'base64');
    const got = Buffer.from(typeof sign === 'string' ? sign : '', 'base64');
    if (got.length !== want.length || !timingSafeEqual(got, want))
      throw new Fail('EAPI:Invalid signature');
    if (BigInt(nonce) <= a.lastNonce) {
      stats.badNonces++;
      throw new Fail('EAPI:Invalid nonce');
    }
    a.lastNonce = BigInt(nonce);
    if (a.spec.authFailAfter !== undefined && a.calls >= a.spec.authFailAfter) {
      a.revoked = true;
      stats.afterRevocation++;
      throw new Fail('EAPI:Invalid key');
    }
    a.calls++;
    // the counter: decays continuously, refuses a call that would pass the maximum
    const t = now();
    a.counter = Math.max(0, a.counter - ((t - a.counterAt) / 1000) * counter.decayPerSec);
    a.counterAt = t;
    const cost = path.endsWith('/TradesHistory') || path.endsWith('/Ledgers') ? 2 : 1;
    if (a.counter + cost > counter.max) {
      stats.rateLimited++;
      throw new Fail('EAPI:Rate limit exceeded');
    }
    a.counter += cost;
    return a;
  }

  /** `start` exclusive, `end` inclusive, seconds; newest first; 50 from `ofs`. */
  function history<T extends { time: number }>(
    rows: T[],
    p: URLSearchParams,
  ): { page: T[]; count: number } {
    const num = (k: string) => {
      const v = p.get(k);
      if (v === null) return undefined;
      if (!/^\d{1,12}(\.\d{1,4})?$/.test(v)) throw new Fail('EGeneral:Invalid arguments');
      return Number(v);
    };
    const s = num('start');
    const e = num('end');
    const ofs = num('ofs') ?? 0;
    const sel = rows
      .filter((r) => (s === undefined || r.time > s) && (e === undefined || r.time <= e))
      .sort((x, y) => y.time - x.time || hash32(JSON.stringify(x)) - hash32(JSON.stringify(y)));
    return { page: sel.slice(ofs, ofs + PAGE), count: sel.length };
  }

  type Route = (p: URLSearchParams, a: Account) => unknown;
  const routes: Record<string, Route> = {
    '/0/private/TradesHistory': (p, a) => {
      const { page, count } = history(a.data.trades, p);
      const out = { trades: Object.fromEntries(page.map(({ txid, ...t }) => [txid, t])), count };
      // trades made while the client walks: they land on top and shift every offset
      if (!a.walked && (a.spec.newTradesDuringWalk ?? 0) > 0) {
        a.walked = true;
        const base = a.data.trades[0]!;
        const t = now() / 1000;
        for (let i = 0; i < a.spec.newTradesDuringWalk!; i++) {
          const n: SimKrakenTrade = {
            ...base,
            txid: `TNEW${String(i).padStart(2, '0')}-AAAAA-BBBBBB`,
            time: Math.floor(t * 10_000) / 10_000 + i / 10_000,
          };
          a.data.trades.push(n);
          stats.shifted++;
        }
      }
      return out;
    },
    '/0/private/Ledgers': (p, a) => {
      const type = p.get('type') ?? 'all';
      const rows = a.data.ledger.filter((l) => type === 'all' || l.type === type);
      const { page, count } = history(rows, p);
      return { ledger: Object.fromEntries(page.map(({ id, ...l }) => [id, l])), count };
    },
    '/0/private/Balance': (_p, a) =>
      Object.fromEntries([...a.data.balances].map(([k, v]) => [k, fmt10(v)])),
    '/0/private/WithdrawMethods': (_p, a) => {
      if (!a.spec.canWithdraw) throw new Fail('EGeneral:Permission denied');
      return [{ asset: 'XXBT', method: 'Bitcoin', network: 'Bitcoin', minimum: '0.0004' }];
    },
    '/0/private/AddOrder': (p, a) => {
      if (!a.spec.canTrade) throw new Fail('EGeneral:Permission denied');
      // choice: validation first; this sim never books an order
      if (p.get('validate') !== 'true' || !/[1-9]/.test(p.get('volume') ?? ''))
        throw new Fail('EGeneral:Invalid arguments:volume');
      return { descr: { order: 'validated' } };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, rawQuery } = splitUrl(req);
    const body = await readBody(req, 64 * 1024);
    if (path.startsWith('/__sim/'))
      return serveAdmin(
        { req, res, path, rawQuery, body },
        accounts,
        (a) => ({ trades: a.data.trades, ledger: a.data.ledger }),
        (msg) => ({ error: [msg] }),
      );
    stats.requests++;
    if (errorBurst > 0) {
      errorBurst--;
      stats.serverErrors++;
      res.writeHead(503, { 'Content-Type': 'text/html' });
      return void res.end('<html><body>503 Service Unavailable</body></html>');
    }
    try {
      if (req.method === 'GET' && path === '/0/public/Time') {
        const t = now();
        return sendJson(res, 200, {
          error: [],
          result: { unixtime: Math.floor(t / 1000), rfc1123: new Date(t).toUTCString() },
        });
      }
      if (req.method === 'GET' && path === '/0/public/AssetPairs')
        return sendJson(res, 200, { error: [], result: KRAKEN_PAIRS });
      const route = req.method === 'POST' && Object.hasOwn(routes, path) ? routes[path] : undefined;
      if (!route) return sendJson(res, 404, { error: [`EGeneral:Unknown method`] });
      if (req.headers['content-type'] !== 'application/x-www-form-urlencoded')
        throw new Fail('EGeneral:Invalid arguments');
      const form = new URLSearchParams(body);
      const a = authenticate(req, path, body, form);
      const every = a.spec.serverErrorEvery;
      if (every !== undefined && a.calls % every === 0) {
        errorBurst = 2;
        stats.serverErrors++;
        res.writeHead(502, { 'Content-Type': 'text/html' });
        return void res.end('<html><body>502 Bad Gateway</body></html>');
      }
      sendJson(res, 200, { error: [], result: route(form, a) });
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      sendJson(res, 200, { error: [e.message] });
    }
  }

  accounts.add({ ...KRAKEN_DEMO_ACCOUNT, burst: 2000 });
  const server = await listen(opts.port ?? 0, opts.host ?? '127.0.0.1', handle, {
    error: ['EService:Unavailable'],
  });
  return simHandle(server, accounts, stats);
}

function checkSpec(s: KrakenSimAccountSpec): void {
  const ok =
    typeof s === 'object' &&
    s !== null &&
    isKeyName(s.apiKey) &&
    typeof s.apiSecret === 'string' &&
    /^[A-Za-z0-9+/]{4,512}={0,2}$/.test(s.apiSecret) &&
    optInt(s.seed, 0, 2 ** 32) &&
    optInt(s.trades, 0, 50_000) &&
    optInt(s.burst, 0, 10_000) &&
    optInt(s.days, 10, 3000) &&
    optInt(s.gapDays, 0, 2900) &&
    (s.gapDays ?? 0) <= (s.days ?? 60) - 10 &&
    optInt(s.newTradesDuringWalk, 0, 99) &&
    optInt(s.authFailAfter, 0, 1_000_000) &&
    optInt(s.serverErrorEvery, 2, 1_000_000) &&
    optBool(s.canTrade) &&
    optBool(s.canWithdraw);
  if (!ok) throw new Error('sim: invalid account spec');
}
