/**
 * cbor-x configured for this module (RFC 8949): maps decode as `Map` (integer keys stay integers),
 * no record extensions, and byte strings come back as plain `Uint8Array` copies (cbor-x hands out
 * `Buffer`s in Node, sometimes views onto a shared pool).
 */
import { Decoder, Encoder } from 'cbor-x';
import { assertStrictCbor } from './cbor-scan.js';
import { malformed } from './errors.js';

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false });

/**
 * Decodes one strict CBOR item (see cbor-scan.ts); throws only ERR_ATTESTATION_MALFORMED.
 * Attacker-controlled, parse defensively.
 *
 * @example
 * const header = decodeCbor(protectedBytes); // Map { 1 => -35 }
 */
export function decodeCbor(bytes: Uint8Array): unknown {
  assertStrictCbor(bytes);
  try {
    // A fresh view: cbor-x caches a DataView as a property on the object it is given.
    return decoder.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (cause) {
    throw malformed(cause);
  }
}

/**
 * Encodes maps, arrays, text, byte strings, safe integers (bigint for 8-byte uints), null.
 *
 * @example
 * encodeCbor(new Map([[1, -35]])); // a1 01 38 22
 */
export function encodeCbor(value: unknown): Uint8Array {
  // Copy: the encoder may reuse its internal buffer for the next call.
  return new Uint8Array(encoder.encode(value));
}

/**
 * A decoded byte string as a plain, unshared Uint8Array; undefined for anything else.
 *
 * @example
 * const sig = asBytes(coseArray[3]); // Uint8Array, never a Buffer
 */
export function asBytes(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array ? new Uint8Array(value) : undefined;
}

/**
 * A decoded map, or undefined.
 *
 * @example
 * const header = asMap(decodeCbor(protectedBytes));
 */
export function asMap(value: unknown): Map<unknown, unknown> | undefined {
  return value instanceof Map ? value : undefined;
}
