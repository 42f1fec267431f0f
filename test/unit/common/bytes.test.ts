import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BytesError,
  bytesEqual,
  fromBase64,
  fromBase64Url,
  fromHex,
  fromUtf8,
  toBase64,
  toBase64Url,
  toHex,
} from '../../../src/common/bytes.js';

describe('bytes', () => {
  it('base64, base64url and hex round-trip and match Node for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        assert.equal(toBase64(b), Buffer.from(b).toString('base64'));
        assert.equal(toBase64Url(b), Buffer.from(b).toString('base64url'));
        assert.deepEqual(fromBase64(toBase64(b)), b);
        assert.deepEqual(fromBase64Url(toBase64Url(b)), b);
        assert.deepEqual(fromHex(toHex(b)), b);
      }),
    );
  });

  it('fromBase64 › when the input is not canonical › throws ERR_BYTES_BASE64', () => {
    for (const bad of ['YWJjZA', 'YWJj\nZA==', 'YQ=', 'YR==', '!!!!', ' YWJj', 'YWJjZA===']) {
      assert.throws(
        () => fromBase64(bad),
        (e: unknown) => e instanceof BytesError && e.code === 'ERR_BYTES_BASE64',
        bad,
      );
    }
  });

  it('fromHex rejects odd length and non-hex; fromUtf8 rejects invalid sequences', () => {
    assert.throws(() => fromHex('abc'), { code: 'ERR_BYTES_HEX' });
    assert.throws(() => fromHex('zz'), { code: 'ERR_BYTES_HEX' });
    assert.throws(() => fromUtf8(new Uint8Array([0xc3, 0x28])), { code: 'ERR_BYTES_UTF8' });
  });

  it('bytesEqual compares content and length', () => {
    assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
    assert.equal(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
    assert.equal(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 0])), false);
  });
});
