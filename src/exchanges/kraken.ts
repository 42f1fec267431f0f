/**
 * Kraken spot adapter: every trade via POST /0/private/TradesHistory, deposits, withdrawals,
 * transfers and margin rollover via /0/private/Ledgers, balances via /0/private/Balance, and
 * the key's powers by probing (Kraken has no "describe this key" endpoint).
 *
 * ccxt's kraken class (imported alone) only signs: API-Sign = base64 HMAC-SHA512(base64-decoded
 * secret, path + SHA-256(nonce + body)), body form-encoded with `nonce` first. The nonce must
 * strictly increase per key: ccxt's is the millisecond clock, which repeats within a
 * millisecond, so ours is max(now, last + 1) per key, and requests of one key are sent one at a
 * time (a later nonce overtaking an earlier one on the wire is also refused).
 *
 * Paging (get-trades-history.md: "50 results are returned at a time, the most recent by
 * default"): `ofs` += rows received until an EMPTY page, with `end` pinned to the walk's start so
 * trades made meanwhile do not shift the offsets; rows are keyed by txid.
 */
import type { kraken as KrakenExchange } from 'ccxt';
import { compareFills } from '../aggregates/fill.js';
import type { FundingEvent } from '../aggregates/ledger.js';
import { compareEvents } from '../aggregates/ledger.js';
import { isRecord, malformed } from './binance-common.js';
import { DEC, addSignedDecimals } from './decimal.js';
import {
  guessKrakenPair,
  parseKrakenTrade,
  toKrakenFill,
  toKrakenLedger,
  toKrakenPair,
  type KrakenLedgerEvent,
  type KrakenPair,
} from './kraken-rows.js';
import { LimiterRegistry, type WeightPool } from './limiter.js';
import {
  createSender,
  keyId,
  loadCcxtClass,
  type Budget,
  type LimiterUse,
  type SignedRequest,
  type Verdict,
  type SignedClientOptions,
} from './signed-http.js';
import {
  ExchangeError,
  type ExchangeClient,
  type FetchFillsOptions,
  type FetchFlowsOptions,
  type NormalizedFill,
} from './types.js';
import { baseOrigin } from './egress.js';

/** The private-API counter of a key: +1 per call (+2 for history calls), decaying per second. */
export interface KrakenCounter {
  max: number;
  decayPerSec: number;
}

/** ratelimits.md: Starter 15 / 0.33 s⁻¹, Intermediate 20 / 0.5 s⁻¹, Pro 20 / 1 s⁻¹. */
export const KRAKEN_TIERS: Readonly<Record<'starter' | 'intermediate' | 'pro', KrakenCounter>> = {
  starter: { max: 15, decayPerSec: 0.33 },
  intermediate: { max: 20, decayPerSec: 0.5 },
  pro: { max: 20, decayPerSec: 1 },
};

export interface KrakenClientOptions extends SignedClientOptions {
  /** the key's verification tier (default starter: the slowest) */
  counter?: KrakenCounter;
}

export interface KrakenClient extends ExchangeClient {
  /** the funding part of fetchFlows alone: margin rollover charges in [since, until], signed (< 0 paid) */
  fetchFunding(o: FetchFlowsOptions): Promise<FundingEvent[]>;
}

type Kraken = InstanceType<typeof KrakenExchange>;

const PAGE = 50;
/** Kraken opened in September 2013: no account has history before */
export const KRAKEN_LAUNCH_MS = Date.UTC(2013, 8, 1);
const MAX_PAGES = 200_000;
/** history calls cost 2 on the counter, every other private call 1 */
const HEAVY = new Set(['TradesHistory', 'Ledgers']);

/**
 * The counter as what it is, a leaky bucket (src/exchanges/limiter.ts `leaky`): Kraken's burst of
 * `max`, then `decay` units per second, all of the budget over time. It drains 1 % slower than
 * Kraken's stated rate, so that timer and clock granularity on either side cannot tip it over. (A
 * rolling window of `max` per max/decay seconds, as before, forwent up to one burst per window.)
 */
export function krakenCounterPool(c: KrakenCounter): WeightPool {
  if (!Number.isSafeInteger(c.max) || c.max < 2 || !(c.decayPerSec > 0))
    throw new RangeError('kraken: bad counter');
  return {
    name: 'counter',
    limit: c.max,
    windowMs: Math.ceil((c.max / c.decayPerSec) * 1000),
    leaky: { drainPerSec: c.decayPerSec * 0.99 },
  };
}
/** public endpoints: about one call per second per IP (ratelimits.md) */
const PUBLIC_POOLS: readonly WeightPool[] = [{ name: 'public', limit: 1, windowMs: 1000 }];

