import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Fill } from '../../../src/aggregates/fill.js';
import { CodedError } from '../../../src/common/errors.js';
import {
  historyKey,
  HistoryWatermarks,
  openHistory,
  sealHistory,
  type History,
} from '../../../src/enclave/history.js';
import { nodePlatform as platform } from '../../../src/platform/node.js';
import { MAX_HISTORY_B64, validateRequestBody, wireHistory } from '../../../src/wire/messages.js';

const fill = (i: number, symbol = 'BTC/USDT'): Fill => ({
  exchange: 'binance',
  symbol,
  base: symbol.split('/')[0]!,
  quote: 'USDT',
  id: String(1_000_000 + i),
  orderId: String(9_000 + i),
  side: i % 2 ? 'buy' : 'sell',
  price: `${60_000 + i}.12345678`,
  qty: '0.00100000',
  quoteQty: '60.00000000',
  fee: '0.00006000',
  feeAsset: 'USDT',
  maker: false,
  ts: 1_700_000_000_000 + i * 60_000,
});
const history = (n: number): History => ({
  completeFrom: 1_498_867_200_000,
  fetchedTo: 1_700_100_000_000,
  flowsFrom: 1_699_000_000_001,
  fills: Array.from({ length: n }, (_, i) => fill(i)),
  flows: [{ type: 'deposit', ts: 1_699_000_100_000, asset: 'USDT', amount: '1000', id: 'd1' }],
});
const dataKey = platform.randomBytes(32);
const key = historyKey(platform, dataKey);
const SID = 'A'.repeat(42) + 'E';
const bind = { sessionId: SID, exchange: 'binance', version: 3 };

const codeOf = (e: unknown) => (e instanceof CodedError ? e.code : String(e));

