import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { startBinanceSim, type BinanceSim } from '../../../src/sim/binance.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { quote, submit } from '../../helpers/client.js';

const ACCOUNT = {
  apiKey: 'usdm-e2e-key',
  apiSecret: 'usdm-e2e-secret',
  fills: 5,
  canFutures: true,
  usdm: { fills: 200, burst: 300, delisted: true },
};
const META = { exchange: 'binanceusdm', label: 'perps', ttl: 3600 };

describe('binanceusdm end to end (submit_key → request_aggregates)', () => {
  let t: TestApp;
  let sim: BinanceSim;
  before(async () => {
    sim = await startBinanceSim({ seed: 9 });
    sim.addAccount(ACCOUNT);
    sim.addAccount({ apiKey: 'usdm-withdraw', apiSecret: 'w', canWithdraw: true, usdm: {} });
    t = await startTestApp({ exchangeBaseUrl: sim.url });
  });
  after(async () => {
    await t.close();
    await sim.close();
  });

  async function seal(apiKey: string, apiSecret: string) {
    const q = await quote(t.app);
    return CryptoHelper.encryptCredentials(
      { exchange: 'binanceusdm', apiKey, apiSecret },
      q.enclave_pubkey,
    );
  }

  it('signs a payload over every futures fill, with key_permissions and the 90-day history span', async () => {
    const res = await submit(t.app, {
      ...(await seal(ACCOUNT.apiKey, ACCOUNT.apiSecret)),
      metadata: META,
    });
    assert.equal(res.statusCode, 201, res.body);
    const agg = await t.app.inject({
      method: 'POST',
      url: '/enclave/request_aggregates',
      payload: { session_id: res.json().session_id },
    });
    assert.equal(agg.statusCode, 200, agg.body);
    const p = agg.json().aggregates_signed.payload;
    assert.equal(p.exchange, 'binanceusdm');
    assert.equal(p.trades, sim.usdmTruth(ACCOUNT.apiKey).trades.length);
    assert.deepEqual(p.key_permissions, {
      read: true,
      trade: true,
      withdraw: false,
      transfer: false,
      futures: true,
      margin: false,
    });
    assert.equal(Date.parse(p.history_to) - Date.parse(p.history_from), 90 * 86_400_000);
    assert.ok(p.funding !== 0, 'funding is booked');
    assert.equal(p.balance_adjustments, 0, 'the futures wallet is fully explained');
  });

  it('a withdrawal-enabled key → 403 KEY_NOT_READ_ONLY, nothing stored', async () => {
    const [before] = await t.db.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM credentials',
    );
    const res = await submit(t.app, { ...(await seal('usdm-withdraw', 'w')), metadata: META });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().error.code, 'KEY_NOT_READ_ONLY');
    const [after] = await t.db.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM credentials',
    );
    assert.equal(after!.n, before!.n);
  });
});
