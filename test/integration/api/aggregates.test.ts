import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { jcs } from '../../../src/crypto/jcs.js';
import { startBinanceSim, type BinanceSim } from '../../../src/sim/binance.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { META, quote, submit } from '../../helpers/client.js';

const ACCOUNT = { apiKey: 'agg-test-key', apiSecret: 'agg-test-secret', fills: 150, uid: 424242 };

describe('POST /enclave/request_aggregates and /enclave/revoke (protocol §4, §5)', () => {
  let t: TestApp;
  let sim: BinanceSim;
  before(async () => {
    sim = await startBinanceSim({ port: 0, seed: 7 });
    sim.addAccount(ACCOUNT);
    sim.addAccount({ apiKey: 'other-key', apiSecret: 'other-secret', fills: 20, uid: 1 });
    // the key is deleted right after submit_key's permission check
    sim.addAccount({ apiKey: 'gone-key', apiSecret: 'gone-secret', fills: 20, authFailAfter: 1 });
    t = await startTestApp({ exchangeBaseUrl: sim.url });
  });
  after(async () => {
    await t.close();
    await sim.close();
  });

  async function newSession(
    creds = { exchange: 'binance', apiKey: ACCOUNT.apiKey, apiSecret: ACCOUNT.apiSecret },
  ): Promise<string> {
    const q = await quote(t.app);
    const res = await submit(t.app, {
      ...CryptoHelper.encryptCredentials(creds, q.enclave_pubkey),
      metadata: META,
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().session_id;
  }
  const aggregates = (session_id: string, extra: object = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/enclave/request_aggregates',
      payload: { session_id, ...extra },
    });

  it('returns a payload signed by the attested key, computed over every fill the exchange has', async () => {
    const sid = await newSession();
    const res = await aggregates(sid);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    const q = await quote(t.app);
    assert.equal(
      CryptoHelper.verifySignedAggregates(body.aggregates_signed, q.signing_pubkey),
      true,
    );
    const p = body.aggregates_signed.payload;
    assert.equal(p.v, 1);
    assert.equal(p.session_id, sid);
    assert.equal(p.exchange, 'binance');
    assert.equal(p.label, 'main');
    assert.equal(p.trades, sim.truth(ACCOUNT.apiKey).length);
    assert.equal(p.image_hash, q.image_hash);
    assert.match(p.account, /^[0-9a-f]{64}$/);
    assert.equal(p.account, createHash('sha256').update(`binance:${ACCOUNT.uid}`).digest('hex'));
    assert.match(p.trades_root, /^[0-9a-f]{64}$/);
    assert.equal(p.currency, 'USD');
    // The extended metrics ride along (docs/methodology.md); undefined ones are null, never 0.
    for (const k of [
      'sortino',
      'max_drawdown',
      'calmar',
      'cagr',
      'volatility',
      'win_rate',
      'profit_factor',
    ]) {
      assert.ok(p[k] === null || typeof p[k] === 'number', k);
    }
    assert.ok(
      typeof p.start_equity === 'number' && p.start_equity > 0,
      'opening capital comes from the reconstructed balances',
    );
    assert.equal(p.cost_basis, 'average');
    assert.ok(p.assumptions.some((a: string) => /USD/.test(a)));
    assert.ok(typeof p.pnl === 'number' && typeof p.volume === 'number' && p.volume > 0);
    assert.ok(p.sharpe === null || typeof p.sharpe === 'number');
    assert.match(p.from, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/);
    // additive fields: what the key may do, and the span the history is complete for
    assert.deepEqual(p.key_permissions, {
      read: true,
      trade: true,
      withdraw: false,
      transfer: false,
      futures: false,
      margin: false,
    });
    assert.equal(p.history_from, '2017-07-01T00:00:00Z', 'Binance spot keeps all history');
    assert.equal(p.history_to, p.computed_at);
    assert.equal(body.logs_url, `/api/logs/${sid}`);
    // The stored copy is the signed JCS text, byte for byte.
    const [row] = await t.db.db.query<{ payload: unknown }>(
      'SELECT payload FROM aggregates WHERE session_id = $1',
      [sid],
    );
    const stored = typeof row!.payload === 'string' ? JSON.parse(row!.payload) : row!.payload;
    assert.equal(jcs(stored), jcs(p));
    // The session log shows the entry and non-sensitive events.
    const logs = await t.app.inject({ method: 'GET', url: body.logs_url });
    assert.equal(logs.statusCode, 200);
    assert.equal(
      logs.json().entries[0].aggregates_signed.signature,
      body.aggregates_signed.signature,
    );
    assert.deepEqual(
      logs
        .json()
        .events.map((e: { event: string }) => e.event)
        .sort(),
      ['aggregates_computed', 'session_created'],
    );
  });

  it('respects from/to and rejects a reversed or malformed range', async () => {
    const sid = await newSession();
    const truth = sim.truth(ACCOUNT.apiKey);
    const mid = truth[Math.floor(truth.length / 2)]!.time;
    const res = await aggregates(sid, { from: new Date(mid).toISOString() });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(
      res.json().aggregates_signed.payload.trades,
      truth.filter((x) => x.time >= mid).length,
    );
    for (const bad of [
      { from: '2024-02-30T00:00:00Z' },
      { from: 'yesterday' },
      { from: '2024-02-01T00:00:00Z', to: '2024-01-01T00:00:00Z' },
    ]) {
      const r = await aggregates(sid, bad);
      assert.equal(r.statusCode, 400, JSON.stringify(bad));
      assert.equal(r.json().error.code, 'INVALID_REQUEST');
    }
  });

  it('unknown, expired and revoked sessions answer SESSION_NOT_FOUND / SESSION_EXPIRED / SESSION_REVOKED', async () => {
    const unknown = await aggregates('A'.repeat(43));
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'SESSION_NOT_FOUND');

    const expired = await newSession();
    await t.db.db.query(
      `UPDATE sessions SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE session_id = $1`,
      [expired],
    );
    await t.db.db.query(
      `UPDATE credentials SET expires_at = now() - interval '1 second' WHERE session_id = $1`,
      [expired],
    );
    const e = await aggregates(expired);
    assert.equal(e.statusCode, 410);
    assert.equal(e.json().error.code, 'SESSION_EXPIRED');

    const sid = await newSession();
    assert.equal((await aggregates(sid)).statusCode, 200);
    const rv = await t.app.inject({
      method: 'POST',
      url: '/enclave/revoke',
      payload: { session_id: sid },
    });
    assert.equal(rv.statusCode, 200);
    assert.deepEqual(rv.json(), { success: true, message: 'Session revoked and data purged' });
    for (const r of [
      await aggregates(sid),
      await t.app.inject({ method: 'POST', url: '/enclave/revoke', payload: { session_id: sid } }),
      await t.app.inject({ method: 'GET', url: `/api/logs/${sid}` }),
    ]) {
      assert.equal(r.statusCode, 410);
      assert.equal(r.json().error.code, 'SESSION_REVOKED');
    }
    // Nothing of the session's secrets or results is left.
    const [c] = await t.db.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM credentials WHERE session_id = $1',
      [sid],
    );
    const [a] = await t.db.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM aggregates WHERE session_id = $1 AND payload IS NOT NULL',
      [sid],
    );
    assert.equal(c!.n + a!.n, 0);
    const nf = await t.app.inject({
      method: 'POST',
      url: '/enclave/revoke',
      payload: { session_id: 'B'.repeat(43) },
    });
    assert.equal(nf.statusCode, 404);
  });

  it('revoking one session leaves another untouched (isolation)', async () => {
    const a = await newSession();
    const b = await newSession({
      exchange: 'binance',
      apiKey: 'other-key',
      apiSecret: 'other-secret',
    });
    await t.app.inject({ method: 'POST', url: '/enclave/revoke', payload: { session_id: a } });
    const res = await aggregates(b);
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().aggregates_signed.payload.trades, sim.truth('other-key').length);
  });

  it('a key the exchange stops accepting → 422 EXCHANGE_AUTH_FAILED, and no aggregate is stored', async () => {
    const sid = await newSession({
      exchange: 'binance',
      apiKey: 'gone-key',
      apiSecret: 'gone-secret',
    });
    const res = await aggregates(sid);
    assert.equal(res.statusCode, 422, res.body);
    assert.equal(res.json().error.code, 'EXCHANGE_AUTH_FAILED');
    const [a] = await t.db.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM aggregates WHERE session_id = $1',
      [sid],
    );
    assert.equal(a!.n, 0);
  });
});
