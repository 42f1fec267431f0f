/**
 * The Bybit and OKX simulators check what the real APIs check. Requests here are signed by hand
 * with node:crypto (not ccxt), following the schemes recorded in
 * ../shared/vectors/exchanges/ccxt_generated_requests.json.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BYBIT_DEMO_ACCOUNT, startBybitSim, type BybitSim } from '../../../src/sim/bybit.js';
import { OKX_DEMO_ACCOUNT, startOkxSim, type OkxSim } from '../../../src/sim/okx.js';

const DAY = 86_400_000;
type Res = { status: number; body: Record<string, unknown>; headers: Headers };

describe('Bybit simulator', () => {
  let sim: BybitSim;
  before(async () => {
    sim = await startBybitSim({ seed: 11 });
  });
  after(() => sim.close());

  async function get(
    path: string,
    query: string,
    o: { secret?: string; ts?: number; recvWindow?: string } = {},
  ): Promise<Res> {
    const ts = String(o.ts ?? Date.now());
    const rw = o.recvWindow ?? '5000';
    const key = BYBIT_DEMO_ACCOUNT.apiKey;
    const sign = createHmac('sha256', o.secret ?? BYBIT_DEMO_ACCOUNT.apiSecret)
      .update(ts + key + rw + query)
      .digest('hex');
    const r = await fetch(`${sim.url}${path}?${query}`, {
      headers: {
        'X-BAPI-API-KEY': key,
        'X-BAPI-TIMESTAMP': ts,
        'X-BAPI-RECV-WINDOW': rw,
        'X-BAPI-SIGN': sign,
      },
    });
    return { status: r.status, body: (await r.json()) as Res['body'], headers: r.headers };
  }
  const code = (r: Res) => r.body['retCode'];

  it('accepts a correct signature and answers with the limit headers', async () => {
    const r = await get('/v5/account/wallet-balance', 'accountType=UNIFIED');
    assert.equal(code(r), 0);
    assert.equal(r.headers.get('X-Bapi-Limit'), '50');
    assert.match(r.headers.get('X-Bapi-Limit-Status') ?? '', /^\d+$/);
  });

  it('rejects a wrong signature (10004) and a timestamp outside recvWindow (10002)', async () => {
    assert.equal(
      code(await get('/v5/account/wallet-balance', 'accountType=UNIFIED', { secret: 'x' })),
      10004,
    );
    const stale = await get('/v5/account/wallet-balance', 'accountType=UNIFIED', {
      ts: Date.now() - 6000,
    });
    assert.equal(code(stale), 10002);
    const ahead = await get('/v5/account/wallet-balance', 'accountType=UNIFIED', {
      ts: Date.now() + 2000,
    });
    assert.equal(code(ahead), 10002);
  });

  it('enforces category, the 7-day window and limit ≤ 100 (10001)', async () => {
    const now = Date.now();
    assert.equal(code(await get('/v5/execution/list', 'limit=10')), 10001);
    const wide = `category=linear&startTime=${now - 8 * DAY}&endTime=${now}`;
    assert.equal(code(await get('/v5/execution/list', wide)), 10001);
    assert.equal(code(await get('/v5/execution/list', 'category=spot&limit=101')), 10001);
    assert.equal(code(await get('/v5/execution/list', 'category=spot&limit=100&foo=1')), 10001);
  });

  it('pages with an opaque, URL-encoded cursor that must be sent back as received', async () => {
    const now = Date.now();
    const q = `category=spot&startTime=${now - 7 * DAY}&endTime=${now}&limit=5`;
    const first = await get('/v5/execution/list', q);
    const result = first.body['result'] as { list: unknown[]; nextPageCursor: string };
    assert.equal(result.list.length, 5);
    assert.match(result.nextPageCursor, /%3A/);
    const next = await get('/v5/execution/list', `${q}&cursor=${result.nextPageCursor}`);
    assert.equal(code(next), 0);
    const again = `${q}&cursor=${encodeURIComponent(result.nextPageCursor)}`; // double-encoded
    assert.equal(code(await get('/v5/execution/list', again)), 10001);
  });

  it('answers the 51st request of a rolling second with retCode 10006 and the reset time', async () => {
    const rs = await Promise.all(
      Array.from({ length: 60 }, () => get('/v5/account/wallet-balance', 'accountType=UNIFIED')),
    );
    const limited = rs.filter((r) => code(r) === 10006);
    assert.ok(limited.length >= 10);
    const reset = Number(limited[0]!.headers.get('X-Bapi-Limit-Reset-Timestamp'));
    assert.ok(reset > Date.now() - 1000 && reset <= Date.now() + 1000);
    assert.equal(limited[0]!.headers.get('X-Bapi-Limit-Status'), '0');
  });
});

describe('OKX simulator', () => {
  let sim: OkxSim;
  before(async () => {
    sim = await startOkxSim({ seed: 11 });
  });
  after(() => sim.close());

  async function get(
    pathAndQuery: string,
    o: { secret?: string; passphrase?: string; ts?: number } = {},
  ): Promise<Res> {
    const ts = new Date(o.ts ?? Date.now()).toISOString();
    const sign = createHmac('sha256', o.secret ?? OKX_DEMO_ACCOUNT.apiSecret)
      .update(`${ts}GET${pathAndQuery}`)
      .digest('base64');
    const r = await fetch(sim.url + pathAndQuery, {
      headers: {
        'OK-ACCESS-KEY': OKX_DEMO_ACCOUNT.apiKey,
        'OK-ACCESS-PASSPHRASE': o.passphrase ?? OKX_DEMO_ACCOUNT.passphrase,
        'OK-ACCESS-TIMESTAMP': ts,
        'OK-ACCESS-SIGN': sign,
      },
    });
    return { status: r.status, body: (await r.json()) as Res['body'], headers: r.headers };
  }

  it('accepts a correct signature; rejects a wrong one, a wrong passphrase and a skewed clock', async () => {
    assert.equal((await get('/api/v5/account/balance')).body['code'], '0');
    const cases: [Res, string][] = [
      [await get('/api/v5/account/balance', { secret: 'x' }), '50113'],
      [await get('/api/v5/account/balance', { passphrase: 'x' }), '50105'],
      [await get('/api/v5/account/balance', { ts: Date.now() - 31_000 }), '50102'],
    ];
    for (const [r, c] of cases) {
      assert.equal(r.status, 401);
      assert.equal(r.body['code'], c);
    }
  });

  it('requires instType and limit ≤ 100 (51000), and pages by billId', async () => {
    assert.equal((await get('/api/v5/trade/fills-history?limit=10')).body['code'], '51000');
    assert.equal((await get('/api/v5/trade/fills-history?instType=SPOT&limit=101')).status, 400);
    const first = (await get('/api/v5/trade/fills-history?instType=SPOT&limit=3')).body['data'] as {
      billId: string;
    }[];
    assert.equal(first.length, 3);
    const after = first[2]!.billId;
    const next = (await get(`/api/v5/trade/fills-history?instType=SPOT&limit=3&after=${after}`))
      .body['data'] as { billId: string }[];
    assert.ok(next.every((r) => BigInt(r.billId) < BigInt(after)));
  });

  it('answers past the per-user limit with HTTP 429, code 50011', async () => {
    await new Promise((r) => setTimeout(r, 2100)); // a fresh window
    const rs = await Promise.all(Array.from({ length: 15 }, () => get('/api/v5/account/balance')));
    const limited = rs.filter((r) => r.status === 429);
    assert.equal(limited.length, 5);
    assert.equal(limited[0]!.body['code'], '50011');
  });
});
