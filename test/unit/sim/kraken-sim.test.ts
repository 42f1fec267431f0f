/**
 * The Kraken simulator checks what Kraken checks. Requests are signed by hand with node:crypto
 * (not ccxt): API-Sign = base64 HMAC-SHA512(base64-decoded secret, path + SHA-256(nonce + body)).
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KRAKEN_DEMO_ACCOUNT, startKrakenSim, type KrakenSim } from '../../../src/sim/kraken.js';

describe('Kraken simulator', () => {
  let sim: KrakenSim;
  before(async () => {
    sim = await startKrakenSim({ seed: 2, counter: { max: 6, decayPerSec: 0.5 } });
  });
  after(() => sim.close());

  let n = Date.now();
  async function post(path: string, fields: string, o: { nonce?: number; secret?: string } = {}) {
    const nonce = String(o.nonce ?? ++n);
    const body = `nonce=${nonce}${fields ? `&${fields}` : ''}`;
    const inner = createHash('sha256')
      .update(nonce + body)
      .digest();
    const sign = createHmac(
      'sha512',
      Buffer.from(o.secret ?? KRAKEN_DEMO_ACCOUNT.apiSecret, 'base64'),
    )
      .update(Buffer.concat([Buffer.from(path), inner]))
      .digest('base64');
    const r = await fetch(sim.url + path, {
      method: 'POST',
      headers: {
        'API-Key': KRAKEN_DEMO_ACCOUNT.apiKey,
        'API-Sign': sign,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body,
    });
    return (await r.json()) as { error: string[]; result?: Record<string, unknown> };
  }

  it('accepts a correct signature and pages 50 trades, newest first', async () => {
    const r = await post('/0/private/TradesHistory', 'ofs=0');
    assert.deepEqual(r.error, []);
    const trades = Object.values(r.result!['trades'] as Record<string, { time: number }>);
    assert.equal(trades.length, 50);
    assert.ok(trades.every((t, i) => i === 0 || t.time <= trades[i - 1]!.time));
  });

  it('rejects a wrong signature and a nonce that does not increase', async () => {
    assert.deepEqual((await post('/0/private/Balance', '', { secret: 'eHh4eA==' })).error, [
      'EAPI:Invalid signature',
    ]);
    const used = ++n;
    assert.deepEqual((await post('/0/private/Balance', '', { nonce: used })).error, []);
    assert.deepEqual((await post('/0/private/Balance', '', { nonce: used })).error, [
      'EAPI:Invalid nonce',
    ]);
  });

  it('refuses calls past the counter (history calls cost 2)', async () => {
    const rs = [];
    for (let i = 0; i < 5; i++) rs.push(await post('/0/private/Ledgers', 'type=deposit'));
    assert.ok(rs.some((r) => r.error[0] === 'EAPI:Rate limit exceeded'));
    assert.ok(sim.stats().rateLimited >= 1);
  });
});