describe('history sealing (src/enclave/history.ts)', () => {
  it('round-trips, and the key is HKDF of the data key, not the data key itself', () => {
    const h = history(50);
    assert.deepEqual(openHistory(platform, key, bind, sealHistory(platform, key, bind, h)), h);
    assert.notDeepEqual(key, dataKey);
    assert.deepEqual(historyKey(platform, dataKey), key, 'every instance derives the same key');
  });

  it('compresses: the blob is not JSON and names no trade id, price or symbol', () => {
    const h = history(500);
    const blob = sealHistory(platform, key, bind, h);
    const raw = Buffer.from(blob, 'base64');
    assert.throws(() => JSON.parse(raw.toString('utf8')));
    const text = raw.toString('latin1');
    // positive control: the plaintext holds them
    const plain = JSON.stringify(h.fills);
    for (const f of h.fills.slice(0, 20)) {
      assert.ok(plain.includes(f.id) && plain.includes(f.price));
      assert.ok(!text.includes(f.id) && !text.includes(f.price));
    }
    assert.ok(!text.includes('BTC/USDT'));
    assert.ok(blob.length < plain.length / 3, `${blob.length} vs ${plain.length}`);
  });

  it('is bound to session, exchange and version: any other binding is ERR_HISTORY_UNSEAL', () => {
    const blob = sealHistory(platform, key, bind, history(5));
    for (const other of [
      { ...bind, sessionId: 'B'.repeat(42) + 'E' },
      { ...bind, exchange: 'binanceusdm' },
      { ...bind, version: 4 },
      { ...bind, version: 2 },
    ]) {
      assert.throws(
        () => openHistory(platform, key, other, blob),
        (e) => codeOf(e) === 'ERR_HISTORY_UNSEAL',
      );
    }
    const otherRing = historyKey(platform, platform.randomBytes(32));
    assert.throws(
      () => openHistory(platform, otherRing, bind, blob),
      (e) => codeOf(e) === 'ERR_HISTORY_UNSEAL',
    );
  });

  it('every flipped bit and every truncation is ERR_HISTORY_UNSEAL', () => {
    const raw = Buffer.from(sealHistory(platform, key, bind, history(3)), 'base64');
    fc.assert(
      fc.property(fc.nat(raw.length * 8 - 1), fc.nat(raw.length - 1), (bit, cut) => {
        const flipped = Buffer.from(raw);
        flipped[bit >> 3] = flipped[bit >> 3]! ^ (1 << (bit & 7));
        for (const bad of [flipped, raw.subarray(0, cut)])
          assert.throws(
            () => openHistory(platform, key, bind, bad.toString('base64')),
            (e) => codeOf(e) === 'ERR_HISTORY_UNSEAL',
          );
      }),
      { numRuns: 200 },
    );
    assert.throws(
      () => openHistory(platform, key, bind, 'not base64!'),
      (e) => codeOf(e) === 'ERR_HISTORY_UNSEAL',
    );
  });

  it('a large account (50,000 fills) fits the default bound and round-trips', () => {
    const h = history(50_000);
    const blob = sealHistory(platform, key, bind, h);
    assert.ok(blob.length < MAX_HISTORY_B64 / 4, `${blob.length} chars`);
    assert.equal(openHistory(platform, key, bind, blob).fills.length, 50_000);
  });

  it('a history that would not fit the message is ERR_HISTORY_TOO_LARGE', () => {
    const h = history(2_000);
    const size = sealHistory(platform, key, bind, h).length;
    assert.throws(
      () => sealHistory(platform, key, bind, h, size - 1),
      (e) => codeOf(e) === 'ERR_HISTORY_TOO_LARGE',
    );
    assert.equal(sealHistory(platform, key, bind, h, size).length, size);
  });

  it('watermarks refuse a version older than the last one returned (ERR_HISTORY_ROLLBACK)', () => {
    const w = new HistoryWatermarks(2);
    w.check(SID, 1); // nothing recorded: anything goes
    w.record(SID, 5);
    w.check(SID, 5);
    w.check(SID, 6);
    assert.throws(
      () => w.check(SID, 4),
      (e) => codeOf(e) === 'ERR_HISTORY_ROLLBACK',
    );
    w.forget(SID);
    w.check(SID, 4);
    // bounded: the oldest session is forgotten first
    w.record('s1', 9);
    w.record('s2', 9);
    w.record('s3', 9);
    w.check('s1', 1);
    assert.throws(
      () => w.check('s3', 1),
      (e) => codeOf(e) === 'ERR_HISTORY_ROLLBACK',
    );
  });
});

describe('wire: compute_aggregates history field', () => {
  const env = {
    ephemeral_pub: Buffer.alloc(32).toString('base64'),
    nonce: Buffer.alloc(12).toString('base64'),
    ciphertext: 'AAAA',
    tag: Buffer.alloc(16).toString('base64'),
    key_id: '0123456789abcdef',
  };
  const body = (history: unknown) => ({
    session_id: SID,
    exchange: 'binance',
    label: 'main',
    envelope: env,
    from: null,
    to: null,
    daily: false,
    history,
  });
  const malformed = (e: unknown) => codeOf(e) === 'ERR_WIRE_MALFORMED';

  it('accepts null or {version ≥ 1, blob: bounded base64}', () => {
    assert.equal(validateRequestBody('compute_aggregates', body(null)).history, null);
    assert.deepEqual(
      validateRequestBody('compute_aggregates', body({ version: 2, blob: 'AAAA' })).history,
      { version: 2, blob: 'AAAA' },
    );
  });

  it('rejects a missing field, extra keys, version 0, non-base64 and oversized blobs', () => {
    const { history: _h, ...without } = body(null);
    assert.throws(() => validateRequestBody('compute_aggregates', without), malformed);
    for (const h of [
      { version: 0, blob: 'AAAA' },
      { version: 1.5, blob: 'AAAA' },
      { version: 1, blob: 'AA!A' },
      { version: 1, blob: 'AAAA', extra: 1 },
      { version: 1, blob: 'A'.repeat(MAX_HISTORY_B64 + 4) },
      'AAAA',
    ])
      assert.throws(() => wireHistory(h), malformed);
  });
});