// per key, process-wide: the last nonce sent, and the lane that keeps its requests in order
const lastNonce = new Map<string, number>();
const lanes = new Map<string, Promise<unknown>>();

let krakenClass: Promise<typeof KrakenExchange> | undefined;

/**
 * @example
 * const c = await createKrakenClient({ apiKey, apiSecret, allowHosts: ['api.kraken.com'] });
 * const fills = await c.fetchFills({});
 */
export async function createKrakenClient(opts: KrakenClientOptions): Promise<KrakenClient> {
  if (!opts.apiKey || !opts.apiSecret)
    throw new ExchangeError('EXCHANGE_AUTH_FAILED', 'API key and secret are required');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(opts.apiSecret))
    throw new ExchangeError('EXCHANGE_AUTH_FAILED', 'the API secret is not base64');
  krakenClass ??= loadCcxtClass<typeof KrakenExchange>('kraken');
  const Kraken = await krakenClass.catch((e: unknown) => {
    krakenClass = undefined;
    throw e;
  });
  const ex: Kraken = new Kraken({ apiKey: opts.apiKey, secret: opts.apiSecret });
  const origin = opts.baseUrl === undefined ? undefined : baseOrigin(opts.baseUrl);
  if (origin !== undefined) {
    const api = ex.urls['api'] as Record<string, unknown>;
    for (const k of ['public', 'private']) api[k] = origin;
  }
  const kid = keyId(opts.apiKey);
  ex.nonce = () => {
    const n = Math.max(Date.now(), (lastNonce.get(kid) ?? 0) + 1);
    lastNonce.set(kid, n);
    return n;
  };
  const code = (id: string): string => {
    const c = ex.safeCurrencyCode(id) ?? id;
    // legacy X/Z-prefixed codes ccxt's table does not name ("ZUSD", "XXRP" are; "ZCHF" may not be)
    return c === id && /^[XZ][A-Z]{3}$/.test(id) ? (ex.safeCurrencyCode(id.slice(1)) ?? id) : c;
  };

  const venue = `kraken|${origin ?? 'https://api.kraken.com'}`;
  const registry = opts.limiters ?? new LimiterRegistry();
  const egress = opts.egress ?? 'default';
  const counter = opts.counter ?? KRAKEN_TIERS.starter;
  const common = {
    ...opts,
    limiters: <LimiterUse[]>[
      {
        limiter: registry.get(venue, egress, PUBLIC_POOLS),
        cost: (e: string) => (e.startsWith('/0/public/') ? { public: 1 } : {}),
      },
      {
        limiter: registry.get(`${venue}|key:${kid}`, egress, [krakenCounterPool(counter)]),
        cost: (e: string) =>
          e.startsWith('/0/public/') ? {} : { counter: HEAVY.has(e.slice(11)) ? 2 : 1 },
      },
    ],
    // a refused call: the counter decays by decay/s; two units free up in 2/decay s
    observe: krakenObserve(Math.ceil(2 / counter.decayPerSec)),
  };
  const send = createSender({ ...common, classify: classifyKraken, resync: async () => {} });
  // permission probes: "EGeneral:Permission denied" is the answer we look for, not a failure
  const probe = createSender({
    ...common,
    classify: (status, headers, body) =>
      isRecord(body) &&
      Array.isArray(body['error']) &&
      body['error'].some((e) => e === 'EGeneral:Permission denied')
        ? { kind: 'ok', data: 'denied' }
        : ((v) => (v.kind === 'ok' || v.kind === 'rejected' ? { kind: 'ok', data: 'granted' } : v))(
            classifyKraken(status, headers, body),
          ),
  });

  const signed =
    (path: string, params: Record<string, string>, api: 'public' | 'private' = 'private') =>
    (): SignedRequest => {
      const r = ex.sign(path, api, api === 'private' ? 'POST' : 'GET', params) as {
        url: string;
        body?: string;
        headers?: Record<string, string>;
      };
      return api === 'private'
        ? { url: r.url, method: 'POST', headers: r.headers ?? {}, body: r.body }
        : { url: r.url, method: 'GET', headers: {} };
    };

  /** Private calls of one key go one at a time, so nonces reach Kraken in order. */
  function inLane<T>(fn: () => Promise<T>): Promise<T> {
    const prev = lanes.get(kid) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    lanes.set(kid, tail);
    void tail.then(() => {
      if (lanes.get(kid) === tail) lanes.delete(kid);
    });
    return run;
  }
  const post = (path: string, params: Record<string, string>, budget: Budget) =>
    inLane(() => send(`/0/private/${path}`, signed(path, params), budget));

  let pairs: Promise<Map<string, KrakenPair>> | undefined;
  function pairBook(budget: Budget): Promise<Map<string, KrakenPair>> {
    pairs ??= send('/0/public/AssetPairs', signed('AssetPairs', {}, 'public'), budget).then((r) => {
      if (!isRecord(r)) throw malformed('AssetPairs');
      const m = new Map<string, KrakenPair>();
      for (const [name, row] of Object.entries(r)) {
        const p = toKrakenPair(row, code);
        if (p) m.set(name, p);
      }
      return m;
    });
    pairs.catch(() => (pairs = undefined));
    return pairs;
  }
  async function pair(name: string, budget: Budget): Promise<KrakenPair> {
    const p = (await pairBook(budget)).get(name) ?? guessKrakenPair(name, code);
    if (!p) throw malformed('unknown pair');
    return p;
  }

  /** ofs-paged history, newest first, until an empty page; `end` pinned so offsets hold still. */
  async function walk(
    path: 'TradesHistory' | 'Ledgers',
    params: Record<string, string>,
    since: number,
    until: number,
    budget: Budget,
    onPage?: (pages: number, rows: number) => void,
  ): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    const field = path === 'TradesHistory' ? 'trades' : 'ledger';
    // start is exclusive, end inclusive (seconds)
    const range = {
      start: String(Math.floor(since / 1000) - 1),
      end: String(Math.ceil(until / 1000)),
    };
    for (let ofs = 0, pages = 1; ; pages++) {
      if (pages > MAX_PAGES) throw malformed(`${path} does not end`);
      const r = await post(path, { ...params, ...range, ofs: String(ofs) }, budget);
      const rows = isRecord(r) ? r[field] : undefined;
      if (!isRecord(rows)) throw malformed(`${path} ${field}`);
      const entries = Object.entries(rows);
      if (entries.length === 0) break;
      if (entries.length > PAGE) throw malformed(`${path} page too long`);
      for (const [id, row] of entries) out.set(id, row);
      ofs += entries.length;
      onPage?.(pages, out.size);
    }
    return out;
  }

  const range = (o: { since?: number; until?: number }) => {
    const until = o.until ?? Date.now();
    const since = Math.max(o.since ?? 0, KRAKEN_LAUNCH_MS);
    if (!Number.isSafeInteger(since) || !Number.isSafeInteger(until))
      throw new RangeError('since/until must be integer milliseconds');
    return { since, until };
  };

  async function fetchFills(o: FetchFillsOptions = {}): Promise<NormalizedFill[]> {
    const budget: Budget = { rateWaitMs: 0 };
    const { since, until } = range(o);
    const rows = await walk('TradesHistory', { type: 'all' }, since, until, budget, (pages, n) =>
      o.onProgress?.({ symbol: 'all', pages, fills: n }),
    );
    const out: NormalizedFill[] = [];
    for (const [txid, row] of rows) {
      const t = parseKrakenTrade(txid, row);
      if (t.ts < since || t.ts > until) continue;
      out.push(toKrakenFill(t, await pair(t.pair, budget)));
    }
    return out.sort(compareFills);
  }

  async function ledger(types: string[], o: FetchFlowsOptions): Promise<KrakenLedgerEvent[]> {
    const budget: Budget = { rateWaitMs: 0 };
    const { since, until } = range(o);
    const out: KrakenLedgerEvent[] = [];
    for (const type of types) {
      for (const [id, row] of await walk('Ledgers', { type }, since, until, budget)) {
        const ev = toKrakenLedger(id, row, code);
        if (ev && ev.ts >= since && ev.ts <= until) out.push(ev);
      }
    }
    return out.sort(compareEvents) as KrakenLedgerEvent[];
  }

  return {
    venue,
    async accountId() {
      return null; // Kraken's API names no account id
    },
    async permissions() {
      const budget: Budget = { rateWaitMs: 0 };
      const ask = (path: string, params: Record<string, string>) =>
        inLane(() => probe(`/0/private/${path}`, signed(path, params), budget));
      // WithdrawMethods needs "Funds: Withdraw"; AddOrder with validate=true is checked and never
      // submitted, and volume 0 makes sure it could not be even if validation were ignored
      const withdraw = await ask('WithdrawMethods', { asset: 'XBT' });
      const trade = await ask('AddOrder', {
        pair: 'XBTUSD',
        type: 'buy',
        ordertype: 'limit',
        price: '1',
        volume: '0',
        validate: 'true',
      });
      // a spot key cannot reach Kraken Futures (another API); margin orders need only the
      // order permission; WalletTransfer (spot → futures) needs the withdraw permission
      return {
        read: true, // every download call would fail with EXCHANGE_AUTH_FAILED otherwise
        trade: trade === 'granted',
        withdraw: withdraw === 'granted',
        transfer: withdraw === 'granted',
        futures: false,
        margin: trade === 'granted',
      };
    },
    // Kraken documents no lookback limit: the download is complete from Kraken's opening
    historySince: () => KRAKEN_LAUNCH_MS,
    fetchFills,
    // deposits, withdrawals, transfers across the account's boundary and rollover (funding)
    fetchFlows: (o) => ledger(['deposit', 'withdrawal', 'transfer', 'rollover'], o),
    fetchFunding: (o) => ledger(['rollover'], o) as Promise<FundingEvent[]>,
    async balances() {
      const r = await post('Balance', {}, { rateWaitMs: 0 });
      if (!isRecord(r)) throw malformed('Balance');
      const out: Record<string, string> = {};
      for (const [id, v] of Object.entries(r)) {
        if (typeof v !== 'string' || !DEC.test(v) || !/^[A-Z0-9.]{2,24}$/.test(id))
          throw malformed('balance');
        const c = code(id);
        if (/[1-9]/.test(v)) out[c] = out[c] === undefined ? v : addSignedDecimals(out[c], v);
      }
      return out;
    },
    async klines() {
      return []; // prices come from the Binance candle oracle
    },
  };
}

