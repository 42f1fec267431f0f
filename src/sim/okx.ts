/**
 * A simulated OKX v5 REST API over real HTTP (its own port), for tests and demos. It checks what
 * OKX checks: the OK-ACCESS-* headers, base64 HMAC-SHA256 over timestamp + METHOD + path?query +
 * body as received, the passphrase, the timestamp (ISO 8601, within 30 s of server time: 50102),
 * `limit` ≤ 100, required `instType`, the 3-month reach of fills-history and the bills archive,
 * and per-user, per-endpoint request limits answered with HTTP 429, code 50011. OKX's docs were
 * not in the research corpus (research/exchanges.md §4): codes and limits follow ccxt's okx.js
 * tables, and open facts are marked "choice:".
 *
 * Fills older than 3 months come from the quarterly fills archive (./okx-archive.ts): POST and
 * GET /api/v5/trade/fills-archive, signed and limited like every endpoint, and a ZIP served
 * unsigned on this server's origin.
 *
 * Adversarial modes per account: one swap order filling `burst` times in one millisecond,
 * page-edge duplicates, a multi-week gap, a delisted spot pair and an expired future, funding
 * every 8 h, deposits in same-millisecond clusters, the key revoked after `authFailAfter`
 * requests, and bursts of 5xx answers.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DAY, hash32 } from './binance-prim.js';
import { generateOkxAccount, okxInstruments, type OkxAccountData } from './okx-data.js';
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
import {
  ARCHIVE_FILE_PATH,
  ARCHIVE_REACH_MS,
  archiveCsv,
  buildZip,
  newFileToken,
  quarterSpan,
  type ArchiveJob,
} from './okx-archive.js';

export type {
  OkxAccountData,
  SimOkxBill,
  SimOkxDeposit,
  SimOkxFill,
  SimOkxWithdrawal,
} from './okx-data.js';

export interface OkxSimAccountSpec {
  apiKey: string;
  apiSecret: string;
  passphrase: string;
  seed?: number;
  /** spot and margin fills (default 200) */
  spotFills?: number;
  /** swap and future round trips (default 30) */
  trips?: number;
  burst?: number;
  /** deposits beyond the initial two (default 10) */
  flows?: number;
  /** days of history (default 60, at most 730; fills older than 90 days only in the archive) */
  days?: number;
  /** status reads answering `ongoing` after a quarter's archive is requested (default 1) */
  archiveReadyAfterPolls?: number;
  /** quarters ("2025Q3") whose archive stays `ongoing` */
  archiveOngoing?: string[];
  /** quarters ("2025Q3") whose archive generation fails, every time it is requested */
  archiveFails?: string[];
  gapDays?: number;
  pageEdgeDuplicates?: boolean;
  canTrade?: boolean;
  canWithdraw?: boolean;
  authFailAfter?: number;
  serverErrorEvery?: number;
  uid?: number;
}

export interface OkxSimOptions {
  port?: number;
  host?: string;
  seed?: number;
  now?: () => number;
}

export interface OkxSimStats {
  requests: number;
  /** 429 answers: a client that paces itself gets none */
  rateLimited: number;
  serverErrors: number;
  afterRevocation: number;
  duplicatesServed: number;
  /** archive files served */
  archiveDownloads: number;
}

export type OkxSim = SimHandle<OkxSimAccountSpec, OkxAccountData, OkxSimStats>;

export const OKX_DEMO_ACCOUNT = {
  apiKey: 'demo-okx-key',
  apiSecret: 'demo-okx-secret',
  passphrase: 'demo-okx-passphrase',
} as const;

/** "last 3 months" (choice: 90 days) */
const HORIZON = 90 * DAY;
/** choice: OKX rejects a timestamp more than 30 s from its clock */
const SKEW_MS = 30_000;
/** requests per window per user and endpoint (ccxt okx.js costs; choice for the sim) */
const LIMITS: Record<string, { n: number; ms: number }> = {
  '/api/v5/trade/fills-history': { n: 10, ms: 2000 },
  '/api/v5/account/bills-archive': { n: 5, ms: 2000 },
  '/api/v5/trade/fills-archive': { n: 5, ms: 2000 },
  'POST /api/v5/trade/fills-archive': { n: 5, ms: 2000 },
  '/api/v5/account/balance': { n: 10, ms: 2000 },
  '/api/v5/account/config': { n: 5, ms: 2000 },
  '/api/v5/asset/deposit-history': { n: 6, ms: 1000 },
  '/api/v5/asset/withdrawal-history': { n: 6, ms: 1000 },
  '/api/v5/public/instruments': { n: 20, ms: 2000 },
  '/api/v5/public/time': { n: 10, ms: 2000 },
};

