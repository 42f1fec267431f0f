/**
 * The Coinbase simulator checks what Coinbase checks. Tokens here are signed with node:crypto
 * directly (not ccxt), so the verifier is exercised independently of the adapter's signer.
 */
import assert from 'node:assert/strict';
import {
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startCoinbaseSim, type CoinbaseSim } from '../../../src/sim/coinbase.js';

type Claims = Record<string, unknown>;

function jwt(key: KeyObject, header: Claims, claims: Claims): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const s = sign('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${h}.${p}.${s.toString('base64url')}`;
}

describe('Coinbase simulator', () => {
  let sim: CoinbaseSim;
  let host: string;
  let creds: { apiKey: string; apiSecret: string };
  let key: KeyObject;
  before(async () => {
    sim = await startCoinbaseSim({ seed: 7 });
    host = new URL(sim.url).host;
    creds = sim.addAccount({ fills: 600 });
    key = createPrivateKey(creds.apiSecret);
  });
  after(() => sim.close());

  const now = () => Math.floor(Date.now() / 1000);
  /** a valid token for GET <path>, with overrides */
  const token = (path: string, o: { header?: Claims; claims?: Claims; key?: KeyObject } = {}) =>
    jwt(
      o.key ?? key,
      { alg: 'ES256', kid: creds.apiKey, nonce: randomBytes(16).toString('hex'), ...o.header },
      {
        iss: 'cdp',
        sub: creds.apiKey,
        nbf: now(),
        exp: now() + 120,
        uri: `GET ${host}${path}`,
        ...o.claims,
      },
    );
  const get = (path: string, auth?: string) =>
    fetch(`${sim.url}${path}`, auth ? { headers: { authorization: `Bearer ${auth}` } } : {});
  const PERMS = '/api/v3/brokerage/key_permissions';

  describe('per-request ES256 JWT', () => {
    it('accepts a token signed with the account key, bound to the request (iss cdp or coinbase-cloud)', async () => {
      const r = await get(PERMS, token(PERMS));
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys((await r.json()) as object).sort(), [
        'can_trade',
        'can_transfer',
        'can_view',
        'portfolio_type',
        'portfolio_uuid',
      ]);
      const legacy = token(PERMS, {
        claims: { iss: 'coinbase-cloud', aud: ['retail_rest_api_proxy'] },
      });
      assert.equal((await get(PERMS, legacy)).status, 200);
    });

    it('rejects with 401 every token that fails one check', async () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const cases: [string, string | undefined][] = [
        ['no token', undefined],
        ['signed by another key', token(PERMS, { key: other })],
        [
          'uri of another path',
          token(PERMS, { claims: { uri: `GET ${host}/api/v3/brokerage/accounts` } }),
        ],
        ['uri of another method', token(PERMS, { claims: { uri: `POST ${host}${PERMS}` } })],
        ['uri of another host', token(PERMS, { claims: { uri: `GET api.coinbase.com${PERMS}` } })],
        ['expired', token(PERMS, { claims: { nbf: now() - 300, exp: now() - 180 } })],
        ['not yet valid', token(PERMS, { claims: { nbf: now() + 60, exp: now() + 180 } })],
        ['lives longer than 120 s', token(PERMS, { claims: { exp: now() + 600 } })],
        ['wrong issuer', token(PERMS, { claims: { iss: 'someone' } })],
        ['sub is not the key', token(PERMS, { claims: { sub: 'organizations/x/apiKeys/y' } })],
        ['wrong audience', token(PERMS, { claims: { aud: ['cdp_service'] } })],
        ['alg none', token(PERMS, { header: { alg: 'none' } })],
        ['no nonce', token(PERMS, { header: { nonce: undefined } })],
        [
          'unknown key name',
          token(PERMS, {
            header: { kid: 'organizations/x/apiKeys/y' },
            claims: { sub: 'organizations/x/apiKeys/y' },
          }),
        ],
      ];
      for (const [name, t] of cases) {
        const r = await get(PERMS, t);
        assert.equal(r.status, 401, name);
        assert.equal(((await r.json()) as { error: string }).error, 'UNAUTHENTICATED', name);
      }
      // a tampered payload keeps the old signature
      const [h, , s] = token(PERMS).split('.');
      const forged = Buffer.from(
        JSON.stringify({
          iss: 'cdp',
          sub: creds.apiKey,
          nbf: now(),
          exp: now() + 120,
          uri: `GET ${host}${PERMS}`,
          x: 1,
        }),
      ).toString('base64url');
      assert.equal((await get(PERMS, `${h}.${forged}.${s}`)).status, 401);
    });

    it('a token is good for one request: a replay is refused', async () => {
      const t = token(PERMS);
      assert.equal((await get(PERMS, t)).status, 200);
      assert.equal((await get(PERMS, t)).status, 401);
    });
  });

  describe('fills paging', () => {
    const FILLS = '/api/v3/brokerage/orders/historical/fills';
    it('clamps limit to 250, ends with an empty cursor, and covers the history newest first', async () => {
      const seen: string[] = [];
      let cursor = '';
      for (;;) {
        const q = `?limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
        const r = await get(FILLS + q, token(FILLS));
        assert.equal(r.status, 200);
        const body = (await r.json()) as {
          fills: { entry_id: string; sequence_timestamp: string }[];
          cursor: string;
        };
        assert.ok(body.fills.length <= 250);
        seen.push(...body.fills.map((f) => f.entry_id));
        if (body.cursor === '') break;
        cursor = body.cursor;
      }
      const truth = sim.truth(creds.apiKey);
      assert.deepEqual(
        seen,
        truth.map((f) => f.entry_id),
      );
      assert.ok(
        truth.every((f, i) => i === 0 || truth[i - 1]!.sequence_timestamp >= f.sequence_timestamp),
      );
    });

    it('rejects an unknown parameter and a forged cursor with 400', async () => {
      assert.equal((await get(`${FILLS}?symbol=BTC-USD`, token(FILLS))).status, 400);
      assert.equal((await get(`${FILLS}?cursor=bm9wZQ`, token(FILLS))).status, 400);
    });
  });

  describe('rate limits', () => {
    it('answers the 31st private request of a second with 429 and Retry-After', async () => {
      const c = sim.addAccount({ fills: 10 });
      const k = createPrivateKey(c.apiSecret);
      const mk = () =>
        jwt(
          k,
          { alg: 'ES256', kid: c.apiKey, nonce: randomBytes(16).toString('hex') },
          { iss: 'cdp', sub: c.apiKey, nbf: now(), exp: now() + 120, uri: `GET ${host}${PERMS}` },
        );
      // wait for the start of a second so 40 requests land in one window
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
      const rs = await Promise.all(Array.from({ length: 40 }, () => get(PERMS, mk())));
      const limited = rs.filter((r) => r.status === 429);
      assert.equal(rs.filter((r) => r.status === 200).length, 30);
      assert.equal(limited.length, 10);
      assert.match(limited[0]!.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
      assert.equal(sim.stats(c.apiKey).rateLimited, 10);
      assert.equal(sim.stats(c.apiKey).maxPerSecond, 30);
    });

    it('limits public requests to 10 per second per IP', async () => {
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
      const rs = await Promise.all(
        Array.from({ length: 12 }, () => get('/api/v3/brokerage/market/products')),
      );
      assert.equal(rs.filter((r) => r.status === 429).length, 2);
    });
  });

  describe('market data', () => {
    it('lists no delisted product and serves at most 350 candles per request', async () => {
      await new Promise((r) => setTimeout(r, 1100));
      const products = (await (await get('/api/v3/brokerage/market/products')).json()) as {
        products: { product_id: string }[];
      };
      const ids = products.products.map((p) => p.product_id);
      assert.ok(ids.includes('BTC-USD') && ids.includes('BTC-USDC'));
      assert.ok(!ids.includes('REP-USD'));
      const end = Math.floor(Date.now() / 3_600_000) * 3600;
      const ok = await get(
        `/api/v3/brokerage/market/products/BTC-USD/candles?granularity=ONE_HOUR&start=${end - 349 * 3600}&end=${end}`,
      );
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { candles: unknown[] }).candles.length, 350);
      const tooMany = await get(
        `/api/v3/brokerage/market/products/BTC-USD/candles?granularity=ONE_HOUR&start=${end - 400 * 3600}&end=${end}`,
      );
      assert.equal(tooMany.status, 400);
      const delisted = await get(
        `/api/v3/brokerage/market/products/REP-USD/candles?granularity=ONE_HOUR&start=${end - 3600}&end=${end}`,
      );
      assert.equal(delisted.status, 404);
    });
  });

  describe('seeded accounts', () => {
    it('POST /__sim/accounts creates an account whose returned PEM signs accepted tokens', async () => {
      const r = await fetch(`${sim.url}/__sim/accounts`, {
        method: 'POST',
        body: JSON.stringify({ fills: 5, canTransfer: true }),
      });
      assert.equal(r.status, 201);
      const c = (await r.json()) as { apiKey: string; apiSecret: string };
      assert.match(c.apiSecret, /^-----BEGIN EC PRIVATE KEY-----\n/);
      const t = jwt(
        createPrivateKey(c.apiSecret),
        { alg: 'ES256', kid: c.apiKey, nonce: randomBytes(16).toString('hex') },
        { iss: 'cdp', sub: c.apiKey, nbf: now(), exp: now() + 120, uri: `GET ${host}${PERMS}` },
      );
      const p = await get(PERMS, t);
      assert.equal(p.status, 200);
      assert.equal(((await p.json()) as { can_transfer: boolean }).can_transfer, true);
      const bad = await fetch(`${sim.url}/__sim/accounts`, {
        method: 'POST',
        body: JSON.stringify({ fills: -1 }),
      });
      assert.equal(bad.status, 400);
    });

    it('balances equal credited transfers − sent − fees + fills − commissions, never negative', () => {
      const c = sim.addAccount({ fills: 800, burst: 300, gapDays: 10 });
      const E = (s: string) => {
        const [i = '0', f = ''] = s.replace('-', '').split('.');
        return (s.startsWith('-') ? -1n : 1n) * BigInt(i + f.padEnd(8, '0').slice(0, 8));
      };
      const bal = new Map<string, bigint>();
      const add = (a: string, v: bigint) => bal.set(a, (bal.get(a) ?? 0n) + v);
      for (const w of sim.wallets(c.apiKey))
        for (const t of w.transactions)
          if (t.status === 'completed') {
            add(w.currency, E(t.amount.amount));
            if (E(t.amount.amount) < 0n && t.network)
              add(w.currency, -E(t.network.transaction_fee.amount));
          }
      for (const f of sim.truth(c.apiKey)) {
        const [base, quote] = f.product_id.split('-') as [string, string];
        const quoteQty = f.size_in_quote ? E(f.size) : (E(f.size) * E(f.price)) / 100_000_000n;
        const qty = f.size_in_quote ? (E(f.size) * 100_000_000n) / E(f.price) : E(f.size);
        const buy = f.side === 'BUY';
        add(base, buy ? qty : -qty);
        add(quote, (buy ? -quoteQty : quoteQty) - E(f.commission));
      }
      for (const w of sim.wallets(c.apiKey)) {
        assert.equal(E(w.balance), bal.get(w.currency) ?? 0n, w.currency);
        assert.ok(E(w.balance) >= 0n, w.currency);
      }
      const fills = sim.truth(c.apiKey);
      assert.ok(
        fills.some((f) => f.size_in_quote),
        'some fills are sized in quote',
      );
      assert.ok(
        fills.some((f) => f.product_id === 'REP-USD'),
        'some fills are on a delisted product',
      );
      assert.ok(
        fills.some((f) => f.product_id === 'BTC-USDC'),
        'some fills are on a USDC product',
      );
      const ms = new Map<string, number>();
      for (const f of fills)
        ms.set(f.trade_time.slice(0, 23), (ms.get(f.trade_time.slice(0, 23)) ?? 0) + 1);
      assert.ok(Math.max(...ms.values()) >= 300, 'the burst shares one millisecond');
    });
  });
});
