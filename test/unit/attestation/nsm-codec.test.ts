/**
 * NSM message codec against byte vectors written out by hand from aws-nitro-enclaves-nsm-api
 * src/api/mod.rs (serde's externally tagged enums, serde_cbor encoding of Option and ByteBuf).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromHex, toHex } from '../../../src/common/bytes.js';
import {
  decodeAttestationResponse,
  encodeAttestationRequest,
  NSM_ERROR_CODES,
  NsmError,
  type NsmCode,
} from '../../../src/attestation/nsm-codec.js';

const hex = (s: string): Uint8Array => fromHex(s.replace(/\s+/g, ''));
const text = (s: string): string => Buffer.from(s).toString('hex');
// CBOR text heads: 0x60 + length for lengths below 24.
const tstr = (s: string): string => (0x60 + s.length).toString(16) + text(s);

function throwsNsm(f: () => unknown, code: NsmCode, nsmError?: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof NsmError, `expected NsmError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.nsmError, nsmError);
    return true;
  });
}

describe('encodeAttestationRequest', () => {
  it('with no fields › {"Attestation": {user_data: null, nonce: null, public_key: null}}', () => {
    const expected = `a1 ${tstr('Attestation')} a3 ${tstr('user_data')} f6 ${tstr('nonce')} f6 ${tstr('public_key')} f6`;
    assert.equal(toHex(encodeAttestationRequest({})), toHex(hex(expected)));
    assert.equal(
      toHex(encodeAttestationRequest({})),
      'a16b4174746573746174696f6ea369757365725f64617461f6656e6f6e6365f66a7075626c69635f6b6579f6',
    );
  });

  it('keeps the Rust field order and encodes bytes as bstr (empty bytes stay bytes, not null)', () => {
    const got = encodeAttestationRequest({
      publicKey: new Uint8Array([0xaa]),
      nonce: new Uint8Array(0),
      userData: new Uint8Array([1, 2]),
    });
    assert.equal(
      toHex(got),
      'a16b4174746573746174696f6ea369757365725f6461746142010265' +
        '6e6f6e6365406a7075626c69635f6b657941aa',
    );
  });

  it('uses a two-byte length head for a 1024-byte field and rejects 1025 bytes with ERR_NSM_INPUT', () => {
    const got = encodeAttestationRequest({ nonce: new Uint8Array(1024).fill(7) });
    const nonceAt = toHex(got).indexOf(text('nonce')) / 2 + 5;
    assert.equal(toHex(got.subarray(nonceAt, nonceAt + 3)), '590400');
    throwsNsm(() => encodeAttestationRequest({ nonce: new Uint8Array(1025) }), 'ERR_NSM_INPUT');
    throwsNsm(
      () => encodeAttestationRequest({ userData: 'x' as unknown as Uint8Array }),
      'ERR_NSM_INPUT',
    );
  });
});

describe('decodeAttestationResponse', () => {
  it('returns the document of {"Attestation": {"document": h\'d284\'}}', () => {
    const bytes = hex(`a1 ${tstr('Attestation')} a1 ${tstr('document')} 42 d2 84`);
    assert.equal(toHex(decodeAttestationResponse(bytes)), 'd284');
  });

  for (const code of NSM_ERROR_CODES) {
    it(`maps {"Error": "${code}"} to ERR_NSM_ERROR naming ${code}`, () => {
      const bytes = hex(`a1 ${tstr('Error')} ${tstr(code)}`);
      throwsNsm(() => decodeAttestationResponse(bytes), 'ERR_NSM_ERROR', code);
    });
  }

  const malformed: [string, string][] = [
    ['an unknown error name', `a1 ${tstr('Error')} ${tstr('Oops')}`],
    ['a unit-variant response ("LockPCR")', tstr('LockPCR')],
    ['another variant (GetRandom)', `a1 ${tstr('GetRandom')} a1 ${tstr('random')} 41 00`],
    ['an empty document', `a1 ${tstr('Attestation')} a1 ${tstr('document')} 40`],
    ['a text document', `a1 ${tstr('Attestation')} a1 ${tstr('document')} 61 61`],
    ['an extra field', `a1 ${tstr('Attestation')} a2 ${tstr('document')} 41 01 ${tstr('x')} 01`],
    ['two variants', `a2 ${tstr('Error')} ${tstr('InternalError')} ${tstr('LockPCR')} f6`],
    ['trailing bytes', `a1 ${tstr('Attestation')} a1 ${tstr('document')} 41 01 00`],
    ['nothing', ''],
  ];
  for (const [what, h] of malformed) {
    it(`with ${what} › throws ERR_NSM_MALFORMED`, () => {
      throwsNsm(() => decodeAttestationResponse(hex(h)), 'ERR_NSM_MALFORMED');
    });
  }

  it('a response over the driver’s 0x3000-byte buffer is malformed', () => {
    throwsNsm(() => decodeAttestationResponse(new Uint8Array(0x3001)), 'ERR_NSM_MALFORMED');
  });

  it('any bytes decode to a document or throw NsmError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), (bytes) => {
        try {
          decodeAttestationResponse(bytes);
        } catch (e) {
          assert.ok(e instanceof NsmError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips any document through the response layout', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2048 }), (doc) => {
        const n = doc.length;
        const head =
          n < 24
            ? (0x40 + n).toString(16)
            : n < 256
              ? `58${n.toString(16).padStart(2, '0')}`
              : `59${n.toString(16).padStart(4, '0')}`;
        const bytes = hex(`a1 ${tstr('Attestation')} a1 ${tstr('document')} ${head}${toHex(doc)}`);
        assert.deepEqual(decodeAttestationResponse(bytes), doc);
      }),
      { numRuns: 200 },
    );
  });
});
