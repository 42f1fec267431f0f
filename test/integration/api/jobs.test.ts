import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import { startBinanceSim, type BinanceSim } from '../../../src/sim/binance.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { META, quote, submit } from '../../helpers/client.js';

const ACCOUNT = { apiKey: 'job-test-key', apiSecret: 'job-test-secret', fills: 400, uid: 5151 };

describe('request_aggregates as a job: Prefer: respond-async and GET /enclave/jobs/<id>', () => {
  let t: TestApp;
  let sim: BinanceSim;
  before(async () => {
    sim = await startBinanceSim({ port: 0, seed: 11 });
    sim.addAccount(ACCOUNT);
    // a key the exchange stops accepting right after submit_key's permission check
    sim.addAccount({ ...ACCOUNT, apiKey: `${ACCOUNT.apiKey}-gone`, authFailAfter: 1 });
    t = await startTestApp({ exchangeBaseUrl: sim.url });
  });
  after(async () => {
    await t.close();
    await sim.close();
  });

  async function newSession(apiKey = ACCOUNT.apiKey): Promise<string> {
    const q = await quote(t.app);
    const res = await submit(t.app, {
      ...CryptoHelper.encryptCredentials(
        { exchange: 'binance', apiKey, apiSecret: ACCOUNT.apiSecret },
        q.enclave_pubkey,
      ),
      metadata: META,
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().session_id;
  }
  const request = (session_id: string, headers: Record<string, string> = {}, extra = {}) =>
    t.app.inject({
      method: 'POST',
      url: '/enclave/request_aggregates',
      headers,
      payload: { session_id, ...extra },
    });
  const job = (id: string) => t.app.inject({ method: 'GET', url: `/enclave/jobs/${id}` });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON body the asserts walk
  async function poll(id: string): Promise<any> {
    for (let i = 0; i < 600; i++) {
      const r = await job(id);
      assert.equal(r.statusCode, 200, r.body);
      if (r.json().status !== 'running') return r.json();
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error('job did not finish');
  }

  it('answers 202 with a job, whose progress and signed result the job endpoint serves', async () => {
    const sid = await newSession();
    const res = await request(sid, { prefer: 'respond-async, wait=0' }, { daily: true });
    assert.equal(res.statusCode, 202, res.body);
    const accepted = res.json();
    assert.match(accepted.job_id, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(accepted.status, 'running');
    assert.equal(res.headers['location'], `/enclave/jobs/${accepted.job_id}`);
    assert.equal(res.headers['preference-applied'], 'respond-async');
    assert.equal('session_id' in accepted, false, 'a job view does not name its session');

    const done = await poll(accepted.job_id);
    assert.equal(done.status, 'succeeded');
    assert.ok(done.finished_at);
    // The enclave's last progress message: every fill counted, then signing.
    assert.equal(done.progress.phase, 'sign');
    assert.equal(done.progress.fills, sim.truth(ACCOUNT.apiKey).length);
    assert.ok(done.progress.pages >= 1);
    const q = await quote(t.app);
    const signed = done.result.aggregates_signed;
    assert.equal(CryptoHelper.verifySignedAggregates(signed, q.signing_pubkey), true);
    assert.equal(signed.payload.trades, sim.truth(ACCOUNT.apiKey).length);
    // `daily: true` puts the daily equity series in the signed payload, one point per day.
    assert.ok(Array.isArray(signed.payload.daily));
    assert.equal(signed.payload.daily.length, signed.payload.days);
    assert.match(signed.payload.daily[0].date, /^\d{4}-\d{2}-\d{2}$/);
  });

  it('a repeated request attaches to the running job instead of downloading twice', async () => {
    const sid = await newSession();
    // `wait=0` as its own preference: the download can finish within the default 1 s wait
    const first = await request(sid, { prefer: 'respond-async, wait=0' });
    assert.equal(first.statusCode, 202, first.body);
    const accepted = first.json();
    const before = (await t.app.inject({ method: 'GET', url: '/api/log/checkpoint' })).body;
    const second = await request(sid); // synchronous: waits for the same job
    assert.equal(second.statusCode, 200, second.body);
    const done = await poll(accepted.job_id);
    assert.equal(done.status, 'succeeded');
    assert.equal(second.json().leaf_index, done.result.leaf_index);
    const size = (note: string) => Number(note.split('\n')[1]);
    const afterNote = (await t.app.inject({ method: 'GET', url: '/api/log/checkpoint' })).body;
    assert.equal(size(afterNote), size(before) + 1, 'exactly one leaf was logged');
  });

  it('without the preference the answer stays synchronous (protocol v1)', async () => {
    const sid = await newSession();
    const res = await request(sid);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().aggregates_signed.payload.daily, undefined, 'daily is opt-in');
  });

  it('a failed job reports the protocol error code', async () => {
    const sid = await newSession(`${ACCOUNT.apiKey}-gone`); // the exchange then refuses the key
    const res = await request(sid, { prefer: 'respond-async, wait=0' });
    assert.equal(res.statusCode, 202, res.body);
    const done = await poll(res.json().job_id);
    assert.equal(done.status, 'failed', JSON.stringify(done));
    assert.equal(done.error.code, 'EXCHANGE_AUTH_FAILED');
    assert.equal(done.result, undefined);
  });

  it('a job whose session is revoked meanwhile fails with the protocol error code', async () => {
    const sid = await newSession();
    const res = await request(sid, { prefer: 'respond-async, wait=0' });
    assert.equal(res.statusCode, 202, res.body);
    const revoke = await t.app.inject({
      method: 'POST',
      url: '/enclave/revoke',
      payload: { session_id: sid },
    });
    assert.equal(revoke.statusCode, 200, revoke.body);
    const done = await poll(res.json().job_id);
    assert.equal(done.status, 'failed', JSON.stringify(done));
    assert.equal(done.error.code, 'SESSION_REVOKED');
    assert.equal(done.result, undefined);
  });

  it('unknown and malformed job ids answer 404 NOT_FOUND and 400 INVALID_REQUEST', async () => {
    const unknown = await job('AAAAAAAAAAAAAAAAAAAAAA');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'NOT_FOUND');
    const bad = await job('not-a-job');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'INVALID_REQUEST');
  });
});
