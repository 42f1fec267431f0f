import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CryptoHelper } from '../../../src/client/crypto-helper.js';
import {
  DEMO_WITHDRAW_ACCOUNT,
  startBinanceSim,
  type BinanceSim,
} from '../../../src/sim/binance.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { META, quote, seal, submit } from '../../helpers/client.js';

const CREDS = { exchange: 'binance', apiKey: 'k-123', apiSecret: 's-456' };

async function rows(t: TestApp): Promise<number> {
  const [s] = await t.db.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions');
  const [c] = await t.db.db.query<{ n: number }>('SELECT count(*)::int AS n FROM credentials');
  return s!.n + c!.n;
}

async function opsRows(t: TestApp): Promise<number> {
  const [o] = await t.db.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ops_logs');
  return o!.n;
}

function flip(b64: string, bit: number): string {
  const b = Buffer.from(b64, 'base64');
  b[Math.floor(bit / 8) % b.length]! ^= 1 << (bit % 8);
  return b.toString('base64');
}

describe('POST /enclave/submit_key (protocol §3)', () => {
  let t: TestApp;
  let sim: BinanceSim;
  before(async () => {
    // submit_key asks the exchange what the key may do, so the keys live on the simulator
    sim = await startBinanceSim({ seed: 5 });
    sim.addAccount({ apiKey: CREDS.apiKey, apiSecret: CREDS.apiSecret, fills: 10 });
    t = await startTestApp({ exchangeBaseUrl: sim.url });
  });
  after(async () => {
    await t.close();
    await sim.close();
  });

  it('a key that can withdraw → 403 KEY_NOT_READ_ONLY and nothing stored', async () => {
    const before = await rows(t);
    const opsBefore = await opsRows(t);
    const { apiKey, apiSecret } = DEMO_WITHDRAW_ACCOUNT;
    const sealed = await seal(t.app, { exchange: 'binance', apiKey, apiSecret });
    const res = await submit(t.app, { ...sealed, metadata: META });
    assert.equal(res.statusCode, 403, res.body);
    assert.equal(res.json().error.code, 'KEY_NOT_READ_ONLY');
    assert.ok(!res.body.includes(DEMO_WITHDRAW_ACCOUNT.apiKey));
    assert.equal(await rows(t), before);
    assert.equal(await opsRows(t), opsBefore, 'not even an op-log line');
  });

  it('asks the exchange once per key within the check cache TTL; a refused key every time', async () => {
    const asked = () => sim.stats().usedTotal['sapiRestrictions'] ?? 0;
    const creds = { exchange: 'binance', apiKey: 'k-cache', apiSecret: 's-cache' };
    sim.addAccount({ apiKey: creds.apiKey, apiSecret: creds.apiSecret, fills: 1 });
    const start = asked();
    for (let i = 0; i < 3; i++) {
      const res = await submit(t.app, { ...(await seal(t.app, creds)), metadata: META });
      assert.equal(res.statusCode, 201, res.body);
    }
    assert.equal(asked() - start, 1, 'one apiRestrictions request for three submits');
    const { apiKey, apiSecret } = DEMO_WITHDRAW_ACCOUNT;
    const refusedStart = asked();
    for (let i = 0; i < 2; i++) {
      const sealed = await seal(t.app, { exchange: 'binance', apiKey, apiSecret });
      const res = await submit(t.app, { ...sealed, metadata: META });
      assert.equal(res.json().error.code, 'KEY_NOT_READ_ONLY');
    }
    assert.equal(asked() - refusedStart, 2, 'a refusal is never cached');
  });

  it('a key the exchange rejects → 422 EXCHANGE_AUTH_FAILED and nothing stored', async () => {
    const before = await rows(t);
    const sealed = await seal(t.app, { ...CREDS, apiSecret: 'wrong-secret' });
    const res = await submit(t.app, { ...sealed, metadata: META });
    assert.equal(res.statusCode, 422, res.body);
    assert.equal(res.json().error.code, 'EXCHANGE_AUTH_FAILED');
    assert.equal(await rows(t), before);
  });

  it('stores the session and only ciphertext, and answers 201 with a 43-char session id', async () => {
    const sealed = await seal(t.app, CREDS);
    const res = await submit(t.app, { ...sealed, metadata: META });
    assert.equal(res.statusCode, 201, res.body);
    const { session_id, expires_at } = res.json();
    assert.match(session_id, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(Math.abs(Date.parse(expires_at) - (Date.now() + 3600_000)) < 10_000);
    const [cred] = await t.db.db.query<Record<string, unknown>>(
      'SELECT * FROM credentials WHERE session_id = $1',
      [session_id],
    );
    assert.equal(cred!['ciphertext'], sealed.ciphertext);
    assert.equal(cred!['nonce'], sealed.nonce);
    assert.ok(!JSON.stringify(cred).includes(CREDS.apiSecret));
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('a flipped bit in any envelope field → 400 DECRYPTION_FAILED and nothing stored', async () => {
    const sealed = await seal(t.app, CREDS);
    const before = await rows(t);
    for (const field of ['ephemeral_pub', 'nonce', 'ciphertext', 'tag'] as const) {
      for (const bit of [0, 13, 77]) {
        const res = await submit(t.app, {
          ...sealed,
          [field]: flip(sealed[field], bit),
          metadata: META,
        });
        assert.equal(res.statusCode, 400, `${field}/${bit}`);
        assert.equal(res.json().error.code, 'DECRYPTION_FAILED');
        assert.ok(!res.body.includes(sealed[field]));
      }
    }
    assert.equal(await rows(t), before);
  });

  it('answers each bad input with its own stable code and stores nothing', async () => {
    const sealed = await seal(t.app, CREDS);
    const before = await rows(t);
    const cases: [unknown, number, string][] = [
      [{ ...sealed, metadata: { ...META, exchange: 'nasdaq' } }, 400, 'UNKNOWN_EXCHANGE'],
      [
        {
          ...sealed,
          metadata: { ...META, exchange: 'binance' },
          ciphertext: CryptoHelper.encryptCredentials(
            { ...CREDS, exchange: 'kraken' },
            sealed.enclave_pubkey,
          ).ciphertext,
        },
        400,
        'DECRYPTION_FAILED',
      ],
      [{ ...sealed, metadata: { ...META, ttl: 59 } }, 400, 'TTL_OUT_OF_RANGE'],
      [{ ...sealed, metadata: { ...META, ttl: 604801 } }, 400, 'TTL_OUT_OF_RANGE'],
      [{ ...sealed, metadata: { ...META, ttl: '3600' } }, 400, 'INVALID_REQUEST'],
      [{ ...sealed, metadata: { ...META, label: 'bad/label' } }, 400, 'INVALID_REQUEST'],
      [{ ...sealed, metadata: { ...META, label: '' } }, 400, 'INVALID_REQUEST'],
      [{ ...sealed, metadata: META, extra: 1 }, 400, 'INVALID_REQUEST'],
      [
        { ...sealed, nonce: Buffer.alloc(13).toString('base64'), metadata: META },
        400,
        'INVALID_REQUEST',
      ],
      [
        { ...sealed, ephemeral_pub: Buffer.alloc(31).toString('base64'), metadata: META },
        400,
        'INVALID_REQUEST',
      ],
      [{ ...sealed, tag: 'AAAA', metadata: META }, 400, 'INVALID_REQUEST'],
      [{ ...sealed, ciphertext: 'YWJjZA', metadata: META }, 400, 'INVALID_REQUEST'],
      [
        { ...sealed, enclave_pubkey: Buffer.alloc(32, 1).toString('base64'), metadata: META },
        400,
        'UNKNOWN_ENCLAVE_KEY',
      ],
      [{ metadata: META }, 400, 'INVALID_REQUEST'],
    ];
    for (const [body, status, code] of cases) {
      const res = await submit(t.app, body);
      assert.equal(res.statusCode, status, `${code}: ${res.body}`);
      assert.equal(res.json().error.code, code, res.body);
    }
    assert.equal(await rows(t), before);
  });

  it('sealed credentials for another exchange than metadata.exchange → EXCHANGE_MISMATCH', async () => {
    const q = await quote(t.app);
    const other = CryptoHelper.encryptCredentials(
      { ...CREDS, exchange: 'bybit' },
      q.enclave_pubkey,
    );
    const res = await submit(t.app, { ...other, metadata: META });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'EXCHANGE_MISMATCH');
  });

  it('malformed JSON, prototype keys, wrong media type and huge bodies are rejected cleanly', async () => {
    const before = await rows(t);
    const post = (payload: string, type = 'application/json') =>
      t.app.inject({
        method: 'POST',
        url: '/enclave/submit_key',
        payload,
        headers: { 'content-type': type },
      });
    const cases: [Awaited<ReturnType<typeof post>>, number, string][] = [
      [await post('{"ephemeral_pub":'), 400, 'INVALID_REQUEST'],
      [await post('{"__proto__":{"admin":true}}'), 400, 'INVALID_REQUEST'],
      [await post('{"constructor":{"prototype":{"x":1}}}'), 400, 'INVALID_REQUEST'],
      [await post('hello', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [await post(JSON.stringify({ ciphertext: 'A'.repeat(20_000) })), 413, 'PAYLOAD_TOO_LARGE'],
      [await post(''), 400, 'INVALID_REQUEST'],
    ];
    for (const [res, status, code] of cases) {
      assert.equal(res.statusCode, status, res.body);
      assert.deepEqual(Object.keys(res.json()), ['error']);
      assert.equal(res.json().error.code, code);
    }
    assert.equal(await rows(t), before);
  });

  it('random bodies never cause a 5xx, always carry an error code, and store nothing', async () => {
    const sealed = await seal(t.app, CREDS);
    const before = await rows(t);
    const field = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.base64String({ maxLength: 60 }),
      fc.integer(),
      fc.constant(null),
      fc.object({ maxDepth: 2 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            ephemeral_pub: field,
            nonce: field,
            ciphertext: field,
            tag: field,
            metadata: fc.oneof(field, fc.record({ exchange: field, label: field, ttl: field })),
          },
          { requiredKeys: [] },
        ),
        fc.subarray(['ephemeral_pub', 'nonce', 'ciphertext', 'tag'] as const),
        async (body, keepReal) => {
          const merged: Record<string, unknown> = { ...body };
          for (const k of keepReal) merged[k] = sealed[k];
          const res = await submit(t.app, merged);
          assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode} ${res.body}`);
          assert.match(res.json().error.code, /^[A-Z_]+$/);
        },
      ),
      { numRuns: 200 },
    );
    assert.equal(await rows(t), before);
  });
});