class Fail extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly msg: string,
  ) {
    super(msg);
  }
}
const param = (name: string) => new Fail(400, '51000', `Parameter ${name} error`);

interface Account {
  spec: OkxSimAccountSpec;
  secret: Buffer;
  uid: string;
  data: OkxAccountData;
  signed: number;
  revoked: boolean;
  /** fills archive jobs by quarter ("2025Q3") */
  archives: Map<string, ArchiveJob>;
}

/** base64 HMAC-SHA256 over timestamp + method + request path (with query) + body. */
export function okxSignature(
  secret: string | Buffer,
  ts: string,
  method: string,
  pathAndQuery: string,
  body: string,
): string {
  return createHmac('sha256', secret)
    .update(ts + method + pathAndQuery + body)
    .digest('base64');
}

export async function startOkxSim(opts: OkxSimOptions = {}): Promise<OkxSim> {
  const now = opts.now ?? Date.now;
  const seed = opts.seed ?? 1;
  const end = Math.floor(now() / DAY) * DAY;
  const take = rollingWindow(now);
  const stats: OkxSimStats = {
    requests: 0,
    rateLimited: 0,
    serverErrors: 0,
    afterRevocation: 0,
    duplicatesServed: 0,
    archiveDownloads: 0,
  };
  /** finished archive files by token */
  const files = new Map<string, Buffer>();
  let errorBurst = 0;
  const instruments = okxInstruments(end);

  const accounts = accountBook<OkxSimAccountSpec, Account>(seed, checkSpec, (spec, aSeed) => ({
    spec: { ...spec },
    secret: Buffer.from(spec.apiSecret, 'utf8'),
    uid: String(spec.uid ?? 400_000_000_000_000 + aSeed),
    data: generateOkxAccount({
      seed: aSeed,
      spotFills: spec.spotFills ?? 200,
      trips: spec.trips ?? 30,
      burst: spec.burst ?? 0,
      flows: spec.flows ?? 10,
      end,
      days: spec.days ?? 60,
      gapDays: spec.gapDays ?? 0,
    }),
    signed: 0,
    revoked: false,
    archives: new Map(),
  }));

  function authenticate(req: IncomingMessage, pathAndQuery: string, body: string): Account {
    const h = (n: string) => {
      const v = req.headers[n];
      return typeof v === 'string' ? v : undefined;
    };
    const key = h('ok-access-key');
    const sign = h('ok-access-sign');
    const ts = h('ok-access-timestamp');
    const pass = h('ok-access-passphrase');
    if (!key) throw new Fail(401, '50103', 'Request header "OK-ACCESS-KEY" cannot be empty.');
    if (!pass)
      throw new Fail(401, '50104', 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.');
    const acct = accounts.get(key);
    if (!acct) throw new Fail(401, '50111', 'Invalid OK-ACCESS-KEY.');
    if (acct.revoked) {
      stats.afterRevocation++;
      throw new Fail(401, '50111', 'Invalid OK-ACCESS-KEY.');
    }
    if (
      !ts ||
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(ts) ||
      Number.isNaN(Date.parse(ts))
    )
      throw new Fail(401, '50112', 'Invalid OK-ACCESS-TIMESTAMP.');
    if (Math.abs(now() - Date.parse(ts)) > SKEW_MS)
      throw new Fail(401, '50102', 'Timestamp request expired.');
    if (pass !== acct.spec.passphrase)
      throw new Fail(401, '50105', 'Request header "OK-ACCESS-PASSPHRASE" incorrect.');
    const want = Buffer.from(
      okxSignature(acct.secret, ts, req.method ?? 'GET', pathAndQuery, body),
      'base64',
    );
    const got = Buffer.from(sign ?? '', 'base64');
    if (!sign || got.length !== want.length || !timingSafeEqual(want, got))
      throw new Fail(401, '50113', 'Invalid Sign.');
    if (acct.spec.authFailAfter !== undefined && acct.signed >= acct.spec.authFailAfter) {
      acct.revoked = true;
      stats.afterRevocation++;
      throw new Fail(401, '50111', 'Invalid OK-ACCESS-KEY.');
    }
    acct.signed++;
    return acct;
  }

  function limitOf(p: URLSearchParams): number {
    const v = p.get('limit');
    if (v === null) return 100;
    if (!/^\d{1,3}$/.test(v) || Number(v) < 1 || Number(v) > 100) throw param('limit');
    return Number(v);
  }
  const int = (p: URLSearchParams, k: string): bigint | undefined => {
    const v = p.get(k);
    if (v === null || v === '') return undefined;
    if (!/^\d{1,20}$/.test(v)) throw param(k);
    return BigInt(v);
  };

  /**
   * `after`/`before` paging on a numeric key, newest first: `after` returns rows with a key
   * below it. Page-edge duplicate mode also returns the row AT `after` when older rows follow.
   */
  function page<T>(a: Account, rows: T[], key: (r: T) => bigint, p: URLSearchParams): T[] {
    const after = int(p, 'after');
    const before = int(p, 'before');
    const limit = limitOf(p);
    const sorted = rows
      .filter((r) => before === undefined || key(r) > before)
      .sort((x, y) =>
        key(y) > key(x)
          ? 1
          : key(y) < key(x)
            ? -1
            : hash32(JSON.stringify(x)) - hash32(JSON.stringify(y)),
      );
    if (after === undefined) return sorted.slice(0, limit);
    const older = sorted.filter((r) => key(r) < after);
    if (a.spec.pageEdgeDuplicates && older.length > 0) {
      const edge = sorted.filter((r) => key(r) === after);
      if (edge.length > 0) {
        stats.duplicatesServed++;
        return [...edge, ...older].slice(0, limit);
      }
    }
    return older.slice(0, limit);
  }

  const visible = (t: number) => t >= now() - HORIZON;
  const inRange = (t: number, p: URLSearchParams) => {
    const b = int(p, 'begin');
    const e = int(p, 'end');
    return (b === undefined || t >= Number(b)) && (e === undefined || t <= Number(e));
  };

  type Route = {
    signed: boolean;
    params: string[];
    run: (p: URLSearchParams, a: Account) => unknown[];
  };

  /** year and quarter of a fills-archive request: a quarter that ended within the reach */
  function archiveQuarter(p: URLSearchParams): { label: string; start: number; end: number } {
    const year = p.get('year');
    const quarter = p.get('quarter');
    if (year === null) throw param('year');
    if (quarter === null) throw param('quarter');
    const span = quarterSpan(year, quarter);
    if (!span) throw param('quarter');
    if (span.end > now() || span.end <= now() - ARCHIVE_REACH_MS) throw param('quarter');
    return { label: `${year}${quarter}`, ...span };
  }

  /** a status read: the job advances one poll; a finished job gets its file */
  function archiveStatus(a: Account, p: URLSearchParams): unknown[] {
    const q = archiveQuarter(p);
    const job = a.archives.get(q.label);
    if (!job) return [];
    if (job.state === 'ongoing') {
      job.polls++;
      const ready = a.spec.archiveReadyAfterPolls ?? 1;
      if (a.spec.archiveFails?.includes(q.label)) job.state = 'failed';
      else if (!a.spec.archiveOngoing?.includes(q.label) && job.polls > ready) {
        const rows = a.data.fills.filter(
          (f) => Number(f.fillTime) >= q.start && Number(f.fillTime) < q.end,
        );
        job.token = newFileToken();
        files.set(
          job.token,
          buildZip(`fills-${q.label}.csv`, Buffer.from(archiveCsv(rows), 'utf8')),
        );
        job.state = 'finished';
      }
    }
    return [
      {
        fileHref:
          job.state === 'finished' ? `${server.url}${ARCHIVE_FILE_PATH}${job.token}.zip` : '',
        state: job.state,
        ts: String(job.requestedAt),
      },
    ];
  }

  /** "Apply for fills archive": a new job, or again after `failed`; otherwise nothing changes */
  function archiveApply(a: Account, p: URLSearchParams): unknown[] {
    const q = archiveQuarter(p);
    const job = a.archives.get(q.label);
    if (!job || job.state === 'failed')
      a.archives.set(q.label, { state: 'ongoing', polls: 0, requestedAt: now() });
    return [{ result: 'true', ts: String(now()) }];
  }
  const routes: Record<string, Route> = {
    '/api/v5/public/time': { signed: false, params: [], run: () => [{ ts: String(now()) }] },
    '/api/v5/public/instruments': {
      signed: false,
      params: ['instType', 'uly', 'instFamily', 'instId'],
      run: (p) => {
        const t = p.get('instType');
        if (t !== 'SPOT' && t !== 'SWAP' && t !== 'FUTURES' && t !== 'MARGIN')
          throw param('instType');
        return instruments.filter((i) => i.instType === (t === 'MARGIN' ? 'SPOT' : t));
      },
    },
    '/api/v5/trade/fills-history': {
      signed: true,
      params: [
        'instType',
        'instFamily',
        'instId',
        'ordId',
        'subType',
        'after',
        'before',
        'begin',
        'end',
        'limit',
      ],
      run: (p, a) => {
        const t = p.get('instType');
        if (!['SPOT', 'MARGIN', 'SWAP', 'FUTURES', 'OPTION'].includes(t ?? ''))
          throw param('instType');
        const id = p.get('instId');
        const rows = a.data.fills.filter(
          (f) =>
            f.instType === t &&
            (id === null || f.instId === id) &&
            visible(Number(f.ts)) &&
            inRange(Number(f.ts), p),
        );
        return page(a, rows, (f) => BigInt(f.billId), p);
      },
    },
    '/api/v5/trade/fills-archive': {
      signed: true,
      params: ['year', 'quarter'],
      run: (p, a) => archiveStatus(a, p),
    },
    'POST /api/v5/trade/fills-archive': {
      signed: true,
      params: ['year', 'quarter'],
      run: (p, a) => archiveApply(a, p),
    },
    '/api/v5/account/bills-archive': {
      signed: true,
      params: [
        'instType',
        'ccy',
        'mgnMode',
        'ctType',
        'type',
        'subType',
        'after',
        'before',
        'begin',
        'end',
        'limit',
      ],
      run: (p, a) => {
        const type = p.get('type');
        const rows = a.data.bills.filter(
          (b) =>
            (type === null || b.type === type) && visible(Number(b.ts)) && inRange(Number(b.ts), p),
        );
        return page(a, rows, (b) => BigInt(b.billId), p);
      },
    },
    '/api/v5/asset/deposit-history': {
      signed: true,
      params: ['ccy', 'depId', 'fromWdId', 'txId', 'type', 'state', 'after', 'before', 'limit'],
      run: (p, a) => page(a, a.data.deposits, (d) => BigInt(d.ts), p),
    },
    '/api/v5/asset/withdrawal-history': {
      signed: true,
      params: ['ccy', 'wdId', 'clientId', 'txId', 'type', 'state', 'after', 'before', 'limit'],
      run: (p, a) => page(a, a.data.withdrawals, (w) => BigInt(w.ts), p),
    },
    '/api/v5/account/balance': {
      signed: true,
      params: ['ccy'],
      run: (_p, a) => [
        {
          totalEq: '0',
          uTime: String(now()),
          details: [...a.data.balances]
            .filter(([, v]) => v !== 0n)
            .sort(([x], [y]) => (x < y ? -1 : 1))
            .map(([ccy, v]) => ({
              ccy,
              cashBal: fmt10(v),
              eq: fmt10(v),
              availBal: fmt10(v),
              frozenBal: '0',
              upl: '0',
            })),
        },
      ],
    },
    '/api/v5/account/config': {
      signed: true,
      params: [],
      run: (_p, a) => [
        {
          uid: a.uid,
          mainUid: a.uid,
          acctLv: '2',
          posMode: 'net_mode',
          autoLoan: false,
          level: 'Lv1',
          label: 'sim',
          ip: '',
          perm: [
            'read_only',
            ...(a.spec.canTrade ? ['trade'] : []),
            ...(a.spec.canWithdraw ? ['withdraw'] : []),
          ].join(','),
        },
      ],
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, rawQuery } = splitUrl(req);
    const body = await readBody(req, 64 * 1024);
    if (path.startsWith('/__sim/'))
      return serveAdmin(
        { req, res, path, rawQuery, body },
        accounts,
        (a) => ({
          ...structuredClone(a.data),
          balances: Object.fromEntries([...a.data.balances].map(([k, v]) => [k, fmt10(v)])),
        }),
        (msg) => ({ code: '-1', msg }),
      );
    stats.requests++;
    if (errorBurst > 0) {
      errorBurst--;
      stats.serverErrors++;
      res.writeHead(errorBurst % 2 === 0 ? 502 : 503, { 'Content-Type': 'text/html' });
      return void res.end('<html><body>Bad Gateway</body></html>');
    }
    if (req.method === 'GET' && path.startsWith(ARCHIVE_FILE_PATH)) return file(res, path);
    const name = req.method === 'GET' ? path : `${req.method ?? ''} ${path}`;
    const route = Object.hasOwn(routes, name) ? routes[name] : undefined;
    try {
      if (!route) throw new Fail(404, '50000', `sim: no such endpoint ${req.method} ${path}`);
      if (/[^\x21-\x7e]/.test(rawQuery)) throw param('query');
      const p = req.method === 'GET' ? new URLSearchParams(rawQuery) : jsonParams(rawQuery, body);
      if (new Set(p.keys()).size !== [...p.keys()].length) throw param('duplicate');
      let acct: Account | undefined;
      const limit = LIMITS[name] ?? { n: 5, ms: 2000 };
      if (route.signed) {
        acct = authenticate(req, req.url ?? path, body);
        const every = acct.spec.serverErrorEvery;
        if (every !== undefined && acct.signed % every === 0) {
          errorBurst = 2; // this and the next two requests fail
          stats.serverErrors++;
          res.writeHead(502, { 'Content-Type': 'text/html' });
          return void res.end('<html><body>Bad Gateway</body></html>');
        }
      }
      const who = acct ? acct.uid : (req.socket.remoteAddress ?? '?');
      if (take(`${who}|${name}`, limit.n, limit.ms).left < 0) {
        stats.rateLimited++;
        throw new Fail(429, '50011', 'Too Many Requests');
      }
      const extra = [...p.keys()].filter((k) => !route.params.includes(k));
      if (extra.length > 0) throw param(extra[0]!);
      sendJson(res, 200, { code: '0', msg: '', data: route.run(p, acct!) });
    } catch (e) {
      if (!(e instanceof Fail)) throw e;
      sendJson(res, e.status, { code: e.code, msg: e.msg, data: [] });
    }
  }

  /** A POST's JSON body as parameters: an object of strings, and no query string. */
  function jsonParams(rawQuery: string, body: string): URLSearchParams {
    if (rawQuery !== '') throw param('query');
    let o: unknown;
    try {
      o = JSON.parse(body);
    } catch {
      throw new Fail(400, '50002', 'JSON syntax error');
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw param('body');
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(o)) {
      if (typeof v !== 'string') throw param(k);
      p.set(k, v);
    }
    return p;
  }

  /** The archive file host: unsigned, by unguessable name (as a pre-signed link would be). */
  function file(res: ServerResponse, path: string): void {
    const m = /^([0-9a-f]{32})\.zip$/.exec(path.slice(ARCHIVE_FILE_PATH.length));
    const zip = m ? files.get(m[1]!) : undefined;
    if (!zip) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return void res.end('not found');
    }
    stats.archiveDownloads++;
    res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': zip.length });
    res.end(zip);
  }

  accounts.add({ ...OKX_DEMO_ACCOUNT, burst: 2000 });
  const server = await listen(opts.port ?? 0, opts.host ?? '127.0.0.1', handle, {
    code: '50026',
    msg: 'System error, please try again later.',
    data: [],
  });
  return simHandle(server, accounts, stats);
}

