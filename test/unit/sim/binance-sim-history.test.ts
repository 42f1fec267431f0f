import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  DEMO_ACCOUNT,
  startBinanceSim,
  type BinanceSim,
  type KlineRow,
  type SimDeposit,
  type SimTrade,
  type SimWithdrawal,
} from '../../../src/sim/binance.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const E8 = 100_000_000n;

type Creds = { apiKey: string; apiSecret: string };
type Res = { status: number; body: unknown; headers: Headers };
const code = (r: Res) => (r.body as { code?: number }).code;

function sign(query: string, secret: string): string {
  return `${query}&signature=${createHmac('sha256', secret).update(query).digest('hex')}`;
}
async function get(sim: BinanceSim, pathAndQuery: string, apiKey?: string): Promise<Res> {
  const r = await fetch(sim.url + pathAndQuery, {
    headers: apiKey === undefined ? {} : { 'X-MBX-APIKEY': apiKey },
  });
  return { status: r.status, body: await r.json(), headers: r.headers };
}
function signedGet(
  sim: BinanceSim,
  path: string,
  query: string,
  c: Creds = DEMO_ACCOUNT,
  ts = Date.now(),
): Promise<Res> {
  const q = query === '' ? `timestamp=${ts}` : `${query}&timestamp=${ts}`;
  return get(sim, `${path}?${sign(q, c.apiSecret)}`, c.apiKey);
}

/**
 * Like a well-behaved client: waits out a 429's Retry-After (the withdraw history allows 10
 * requests per second, which consecutive tests can reach) and asks again with a fresh timestamp.
 */
async function patientGet(sim: BinanceSim, path: string, query: string, c: Creds = DEMO_ACCOUNT) {
  for (;;) {
    const r = await signedGet(sim, path, query, c);
    if (r.status !== 429) return r;
    await new Promise((res) => setTimeout(res, Number(r.headers.get('retry-after')) * 1000 + 50));
  }
}

/** 8-dp decimal string → e8 BigInt (the sim's amounts have at most 8 decimals). */
function e8(s: string): bigint {
  const [i = '0', f = ''] = s.split('.');
  return BigInt(i) * E8 + BigInt(f.padEnd(8, '0'));
}
const credited = (d: SimDeposit) => (d.status === 1 || d.status === 6) && d.walletType === 0;
const completed = (w: SimWithdrawal) => w.status === 6 && w.walletType === 0;
const withdrawnAt = (w: SimWithdrawal) => Date.parse(`${w.applyTime.replace(' ', 'T')}Z`);
const baseOf = (symbol: string) => symbol.replace(/(USDT|BTC)$/, '');

/** Replays flows and fills by timestamp; returns final balances and the lowest balance seen. */
function replay(
  trades: SimTrade[],
  flows: { deposits: SimDeposit[]; withdrawals: SimWithdrawal[] },
) {
  type Ev = { ts: number; rank: number; moves: [string, bigint][] };
  const evs: Ev[] = [];
  for (const d of flows.deposits.filter(credited))
    evs.push({ ts: d.insertTime, rank: 0, moves: [[d.coin, e8(d.amount)]] });
  for (const t of trades) {
    const base = baseOf(t.symbol);
    const quote = t.symbol.slice(base.length);
    const [q, b] = [e8(t.qty), e8(t.quoteQty)];
    evs.push({
      ts: t.time,
      rank: 1,
      moves: [
        [base, t.isBuyer ? q : -q],
        [quote, t.isBuyer ? -b : b],
        [t.commissionAsset, -e8(t.commission)],
      ],
    });
  }
  for (const w of flows.withdrawals.filter(completed))
    evs.push({
      ts: withdrawnAt(w),
      rank: 2,
      moves: [[w.coin, -(e8(w.amount) + e8(w.transactionFee))]],
    });
  evs.sort((a, b) => a.ts - b.ts || a.rank - b.rank);
  const bal = new Map<string, bigint>();
  let lowest = 0n;
  for (const ev of evs) {
    for (const [asset, v] of ev.moves) bal.set(asset, (bal.get(asset) ?? 0n) + v);
    for (const [asset] of ev.moves) if (bal.get(asset)! < lowest) lowest = bal.get(asset)!;
  }
  return { bal, lowest };
}