/**
 * Kraken answers HTTP 200 with an `error` list: "EAPI:Invalid key" / "Invalid signature" /
 * "EGeneral:Permission denied" are the key's fault (never retried); "EAPI:Invalid nonce" is
 * retried once with a fresh nonce; "EAPI:Rate limit exceeded" waits; "EService:*" is transient.
 */
export function classifyKraken(status: number, _headers: Headers, body: unknown): Verdict {
  const errors =
    isRecord(body) && Array.isArray(body['error'])
      ? body['error'].filter((e): e is string => typeof e === 'string')
      : undefined;
  const has = (prefix: string) => errors?.some((e) => e.startsWith(prefix)) ?? false;
  if (status === 429 || has('EAPI:Rate limit exceeded') || has('EGeneral:Too many requests'))
    return { kind: 'rateLimited' };
  if (has('EGeneral:Temporary lockout')) return { kind: 'rateLimited', retryAfterMs: 900_000 };
  if (status >= 500 || has('EService:')) return { kind: 'transient', why: `HTTP ${status}` };
  if (
    status === 401 ||
    has('EAPI:Invalid key') ||
    has('EAPI:Invalid signature') ||
    has('EGeneral:Permission denied')
  )
    return { kind: 'auth' };
  if (has('EAPI:Invalid nonce')) return { kind: 'clockSkew' };
  if (status !== 200 || errors === undefined) return { kind: 'rejected', why: `HTTP ${status}` };
  if (errors.length > 0) return { kind: 'rejected', why: 'error list' };
  return { kind: 'ok', data: isRecord(body) ? body['result'] : undefined };
}

/** A counter refusal (inside an HTTP 200) is a 429 to the limiter, paused for `secs`. */
function krakenObserve(secs: number) {
  return (_e: string, status: number, headers: Headers, v: Verdict) => {
    const out = Object.fromEntries(headers.entries());
    if (v.kind !== 'rateLimited') return { status, headers: out };
    const wait = v.retryAfterMs === undefined ? secs : Math.ceil(v.retryAfterMs / 1000);
    return { status: 429, headers: { ...out, 'retry-after': String(wait) } };
  };
}
