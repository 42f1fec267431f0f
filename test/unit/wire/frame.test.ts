import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { utf8 } from '../../../src/common/bytes.js';
import { encodeFrame, FrameDecoder, WireError } from '../../../src/wire/frame.js';
import {
  decodeRequest,
  decodeResponse,
  encodeMessage,
  validateRequestBody,
} from '../../../src/wire/messages.js';

describe('RPC framing', () => {
  it('frames survive any chunking of the stream', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }),
        (bodies, cuts) => {
          const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)));
          const dec = new FrameDecoder();
          const got: Uint8Array[] = [];
          for (let i = 0, c = 0; i < stream.length; c++) {
            const n = cuts[c % cuts.length]!;
            got.push(...dec.push(new Uint8Array(stream.subarray(i, i + n))));
            i += n;
          }
          assert.deepEqual(
            got.map((g) => Buffer.from(g)),
            bodies.map((b) => Buffer.from(b)),
          );
        },
      ),
    );
  });

  it('FrameDecoder › when a header announces more than the maximum › throws before allocating the body', () => {
    const dec = new FrameDecoder(1024);
    const header = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
    assert.throws(
      () => dec.push(header),
      (e: unknown) => e instanceof WireError && e.code === 'ERR_WIRE_FRAME_TOO_LARGE',
    );
    assert.throws(() => encodeFrame(new Uint8Array(2048), 1024), {
      code: 'ERR_WIRE_FRAME_TOO_LARGE',
    });
  });

  it('decoders throw only WireError for arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array(),
          fc.json().map((j) => utf8(j)),
        ),
        (bytes) => {
          for (const fn of [decodeRequest, decodeResponse]) {
            try {
              fn(bytes);
            } catch (e) {
              assert.ok(e instanceof WireError, String(e));
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodeRequest › when the version is not 1 › throws ERR_WIRE_VERSION', () => {
    assert.throws(() => decodeRequest(utf8('{"v":2,"id":1,"method":"attest","body":{}}')), {
      code: 'ERR_WIRE_VERSION',
    });
  });

  it('validateRequestBody rejects extra fields, wrong types and prototype keys', () => {
    const envelope = {
      ephemeral_pub: 'AAAA',
      nonce: 'AAAA',
      ciphertext: 'AAAA',
      tag: 'AAAA',
      key_id: '0123456789abcdef',
    };
    assert.deepEqual(validateRequestBody('open_envelope', { envelope, exchange: 'binance' }), {
      envelope,
      exchange: 'binance',
    });
    assert.throws(
      () => validateRequestBody('open_envelope', { envelope, exchange: 'binance', extra: 1 }),
      { code: 'ERR_WIRE_MALFORMED' },
    );
    assert.throws(
      () =>
        validateRequestBody('open_envelope', {
          envelope: { ...envelope, key_id: 'XYZ' },
          exchange: 'binance',
        }),
      { code: 'ERR_WIRE_MALFORMED' },
    );
    assert.throws(
      () =>
        validateRequestBody('drop_session', JSON.parse('{"__proto__":{"x":1},"session_id":"a"}')),
      { code: 'ERR_WIRE_MALFORMED' },
    );
    assert.throws(() => validateRequestBody('attest', null), { code: 'ERR_WIRE_MALFORMED' });
  });

  it('messages round-trip through encode and decode', () => {
    const req = { v: 1 as const, id: 7, method: 'attest' as const, body: { nonce: null } };
    assert.deepEqual(decodeRequest(encodeMessage(req)), req);
    const res = { v: 1 as const, id: 7, ok: false as const, error: { code: 'X', message: 'y' } };
    assert.deepEqual(decodeResponse(encodeMessage(res)), res);
  });
});