function checkSpec(s: OkxSimAccountSpec): void {
  const quarters = (v: unknown) =>
    v === undefined ||
    (Array.isArray(v) &&
      v.length <= 16 &&
      v.every((x) => typeof x === 'string' && /^\d{4}Q[1-4]$/.test(x)));
  const ok =
    isKeyAndSecret(s) &&
    typeof s.passphrase === 'string' &&
    s.passphrase.length >= 1 &&
    s.passphrase.length <= 64 &&
    optInt(s.seed, 0, 2 ** 32) &&
    optInt(s.spotFills, 0, 50_000) &&
    optInt(s.trips, 0, 5_000) &&
    optInt(s.burst, 0, 10_000) &&
    optInt(s.flows, 0, 10_000) &&
    optInt(s.days, 10, 730) &&
    optInt(s.archiveReadyAfterPolls, 0, 1_000) &&
    quarters(s.archiveOngoing) &&
    quarters(s.archiveFails) &&
    optInt(s.gapDays, 0, 300) &&
    (s.gapDays ?? 0) <= (s.days ?? 60) - 10 &&
    optInt(s.authFailAfter, 0, 1_000_000) &&
    optInt(s.serverErrorEvery, 2, 1_000_000) &&
    optInt(s.uid, 1, 2 ** 52) &&
    optBool(s.pageEdgeDuplicates) &&
    optBool(s.canTrade) &&
    optBool(s.canWithdraw);
  if (!ok) throw new Error('sim: invalid account spec');
}
