import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  DEMO_ACCOUNT,
  DEMO_WITHDRAW_ACCOUNT,
  signaturePayload,
  startBinanceSim,
  verifySignature,
  type BinanceSim,
  type SimTrade,
} from '../../../src/sim/binance.js';

const VECTORS = new URL('../../vectors/exchanges/', import.meta.url);
const DAY = 86_400_000;

type Creds = { apiKey: string; apiSecret: string };
type Res = {
  status: number;
  body: { code?: number; msg?: string } & Record<string, unknown>;
  headers: Headers;
};

/** Signs `query` byte-for-byte as given (no re-encoding), like a correct client must. */
function sign(query: string, secret: string): string {
  return `${query}&signature=${createHmac('sha256', secret).update(query).digest('hex')}`;
}

async function get(sim: BinanceSim, pathAndQuery: string, apiKey?: string): Promise<Res> {
  const r = await fetch(sim.url + pathAndQuery, {
    headers: apiKey === undefined ? {} : { 'X-MBX-APIKEY': apiKey },
  });
  return { status: r.status, body: (await r.json()) as Res['body'], headers: r.headers };
}

function signedGet(
  sim: BinanceSim,
  path: string,
  query: string,
  c: Creds = DEMO_ACCOUNT,
): Promise<Res> {
  const q = query === '' ? `timestamp=${Date.now()}` : `${query}&timestamp=${Date.now()}`;
  return get(sim, `${path}?${sign(q, c.apiSecret)}`, c.apiKey);
}

