import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { startBinanceSim, type BinanceSim } from '../../../src/sim/binance.js';
import { startBybitSim, type BybitSim } from '../../../src/sim/bybit.js';
import { startOkxSim, type OkxSim } from '../../../src/sim/okx.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { META, quote, submit } from '../../helpers/client.js';

const BYBIT = { apiKey: 'venue-bybit', apiSecret: 'venue-bybit-secret', spotFills: 60, trips: 10 };
const OKX = {
  apiKey: 'venue-okx',
  apiSecret: 'venue-okx-secret',
  passphrase: 'venue-okx-pass',
  spotFills: 60,
  trips: 10,
};
/** fills back to 400 days: the older ones only in the quarterly fills archive */
const OKX_OLD = {
  apiKey: 'venue-okx-old',
  apiSecret: 'venue-okx-old-secret',
  passphrase: 'venue-okx-old-pass',
  spotFills: 80,
  trips: 10,
  days: 400,
};

describe('request_aggregates through the real enclave for Bybit and OKX sessions', () => {
  let t: TestApp;
  let binance: BinanceSim;
  let bybit: BybitSim;
  let okx: OkxSim;
  before(async () => {
    [binance, bybit, okx] = await Promise.all([
      startBinanceSim({ seed: 4 }),
      startBybitSim({ seed: 4 }),
      startOkxSim({ seed: 4 }),
    ]);
    bybit.addAccount(BYBIT);
    okx.addAccount(OKX);
    okx.addAccount(OKX_OLD);
    bybit.addAccount({ apiKey: 'bybit-w', apiSecret: 'bybit-w-secret', canWithdraw: true });
    okx.addAccount({ apiKey: 'okx-w', apiSecret: 'okx-w', passphrase: 'p', canWithdraw: true });
    t = await startTestApp({
      exchangeBaseUrl: binance.url, // the price source of every venue
      enclaveEnv: { EXCHANGE_BASE_URL_BYBIT: bybit.url, EXCHANGE_BASE_URL_OKX: okx.url },
    });
  });
  after(async () => {
    await t.close();
    await Promise.all([binance.close(), bybit.close(), okx.close()]);
  });

  async function aggregates(
    creds: Record<string, string>,
    exchange: string,
    session?: { id?: string },
  ) {
    const q = await quote(t.app);
    if (session?.id === undefined) {
      const res = await submit(t.app, {
        ...CryptoHelper.encryptCredentials(creds as never, q.enclave_pubkey),
        metadata: { ...META, exchange },
      });
      assert.equal(res.statusCode, 201, res.body);
      if (session) session.id = res.json().session_id;
      else session = { id: res.json().session_id };
    }
    const r = await t.app.inject({
      method: 'POST',
      url: '/enclave/request_aggregates',
      payload: { session_id: session.id },
    });
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json();
    assert.equal(
      CryptoHelper.verifySignedAggregates(body.aggregates_signed, q.signing_pubkey),
      true,
    );
    return body.aggregates_signed.payload;
  }

  it('a Bybit session is signed over every execution that is a fill', async () => {
    const p = await aggregates(
      { exchange: 'bybit', apiKey: BYBIT.apiKey, apiSecret: BYBIT.apiSecret },
      'bybit',
    );
    const truth = bybit.truth(BYBIT.apiKey).executions.filter((e) => e.execType !== 'Funding');
    assert.equal(p.exchange, 'bybit');
    assert.equal(p.trades, truth.length);
    assert.deepEqual(p.key_permissions, {
      read: true,
      trade: false,
      withdraw: false,
      transfer: false,
      futures: false,
      margin: false,
    });
    // Bybit keeps two years of executions: the signed span says so
    const span = Date.parse(p.history_to) - Date.parse(p.history_from);
    assert.equal(Math.round(span / 86_400_000), 730);
    assert.equal(bybit.stats().rateLimited, 0);
  });

  it('an OKX session (with its passphrase) is signed over every fill', async () => {
    const p = await aggregates(
      { exchange: 'okx', apiKey: OKX.apiKey, apiSecret: OKX.apiSecret, passphrase: OKX.passphrase },
      'okx',
    );
    assert.equal(p.exchange, 'okx');
    const span = Date.parse(p.history_to) - Date.parse(p.history_from);
    // the archive files were only just requested: the span is fills-history's three months
    assert.equal(Math.round(span / 86_400_000), 90, 'OKX archive files are still generating');
    assert.equal(p.trades, okx.truth(OKX.apiKey).fills.length);
    assert.equal(okx.stats().rateLimited, 0);
  });

  it('OKX fills older than 3 months: signed once the archive files are ready, never before', async () => {
    const creds = {
      exchange: 'okx',
      apiKey: OKX_OLD.apiKey,
      apiSecret: OKX_OLD.apiSecret,
      passphrase: OKX_OLD.passphrase,
    };
    const session: { id?: string } = {};
    const truth = okx.truth(OKX_OLD.apiKey).fills;
    // first request: the quarters' files are requested and still generating
    const p1 = await aggregates(creds, 'okx', session);
    const from1 = Date.parse(p1.history_from);
    assert.equal(Math.round((Date.parse(p1.history_to) - from1) / 86_400_000), 90);
    const recent = truth.filter((f) => Number(f.fillTime) >= from1);
    assert.ok(recent.length < truth.length, 'the account has older fills');
    assert.equal(p1.trades, recent.length, 'no fill before the covered span is claimed');
    // the next request retries the archive and finds the files finished: two years covered
    const p2 = await aggregates(creds, 'okx', session);
    const span2 = Date.parse(p2.history_to) - Date.parse(p2.history_from);
    assert.equal(Math.round(span2 / 86_400_000), 730, 'the fills archive reaches two years');
    assert.equal(p2.trades, truth.length);
    assert.ok(Date.parse(p2.from) < from1);
    assert.equal(okx.stats().rateLimited, 0);
  });

  it('withdrawal-enabled Bybit and OKX keys are refused at submit: 403 KEY_NOT_READ_ONLY', async () => {
    for (const [exchange, creds] of [
      ['bybit', { apiKey: 'bybit-w', apiSecret: 'bybit-w-secret' }],
      ['okx', { apiKey: 'okx-w', apiSecret: 'okx-w', passphrase: 'p' }],
    ] as const) {
      const q = await quote(t.app);
      const res = await submit(t.app, {
        ...CryptoHelper.encryptCredentials({ exchange, ...creds } as never, q.enclave_pubkey),
        metadata: { ...META, exchange },
      });
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json().error.code, 'KEY_NOT_READ_ONLY');
    }
  });
});
