/**
 * COSE_Sign1 (RFC 9052 §4.2, §4.4): `[protected: bstr, unprotected: map, payload: bstr, signature: bstr]`,
 * untagged or with CBOR tag 18. The signature input is built from the ORIGINAL protected and payload
 * bytes, never from a re-encoding, so any well-formed encoding the signer chose (for example an
 * indefinite-length map) verifies as signed.
 */
import { asBytes, asMap, decodeCbor, encodeCbor } from './cbor.js';
import { malformed } from './errors.js';

/** COSE algorithm identifier for ECDSA with SHA-384 (RFC 9053 §2.1). */
export const COSE_ALG_ES384 = -35;
/** COSE header label `alg`. */
export const COSE_HEADER_ALG = 1;
const TAG_COSE_SIGN1 = 0xd2; // tag 18, the only encoding accepted

export interface CoseSign1 {
  /** The protected header exactly as it appears in the message (a bstr holding a CBOR map). */
  protectedBytes: Uint8Array;
  /** The decoded protected header. */
  protectedHeader: Map<unknown, unknown>;
  unprotectedHeader: Map<unknown, unknown>;
  /** The payload exactly as it appears in the message. */
  payload: Uint8Array;
  signature: Uint8Array;
}

/**
 * Decodes a COSE_Sign1 message; throws only ERR_ATTESTATION_MALFORMED.
 * Attacker-controlled, parse defensively.
 *
 * @example
 * const { protectedHeader, payload } = decodeCoseSign1(quoteBytes);
 */
export function decodeCoseSign1(bytes: Uint8Array): CoseSign1 {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw malformed();
  const body = bytes[0] === TAG_COSE_SIGN1 ? bytes.subarray(1) : bytes;
  const outer = decodeCbor(body);
  if (!Array.isArray(outer) || outer.length !== 4) throw malformed();
  const protectedBytes = asBytes(outer[0]);
  const unprotectedHeader = asMap(outer[1]);
  const payload = asBytes(outer[2]);
  const signature = asBytes(outer[3]);
  if (!protectedBytes || !unprotectedHeader || !payload || !signature) throw malformed();
  // RFC 9052 §3: a zero-length protected bstr means "no protected header".
  const protectedHeader =
    protectedBytes.length === 0 ? new Map() : asMap(decodeCbor(protectedBytes));
  if (!protectedHeader) throw malformed();
  return { protectedBytes, protectedHeader, unprotectedHeader, payload, signature };
}

/**
 * The bytes a COSE_Sign1 signature covers (RFC 9052 §4.4):
 * `["Signature1", protected, external_aad = h'', payload]`.
 *
 * @example
 * const toBeSigned = sigStructure(msg.protectedBytes, msg.payload);
 */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]);
}

/**
 * Encodes an untagged COSE_Sign1 array.
 *
 * @example
 * const msg = encodeCoseSign1({ protectedBytes, payload, signature });
 */
export function encodeCoseSign1(msg: {
  protectedBytes: Uint8Array;
  unprotectedHeader?: Map<unknown, unknown>;
  payload: Uint8Array;
  signature: Uint8Array;
}): Uint8Array {
  return encodeCbor([
    msg.protectedBytes,
    msg.unprotectedHeader ?? new Map(),
    msg.payload,
    msg.signature,
  ]);
}

/**
 * The protected header `{1: -35}` (alg: ES384), encoded: `a1 01 38 22`.
 *
 * @example
 * const toBeSigned = sigStructure(es384ProtectedHeader(), payload);
 */
export function es384ProtectedHeader(): Uint8Array {
  return encodeCbor(new Map([[COSE_HEADER_ALG, COSE_ALG_ES384]]));
}

/**
 * True when the protected header is exactly `{1: -35}`.
 *
 * @example
 * isEs384Header(decodeCoseSign1(quote).protectedHeader);
 */
export function isEs384Header(header: Map<unknown, unknown>): boolean {
  return header.size === 1 && header.get(COSE_HEADER_ALG) === COSE_ALG_ES384;
}
