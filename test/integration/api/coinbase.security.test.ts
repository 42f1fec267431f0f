/**
 * Coinbase end to end: host → real enclave process → Coinbase simulator over HTTP. A key that
 * can transfer funds is refused with KEY_NOT_READ_ONLY before any history is downloaded, and
 * nothing is computed, signed, stored or logged for it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { startCoinbaseSim, type CoinbaseSim } from '../../../src/sim/coinbase.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { quote, submit } from '../../helpers/client.js';

describe('Coinbase through the service (request_aggregates)', () => {
  let t: TestApp;
  let sim: CoinbaseSim;
  before(async () => {
    sim = await startCoinbaseSim({ port: 0, seed: 11 });
    t = await startTestApp({ enclaveEnv: { EXCHANGE_BASE_URL_COINBASE: sim.url } });
  });
  after(async () => {
    await t.close();
    await sim.close();
  });

  async function submitKey(c: { apiKey: string; apiSecret: string }) {
    const q = await quote(t.app);
    return submit(t.app, {
      // the secret as pasted from the CDP JSON download: newlines escaped
      ...CryptoHelper.encryptCredentials(
        { exchange: 'coinbase', apiKey: c.apiKey, apiSecret: c.apiSecret.replace(/\n/g, '\\n') },
        q.enclave_pubkey,
      ),
      metadata: { exchange: 'coinbase', label: 'cb', ttl: 3600 },
    });
  }
  async function session(c: { apiKey: string; apiSecret: string }): Promise<string> {
    const res = await submitKey(c);
    assert.equal(res.statusCode, 201, res.body);
    return res.json().session_id;
  }
  const aggregates = (session_id: string) =>
    t.app.inject({ method: 'POST', url: '/enclave/request_aggregates', payload: { session_id } });
  const count = async (table: string) =>
    (await t.db.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

  it('signs aggregates over every fill of a view-only key', async () => {
    const c = sim.addAccount({ fills: 200, canTrade: true });
    const res = await aggregates(await session(c));
    assert.equal(res.statusCode, 200, res.body);
    const p = res.json().aggregates_signed.payload;
    assert.equal(p.exchange, 'coinbase');
    assert.equal(p.trades, sim.truth(c.apiKey).length);
    const portfolio = sim.truth(c.apiKey)[0]!.retail_portfolio_id;
    assert.equal(p.account, createHash('sha256').update(`coinbase:${portfolio}`).digest('hex'));
    assert.equal(sim.stats(c.apiKey).rateLimited, 0);
  });

  it('refuses a key that can transfer at submit: 403 KEY_NOT_READ_ONLY, nothing downloaded or stored', async () => {
    const c = sim.addAccount({ fills: 200, canTransfer: true });
    const [sessions, aggs, leaves] = [
      await count('sessions'),
      await count('aggregates'),
      await count('merkle_logs'),
    ];
    const res = await submitKey(c);
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().error.code, 'KEY_NOT_READ_ONLY');
    assert.ok(!res.body.includes(c.apiKey) && !res.body.includes('PRIVATE KEY'));
    assert.equal(await count('sessions'), sessions);
    assert.equal(await count('aggregates'), aggs);
    assert.equal(await count('merkle_logs'), leaves);
    assert.equal(sim.stats(c.apiKey).requests, 1, 'only key_permissions was asked');
  });
});