describe('Binance simulator: market, flows, balances', () => {
  let sim: BinanceSim;
  const added = {
    apiKey: 'history-key',
    apiSecret: 'history-secret',
    seed: 21,
    fills: 800,
    days: 100,
  };
  before(async () => {
    sim = await startBinanceSim({ seed: 5 });
    sim.addAccount(added);
  });
  after(() => sim.close());

  describe('GET /api/v3/klines', () => {
    it('answers Binance-shaped rows: 12 fields, 8-dp price strings, closeTime = open + interval − 1', async () => {
      const r = await get(sim, '/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=5');
      assert.equal(r.status, 200);
      const rows = r.body as KlineRow[];
      assert.equal(rows.length, 5);
      for (const k of rows) {
        assert.equal(k.length, 12);
        assert.equal(typeof k[0], 'number');
        for (const i of [1, 2, 3, 4, 5, 7, 9, 10]) assert.match(k[i] as string, /^\d+\.\d{8}$/);
        assert.equal(k[6], k[0] + HOUR - 1);
        assert.equal(typeof k[8], 'number');
        assert.equal(k[11], '0');
        assert.ok(e8(k[3]) <= e8(k[1]) && e8(k[1]) <= e8(k[2]), 'low ≤ open ≤ high');
        assert.ok(e8(k[3]) <= e8(k[4]) && e8(k[4]) <= e8(k[2]), 'low ≤ close ≤ high');
      }
      // without start/end: the most recent, ending with the candle in progress
      assert.equal(rows[4]![0], Math.floor(Date.now() / HOUR) * HOUR);
      for (let i = 1; i < 5; i++) assert.equal(rows[i]![0] - rows[i - 1]![0], HOUR);
    });

    it('follows the price path: open = the path at openTime, close = the next open', async () => {
      const start = Math.floor(Date.now() / DAY) * DAY - 20 * DAY;
      const rows = (
        await get(sim, `/api/v3/klines?symbol=ETHUSDT&interval=1h&startTime=${start}&limit=48`)
      ).body as KlineRow[];
      assert.equal(rows.length, 48);
      assert.equal(rows[0]![0], start);
      for (const [i, k] of rows.entries()) {
        assert.equal(k[1], sim.priceAt('ETHUSDT', k[0]));
        if (i > 0) assert.equal(rows[i - 1]![4], k[1]);
      }
    });

    it('a 1d candle aggregates its 24 hourly candles', async () => {
      const day = Math.floor(Date.now() / DAY) * DAY - 10 * DAY;
      const [d] = (
        await get(sim, `/api/v3/klines?symbol=SOLUSDT&interval=1d&startTime=${day}&limit=1`)
      ).body as KlineRow[];
      const hs = (
        await get(sim, `/api/v3/klines?symbol=SOLUSDT&interval=1h&startTime=${day}&limit=24`)
      ).body as KlineRow[];
      assert.equal(d![0], day);
      assert.equal(d![1], hs[0]![1]);
      assert.equal(d![4], hs[23]![4]);
      assert.equal(d![2], hs.map((h) => h[2]).sort((a, b) => Number(e8(b) - e8(a)))[0]);
      assert.equal(d![3], hs.map((h) => h[3]).sort((a, b) => Number(e8(a) - e8(b)))[0]);
      assert.equal(
        e8(d![5]),
        hs.reduce((s, h) => s + e8(h[5]), 0n),
      );
    });

    it('startTime inside a candle starts at the next one; endTime bounds the open time', async () => {
      const t = Math.floor(Date.now() / HOUR) * HOUR - 30 * HOUR;
      const rows = (
        await get(
          sim,
          `/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=${t + 1}&endTime=${t + 5 * HOUR}`,
        )
      ).body as KlineRow[];
      assert.deepEqual(
        rows.map((k) => k[0]),
        [1, 2, 3, 4, 5].map((i) => t + i * HOUR),
      );
    });

    it('a halted (BREAK) symbol has no candles after its halt', async () => {
      const rows = (await get(sim, '/api/v3/klines?symbol=LUNAUSDT&interval=1d&limit=1000'))
        .body as KlineRow[];
      assert.ok(rows.length > 0);
      const halt = Math.floor(Date.now() / DAY) * DAY - 30 * DAY;
      assert.equal(rows.at(-1)![0], halt - DAY);
      assert.equal(sim.priceAt('LUNAUSDT', halt), null);
    });

    it('rejects bad requests with the documented codes', async () => {
      const q = (s: string) => get(sim, `/api/v3/klines?${s}`);
      assert.equal(code(await q('interval=1h')), -1102);
      assert.equal(code(await q('symbol=BTCUSDT')), -1102);
      assert.equal(code(await q('symbol=NOPEUSDT&interval=1h')), -1121);
      assert.equal(code(await q('symbol=BTCUSDT&interval=7h')), -1120);
      assert.equal(code(await q('symbol=BTCUSDT&interval=1h&limit=1001')), -1130);
      assert.equal(code(await q('symbol=BTCUSDT&interval=1h&limit=0')), -1130);
      assert.equal(code(await q('symbol=BTCUSDT&interval=1h&startTime=2000&endTime=1000')), -1023);
      assert.equal(code(await q('symbol=BTCUSDT&interval=1h&foo=1')), -1101);
      assert.equal((await q('symbol=BTCUSDT&interval=1h&limit=1000')).status, 200);
    });

    it('costs weight 2 in the /api pool (X-MBX-USED-WEIGHT-1M)', async () => {
      const s = await startBinanceSim();
      try {
        const r = await get(s, '/api/v3/klines?symbol=BTCUSDT&interval=1d&limit=1');
        assert.equal(r.headers.get('x-mbx-used-weight-1m'), '2');
        const r2 = await get(s, '/api/v3/klines?symbol=BTCUSDT&interval=1d&limit=1000');
        assert.equal(r2.headers.get('x-mbx-used-weight-1m'), '4');
      } finally {
        await s.close();
      }
    });
  });

  describe('fills against the market', () => {
    it('every traded, fee or flow asset has a listed <ASSET>USDT market; BREAK positions are closed out', async () => {
      const info = (await get(sim, '/api/v3/exchangeInfo')).body as {
        symbols: { symbol: string; status: string }[];
      };
      const listed = new Set(info.symbols.map((s) => s.symbol));
      assert.ok(listed.has('BNBUSDT'), 'BNB fees can be priced');
      for (const c of [DEMO_ACCOUNT, added]) {
        const assets = new Set<string>();
        for (const t of sim.truth(c.apiKey)) {
          const base = baseOf(t.symbol);
          [base, t.symbol.slice(base.length), t.commissionAsset].forEach((a) => assets.add(a));
        }
        const { deposits, withdrawals } = sim.flows(c.apiKey);
        [...deposits, ...withdrawals].forEach((f) => assets.add(f.coin));
        for (const a of assets) if (a !== 'USDT') assert.ok(listed.has(`${a}USDT`), a);
      }
      const demo = sim.truth(DEMO_ACCOUNT.apiKey).filter((t) => t.symbol === 'LUNAUSDT');
      assert.ok(demo.length > 0 && !demo.at(-1)!.isBuyer, 'LUNA traded, last fill a sell');
      const { bal } = replay(sim.truth(DEMO_ACCOUNT.apiKey), sim.flows(DEMO_ACCOUNT.apiKey));
      assert.equal(bal.get('LUNA'), 0n, 'no balance trace of the halted symbol');
    });

    it('every fill trades within 2 ticks of the path and inside its 1h candle', async () => {
      const trades = sim.truth(DEMO_ACCOUNT.apiKey).concat(sim.truth(added.apiKey));
      const tick: Record<string, bigint> = { LUNAUSDT: 10_000n, ETHBTC: 1_000n };
      const candles = new Map<string, KlineRow>();
      for (const t of trades.filter((_, i) => i % 40 === 0)) {
        const open = Math.floor(t.time / HOUR) * HOUR;
        const key = `${t.symbol}@${open}`;
        if (!candles.has(key)) {
          const [k] = (
            await get(
              sim,
              `/api/v3/klines?symbol=${t.symbol}&interval=1h&startTime=${open}&limit=1`,
            )
          ).body as KlineRow[];
          candles.set(key, k!);
        }
        const k = candles.get(key)!;
        const p = e8(t.price);
        assert.ok(e8(k[3]) <= p && p <= e8(k[2]), `${t.symbol} ${t.price} in [${k[3]}, ${k[2]}]`);
        const off = (p - e8(sim.priceAt(t.symbol, t.time)!)) / (tick[t.symbol] ?? 1_000_000n);
        assert.ok(off >= -2n && off <= 2n, `${t.symbol} ${off} ticks off the path`);
      }
    });
  });

  describe('deposit and withdrawal history', () => {
    it('balances in /api/v3/account = deposits − withdrawals + fills − fees, and never negative in time order', async () => {
      for (const c of [DEMO_ACCOUNT, added]) {
        const { bal, lowest } = replay(sim.truth(c.apiKey), sim.flows(c.apiKey));
        assert.equal(lowest >= 0n, true, 'no balance goes below zero');
        const acct = (await signedGet(sim, '/api/v3/account', '', c)).body as {
          balances: { asset: string; free: string; locked: string }[];
        };
        const reported = new Map(acct.balances.map((b) => [b.asset, e8(b.free) + e8(b.locked)]));
        for (const asset of new Set([...bal.keys(), ...reported.keys()]))
          assert.equal(reported.get(asset) ?? 0n, bal.get(asset) ?? 0n, asset);
        assert.ok(
          acct.balances.some((b) => e8(b.locked) > 0n),
          'some funds are locked',
        );
      }
    });

    it('the account is funded by deposits before its first fill', () => {
      const { deposits } = sim.flows(DEMO_ACCOUNT.apiKey);
      const first = Math.min(...sim.truth(DEMO_ACCOUNT.apiKey).map((t) => t.time));
      const funding = deposits
        .filter((d) => credited(d) && d.insertTime < first)
        .map((d) => d.coin);
      assert.deepEqual(funding.sort(), ['BNB', 'BTC', 'USDT']);
    });

    it('rows carry the documented fields; withdrawals are stamped with a UTC applyTime', () => {
      const { deposits, withdrawals } = sim.flows(added.apiKey);
      assert.ok(deposits.length >= 6 && withdrawals.length >= 2);
      assert.ok(deposits.some((d) => d.status === 6) && deposits.some((d) => !credited(d)));
      assert.ok(withdrawals.some((w) => !completed(w)));
      for (const d of deposits) {
        assert.match(d.id, /^\d{18}$/);
        assert.match(d.amount, /^\d+(\.\d+)?$/);
        assert.equal(typeof d.insertTime, 'number');
      }
      for (const w of withdrawals) {
        assert.match(w.applyTime, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
        assert.match(w.id, /^[0-9a-f]{32}$/);
        assert.match(w.transactionFee, /^\d+(\.\d+)?$/);
      }
    });

    it('signed: a wrong secret › -1022; unknown key › 401 -2015', async () => {
      for (const path of ['/sapi/v1/capital/deposit/hisrec', '/sapi/v1/capital/withdraw/history']) {
        const wrong = await patientGet(sim, path, '', { ...DEMO_ACCOUNT, apiSecret: 'nope' });
        assert.equal(wrong.status, 400);
        assert.equal(code(wrong), -1022);
        const unknown = await patientGet(sim, path, '', { apiKey: 'nobody', apiSecret: 'x' });
        assert.equal(unknown.status, 401);
        assert.equal(code(unknown), -2015);
      }
    });

    it('more than 90 days between startTime and endTime › 400 -1127; exactly 90 days passes', async () => {
      const end = Date.now();
      for (const path of ['/sapi/v1/capital/deposit/hisrec', '/sapi/v1/capital/withdraw/history']) {
        const wide = await patientGet(sim, path, `startTime=${end - 90 * DAY - 1}&endTime=${end}`);
        assert.equal(wide.status, 400);
        assert.equal(code(wide), -1127);
        const longOpen = await patientGet(sim, path, `startTime=${end - 200 * DAY}`);
        assert.equal(code(longOpen), -1127, 'endTime defaults to now');
        const ok = await patientGet(sim, path, `startTime=${end - 90 * DAY}&endTime=${end}`);
        assert.equal(ok.status, 200);
      }
    });

    it('limit must be 1..1000 › -1130; an unknown parameter › -1101', async () => {
      for (const path of ['/sapi/v1/capital/deposit/hisrec', '/sapi/v1/capital/withdraw/history']) {
        assert.equal(code(await patientGet(sim, path, 'limit=1001')), -1130);
        assert.equal(code(await patientGet(sim, path, 'limit=0')), -1130);
        assert.equal(code(await patientGet(sim, path, 'offset=-1')), -1100);
        assert.equal(code(await patientGet(sim, path, 'nope=1')), -1101);
        assert.equal((await patientGet(sim, path, 'limit=1000')).status, 200);
      }
    });

    it('pages by offset, newest first, inside the window; the default window is the last 90 days', async () => {
      const end = Date.now();
      const start = end - 89 * DAY;
      const all = sim
        .flows(added.apiKey)
        .deposits.filter((d) => d.insertTime >= start && d.insertTime <= end)
        .sort((a, b) => b.insertTime - a.insertTime);
      assert.ok(all.length >= 3);
      const paged: SimDeposit[] = [];
      for (let offset = 0; ; offset += 2) {
        const r = await patientGet(
          sim,
          '/sapi/v1/capital/deposit/hisrec',
          `startTime=${start}&endTime=${end}&offset=${offset}&limit=2`,
          added,
        );
        const rows = r.body as SimDeposit[];
        if (rows.length === 0) break;
        paged.push(...rows);
      }
      assert.deepEqual(paged, all);
      const dflt = (await patientGet(sim, '/sapi/v1/capital/withdraw/history', '', added))
        .body as SimWithdrawal[];
      assert.deepEqual(
        dflt.map((w) => w.id),
        sim
          .flows(added.apiKey)
          .withdrawals.filter((w) => withdrawnAt(w) >= end - 90 * DAY)
          .sort((a, b) => withdrawnAt(b) - withdrawnAt(a))
          .map((w) => w.id),
      );
    });

    it('weights: deposits 1 in its own /sapi IP pool per minute; withdrawals 18,000 per second, 10/s', async () => {
      const t = Date.UTC(2026, 0, 1, 0, 0, 30, 100);
      const s = await startBinanceSim({ now: () => t });
      try {
        const d1 = await signedGet(s, '/sapi/v1/capital/deposit/hisrec', '', DEMO_ACCOUNT, t);
        assert.equal(d1.headers.get('x-sapi-used-ip-weight-1m'), '1');
        assert.equal(d1.headers.get('x-mbx-used-weight-1m'), null, 'not the /api pool');
        const d2 = await signedGet(s, '/sapi/v1/capital/deposit/hisrec', '', DEMO_ACCOUNT, t);
        assert.equal(d2.headers.get('x-sapi-used-ip-weight-1m'), '2');
        for (let i = 1; i <= 10; i++) {
          const w = await signedGet(s, '/sapi/v1/capital/withdraw/history', '', DEMO_ACCOUNT, t);
          assert.equal(w.status, 200);
          assert.equal(w.headers.get('x-sapi-used-ip-weight-1s'), String(18_000 * i));
        }
        const over = await signedGet(s, '/sapi/v1/capital/withdraw/history', '', DEMO_ACCOUNT, t);
        assert.equal(over.status, 429);
        assert.equal(code(over), -1003);
        assert.equal(over.headers.get('retry-after'), '1');
        const api = await get(s, '/api/v3/ping');
        assert.equal(api.headers.get('x-mbx-used-weight-1m'), '1', 'pools are independent');
      } finally {
        await s.close();
      }
    });

    it('GET /__sim/flows returns deposits and withdrawals; unknown account › 404', async () => {
      const r = await fetch(`${sim.url}/__sim/flows?apiKey=${added.apiKey}`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), sim.flows(added.apiKey));
      assert.equal((await fetch(`${sim.url}/__sim/flows?apiKey=nobody`)).status, 404);
    });
  });

  describe('determinism', () => {
    it('the same seed gives the same market and accounts; another seed another market', async () => {
      const [a, b, c] = await Promise.all([
        startBinanceSim({ seed: 5 }),
        startBinanceSim({ seed: 5 }),
        startBinanceSim({ seed: 6 }),
      ]);
      try {
        const t = Date.now() - 40 * DAY;
        assert.equal(a.priceAt('BTCUSDT', t), b.priceAt('BTCUSDT', t));
        assert.notEqual(a.priceAt('BTCUSDT', t), c.priceAt('BTCUSDT', t));
        assert.deepEqual(a.truth(DEMO_ACCOUNT.apiKey), b.truth(DEMO_ACCOUNT.apiKey));
        assert.deepEqual(a.flows(DEMO_ACCOUNT.apiKey), b.flows(DEMO_ACCOUNT.apiKey));
      } finally {
        await Promise.all([a.close(), b.close(), c.close()]);
      }
    });

    it('rejects an account whose history is longer than the market', async () => {
      const s = await startBinanceSim({ historyDays: 60 });
      try {
        assert.throws(() => s.addAccount({ apiKey: 'long', apiSecret: 'x', days: 60 }));
        s.addAccount({ apiKey: 'fits', apiSecret: 'x', days: 59, fills: 20 });
        assert.ok(s.truth('fits').length > 0);
      } finally {
        await s.close();
      }
    });
  });
});
