import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { KRAKEN_TIERS } from '../../../src/exchanges/kraken.js';
import { startBinanceSim, type BinanceSim } from '../../../src/sim/binance.js';
import { startKrakenSim, type KrakenSim } from '../../../src/sim/kraken.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { META, quote, submit } from '../../helpers/client.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
// 40 trades and a burst of 8 at one instant: one TradesHistory page and the empty one after it
const KRAKEN = {
  apiKey: 'venue-kraken',
  apiSecret: b64('venue-kraken-secret'),
  trades: 40,
  burst: 8,
};
const WITHDRAW = { apiKey: 'kraken-w', apiSecret: b64('kraken-w-secret'), canWithdraw: true };

describe('request_aggregates through the real enclave for a Kraken session', () => {
  let t: TestApp;
  let binance: BinanceSim;
  let kraken: KrakenSim;
  before(async () => {
    // Kraken's Pro tier (ratelimits.md: counter 20, decaying 1/s), on both sides: the simulator
    // meters every key at it and the enclave is told the accounts are Pro (KRAKEN_TIER); at the
    // Starter default the ~25 counter units of a session take about 45 s, at Pro about 15 s
    [binance, kraken] = await Promise.all([
      startBinanceSim({ seed: 5 }),
      startKrakenSim({ seed: 5, counter: KRAKEN_TIERS.pro }),
    ]);
    kraken.addAccount(KRAKEN);
    kraken.addAccount(WITHDRAW);
    t = await startTestApp({
      exchangeBaseUrl: binance.url, // Kraken sessions are priced from Binance's USDT candles
      enclaveEnv: { EXCHANGE_BASE_URL_KRAKEN: kraken.url, KRAKEN_TIER: 'pro' },
    });
  });
  after(async () => {
    await t.close();
    await Promise.all([binance.close(), kraken.close()]);
  });

  async function seal(creds: { apiKey: string; apiSecret: string }) {
    const q = await quote(t.app);
    const sealed = CryptoHelper.encryptCredentials(
      { exchange: 'kraken', ...creds } as never,
      q.enclave_pubkey,
    );
    return {
      q,
      res: await submit(t.app, { ...sealed, metadata: { ...META, exchange: 'kraken' } }),
    };
  }

  it('signs a payload over every trade, with key_permissions and the span since Kraken opened', async () => {
    const { q, res } = await seal(KRAKEN);
    assert.equal(res.statusCode, 201, res.body);
    const r = await t.app.inject({
      method: 'POST',
      url: '/enclave/request_aggregates',
      payload: { session_id: res.json().session_id },
    });
    assert.equal(r.statusCode, 200, r.body);
    const signed = r.json().aggregates_signed;
    assert.equal(CryptoHelper.verifySignedAggregates(signed, q.signing_pubkey), true);
    const p = signed.payload;
    assert.equal(p.exchange, 'kraken');
    assert.equal(p.trades, kraken.truth(KRAKEN.apiKey).trades.length);
    assert.equal(p.trades, KRAKEN.trades + KRAKEN.burst);
    assert.deepEqual(p.key_permissions, {
      read: true,
      trade: false,
      withdraw: false,
      transfer: false,
      futures: false,
      margin: false,
    });
    // Kraken documents no lookback limit: the signed history starts at its opening (Sep 2013)
    assert.equal(p.history_from, '2013-09-01T00:00:00Z');
    assert.ok(Date.parse(p.history_to) > Date.now() - 120_000, p.history_to);
    const s = kraken.stats();
    assert.equal(s.rateLimited, 0, 'the enclave paced itself to the Pro counter');
    assert.equal(s.badNonces, 0);
  });

  it('a withdrawal-enabled Kraken key is refused at submit: 403 KEY_NOT_READ_ONLY', async () => {
    const { res } = await seal(WITHDRAW);
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().error.code, 'KEY_NOT_READ_ONLY');
  });
});
