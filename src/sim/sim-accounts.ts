/**
 * The account table of the keyed simulators (Bybit, OKX, Kraken), their `/__sim/` admin API and
 * the handle a test holds. Venue-specific parts (what an account holds, the error body shape)
 * come in as functions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hash32 } from './binance-prim.js';
import { sendJson, type Listening } from './sim-http.js';

export interface AccountBook<S, A> {
  /** throws on an invalid spec or a key already taken */
  add(spec: S): void;
  get(apiKey: string): A | undefined;
}

/**
 * Accounts by API key. `open` builds an account from its checked spec and data seed; the seed
 * defaults to one derived from the simulator's seed and the key, so accounts differ and a run
 * repeats.
 */
export function accountBook<S extends { apiKey: string; seed?: number }, A>(
  simSeed: number,
  check: (spec: S) => void,
  open: (spec: S, seed: number) => A,
): AccountBook<S, A> {
  const accounts = new Map<string, A>();
  return {
    add(spec) {
      check(spec);
      if (accounts.has(spec.apiKey)) throw new Error('sim: account already exists');
      accounts.set(spec.apiKey, open(spec, spec.seed ?? hash32(spec.apiKey, simSeed)));
    },
    get: (apiKey) => accounts.get(apiKey),
  };
}

export interface AdminRequest {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  rawQuery: string;
  body: string;
}

/**
 * `POST /__sim/accounts` (a JSON spec) and `GET /__sim/truth?apiKey=`; `truth` is what the
 * latter answers, `error` puts a message in the venue's error shape.
 */
export function serveAdmin<S, A>(
  { req, res, path, rawQuery, body }: AdminRequest,
  book: AccountBook<S, A>,
  truth: (a: A) => unknown,
  error: (msg: string) => unknown,
): void {
  if (req.method === 'POST' && path === '/__sim/accounts') {
    try {
      book.add(JSON.parse(body) as S);
    } catch {
      return sendJson(res, 400, error('sim: invalid or duplicate account spec'));
    }
    return sendJson(res, 201, { ok: true });
  }
  if (req.method === 'GET' && path === '/__sim/truth') {
    const a = book.get(new URLSearchParams(rawQuery).get('apiKey') ?? '');
    if (!a) return sendJson(res, 404, error('sim: unknown account'));
    return sendJson(res, 200, truth(a));
  }
  sendJson(res, 404, error(`sim: no such endpoint ${req.method} ${path}`));
}

export interface SimHandle<S, D, St> {
  url: string;
  close(): Promise<void>;
  addAccount(spec: S): void;
  /** a copy of the account's generated data, the ground truth a client must reproduce */
  truth(apiKey: string): D;
  stats(): St;
}

export function simHandle<S, D, St extends object>(
  server: Listening,
  book: AccountBook<S, { data: D }>,
  stats: St,
): SimHandle<S, D, St> {
  return {
    url: server.url,
    close: server.close,
    addAccount: book.add,
    truth(apiKey) {
      const a = book.get(apiKey);
      if (!a) throw new Error('sim: unknown account');
      return structuredClone(a.data);
    },
    stats: () => ({ ...stats }),
  };
}