describe('Binance simulator', () => {
  let sim: BinanceSim;
  before(async () => {
    sim = await startBinanceSim({ seed: 3 });
  });
  after(() => sim.close());

  describe('signature verifier', () => {
    it('reproduces the HMAC example signature from the official docs', () => {
      const doc = readFileSync(new URL('binance_spot_api_docs_excerpts.md', VECTORS), 'utf8');
      const secret = /`secretKey` \| (\w+)/.exec(doc)![1]!;
      const payload = /\n(symbol=LTCBTC&side=BUY[^\n]*)\n/.exec(doc)![1]!;
      const expected = 'c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71';
      assert.equal(signaturePayload(`${payload}&signature=${expected}`, '').payload, payload);
      assert.equal(verifySignature(secret, `${payload}&signature=${expected}`, ''), true);
      assert.equal(
        verifySignature(secret, `${payload}&signature=${expected.toUpperCase()}`, ''),
        true,
        'HMAC hex is case-insensitive',
      );
      assert.equal(
        verifySignature(secret, `${payload.replace('0.1', '0.2')}&signature=${expected}`, ''),
        false,
      );
    });

    it('accepts every binance spot request ccxt 4.5.84 generated', () => {
      const v = JSON.parse(
        readFileSync(new URL('ccxt_generated_requests.json', VECTORS), 'utf8'),
      ) as {
        results: { exchange: string; requests: { url: string }[] }[];
      };
      const urls = v.results
        .filter((r) => r.exchange === 'binance')
        .flatMap((r) => r.requests.map((q) => q.url));
      assert.ok(urls.some((u) => u.startsWith('/api/v3/myTrades?')));
      for (const u of urls)
        assert.equal(verifySignature('binanceSecret', u.slice(u.indexOf('?') + 1), ''), true, u);
    });
  });

  describe('signed requests', () => {
    it('accepts a signature over the raw query as received, percent-encoding included', async () => {
      // %55 is "U": the parameter decodes to BTCUSDT, but the signature covers the encoded bytes
      const ok = await signedGet(sim, '/api/v3/myTrades', 'symbol=BTC%55SDT&limit=5');
      assert.equal(ok.status, 200);
      assert.equal((ok.body as unknown as SimTrade[]).length, 5);
      const q = `symbol=BTC%55SDT&limit=5&timestamp=${Date.now()}`;
      const decodedSig = createHmac('sha256', DEMO_ACCOUNT.apiSecret)
        .update(q.replace('%55', 'U'))
        .digest('hex');
      const bad = await get(
        sim,
        `/api/v3/myTrades?${q}&signature=${decodedSig}`,
        DEMO_ACCOUNT.apiKey,
      );
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, -1022);
    });

    it('when the secret is wrong › 400 -1022', async () => {
      const r = await signedGet(sim, '/api/v3/account', '', {
        ...DEMO_ACCOUNT,
        apiSecret: 'not-the-secret',
      });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, -1022);
    });

    it('apiRestrictions is signed like every account endpoint and reports each seeded key', async () => {
      const badSig = await signedGet(sim, '/sapi/v1/account/apiRestrictions', '', {
        ...DEMO_ACCOUNT,
        apiSecret: 'not-the-secret',
      });
      assert.equal(badSig.status, 400);
      assert.equal(badSig.body.code, -1022);
      const unsigned = await get(
        sim,
        `/sapi/v1/account/apiRestrictions?timestamp=${Date.now()}`,
        DEMO_ACCOUNT.apiKey,
      );
      assert.equal(unsigned.body.code, -1102);
      const ro = await signedGet(sim, '/sapi/v1/account/apiRestrictions', '');
      assert.equal(ro.status, 200);
      assert.equal(ro.body['enableReading'], true);
      assert.equal(ro.body['enableWithdrawals'], false);
      assert.equal(ro.body['enableSpotAndMarginTrading'], true);
      assert.ok(ro.headers.get('x-sapi-used-ip-weight-1m'));
      const w = await signedGet(sim, '/sapi/v1/account/apiRestrictions', '', DEMO_WITHDRAW_ACCOUNT);
      assert.equal(w.body['enableWithdrawals'], true);
    });

    it('when the API key is unknown › 401 -2015; when missing › 401 -2014', async () => {
      const unknown = await signedGet(sim, '/api/v3/account', '', {
        apiKey: 'nobody',
        apiSecret: 'x',
      });
      assert.equal(unknown.status, 401);
      assert.equal(unknown.body.code, -2015);
      const missing = await get(sim, `/api/v3/account?${sign(`timestamp=${Date.now()}`, 'x')}`);
      assert.equal(missing.status, 401);
      assert.equal(missing.body.code, -2014);
    });

    it('when the timestamp is older than recvWindow, or ≥ 1 s ahead › 400 -1021', async () => {
      const s = DEMO_ACCOUNT.apiSecret;
      const stale = await get(
        sim,
        `/api/v3/account?${sign(`timestamp=${Date.now() - 6000}`, s)}`,
        DEMO_ACCOUNT.apiKey,
      );
      assert.equal(stale.body.code, -1021);
      assert.match(stale.body.msg!, /outside of the recvWindow/);
      const widened = await get(
        sim,
        `/api/v3/account?${sign(`timestamp=${Date.now() - 6000}&recvWindow=10000`, s)}`,
        DEMO_ACCOUNT.apiKey,
      );
      assert.equal(widened.status, 200);
      const future = await get(
        sim,
        `/api/v3/account?${sign(`timestamp=${Date.now() + 1500}`, s)}`,
        DEMO_ACCOUNT.apiKey,
      );
      assert.equal(future.status, 400);
      assert.equal(future.body.code, -1021);
      assert.match(future.body.msg!, /ahead of the server's time/);
    });

    it('when recvWindow > 60000 › 400 -1131', async () => {
      const r = await signedGet(sim, '/api/v3/account', 'recvWindow=60001');
      assert.equal(r.status, 400);
      assert.equal(r.body.code, -1131);
    });

    it('when a parameter is repeated › 400 -1101', async () => {
      const r = await signedGet(sim, '/api/v3/myTrades', 'symbol=BTCUSDT&symbol=ETHUSDT');
      assert.equal(r.body.code, -1101);
    });
  });

  describe('GET /api/v3/myTrades', () => {
    it('when symbol is missing › -1102; unknown › -1121', async () => {
      assert.equal((await signedGet(sim, '/api/v3/myTrades', 'limit=10')).body.code, -1102);
      assert.equal((await signedGet(sim, '/api/v3/myTrades', 'symbol=NOPEUSDT')).body.code, -1121);
    });

    it('when limit > 1000 › -1130', async () => {
      const r = await signedGet(sim, '/api/v3/myTrades', 'symbol=BTCUSDT&limit=1001');
      assert.equal(r.status, 400);
      assert.equal(r.body.code, -1130);
    });

    it('when fromId is combined with startTime › -1128', async () => {
      const r = await signedGet(
        sim,
        '/api/v3/myTrades',
        `symbol=BTCUSDT&fromId=1&startTime=${Date.now() - DAY}`,
      );
      assert.equal(r.body.code, -1128);
    });

    it('when startTime and endTime are more than 24 h apart › -1127', async () => {
      const end = Date.now();
      const r = await signedGet(
        sim,
        '/api/v3/myTrades',
        `symbol=BTCUSDT&startTime=${end - DAY - 1}&endTime=${end}`,
      );
      assert.equal(r.body.code, -1127);
    });

    it('with fromId returns ids ≥ fromId ascending; without returns the most recent `limit`', async () => {
      const all = sim
        .truth(DEMO_ACCOUNT.apiKey)
        .filter((t) => t.symbol === 'BTCUSDT')
        .sort((a, b) => a.id - b.id);
      const from = all[10]!.id;
      const page = (
        await signedGet(sim, '/api/v3/myTrades', `symbol=BTCUSDT&fromId=${from}&limit=1000`)
      ).body as unknown as SimTrade[];
      assert.deepEqual(
        page.map((t) => t.id),
        all
          .filter((t) => t.id >= from)
          .slice(0, 1000)
          .map((t) => t.id),
      );
      const recent = (await signedGet(sim, '/api/v3/myTrades', 'symbol=BTCUSDT'))
        .body as unknown as SimTrade[];
      assert.deepEqual(
        recent.map((t) => t.id),
        all.slice(-500).map((t) => t.id),
      );
    });

    it('the demo account holds one market order with ≥ 1,200 fills in the same millisecond', () => {
      const perMs = new Map<string, number>();
      for (const t of sim.truth(DEMO_ACCOUNT.apiKey))
        perMs.set(`${t.orderId}@${t.time}`, (perMs.get(`${t.orderId}@${t.time}`) ?? 0) + 1);
      assert.ok(Math.max(...perMs.values()) >= 1200);
    });
  });

  describe('weights and bans', () => {
    it('reports X-MBX-USED-WEIGHT-1M on every response, +20 per account call', async () => {
      const s = await startBinanceSim();
      try {
        const ping = await get(s, '/api/v3/ping');
        assert.equal(ping.headers.get('x-mbx-used-weight-1m'), '1');
        const acct = await signedGet(s, '/api/v3/account', '');
        assert.equal(acct.status, 200);
        assert.equal(acct.headers.get('x-mbx-used-weight-1m'), '21');
        const trades = await signedGet(s, '/api/v3/myTrades', 'symbol=ETHUSDT');
        assert.equal(trades.headers.get('x-mbx-used-weight-1m'), '41');
        const missing = await get(s, '/api/v3/nope');
        assert.equal(missing.status, 404);
        assert.equal(typeof missing.body.msg, 'string');
        assert.ok(missing.headers.has('x-mbx-used-weight-1m'));
      } finally {
        await s.close();
      }
    });

    it('over the limit › 429 with Retry-After; hammering on › 418 with a longer Retry-After', async () => {
      let t = Date.UTC(2026, 0, 1, 0, 0, 30); // 30 s into a minute
      const s = await startBinanceSim({ weightLimitPerMinute: 45, now: () => t });
      try {
        assert.equal((await get(s, '/api/v3/exchangeInfo')).status, 200);
        assert.equal((await get(s, '/api/v3/exchangeInfo')).status, 200);
        const limited = await get(s, '/api/v3/exchangeInfo');
        assert.equal(limited.status, 429);
        assert.equal(limited.body.code, -1003);
        assert.equal(limited.headers.get('retry-after'), '30');
        const again = await get(s, '/api/v3/ping');
        assert.equal(again.status, 429, 'still inside Retry-After');
        const banned = await get(s, '/api/v3/ping');
        assert.equal(banned.status, 418);
        assert.ok(Number(banned.headers.get('retry-after')) >= 120);
        t += 60_000;
        assert.equal(
          (await get(s, '/api/v3/ping')).status,
          418,
          'the ban outlasts the weight window',
        );
        t += 120_000;
        assert.equal((await get(s, '/api/v3/ping')).status, 200);
      } finally {
        await s.close();
      }
    });

    it('a client that waits out Retry-After is served again without a ban', async () => {
      let t = Date.UTC(2026, 0, 1, 0, 0, 50);
      const s = await startBinanceSim({ weightLimitPerMinute: 20, now: () => t });
      try {
        assert.equal((await get(s, '/api/v3/exchangeInfo')).status, 200);
        const limited = await get(s, '/api/v3/exchangeInfo');
        assert.equal(limited.status, 429);
        t += Number(limited.headers.get('retry-after')) * 1000;
        assert.equal((await get(s, '/api/v3/exchangeInfo')).status, 200);
      } finally {
        await s.close();
      }
    });
  });

  describe('admin endpoints', () => {
    it('POST /__sim/accounts adds an account (201) whose trades /__sim/truth returns', async () => {
      const spec = {
        apiKey: 'admin-added',
        apiSecret: 'admin-secret',
        seed: 9,
        fills: 50,
        uid: 777,
      };
      const r = await fetch(`${sim.url}/__sim/accounts`, {
        method: 'POST',
        body: JSON.stringify(spec),
      });
      assert.equal(r.status, 201);
      const dup = await fetch(`${sim.url}/__sim/accounts`, {
        method: 'POST',
        body: JSON.stringify(spec),
      });
      assert.equal(dup.status, 400);
      const truth = (await (
        await fetch(`${sim.url}/__sim/truth?apiKey=admin-added`)
      ).json()) as SimTrade[];
      assert.deepEqual(truth, sim.truth('admin-added'));
      assert.ok(truth.length > 0);
      const acct = await signedGet(sim, '/api/v3/account', '', spec);
      assert.equal(acct.body['uid'], 777);
      assert.equal((await fetch(`${sim.url}/__sim/truth?apiKey=nobody`)).status, 404);
    });
  });
});
