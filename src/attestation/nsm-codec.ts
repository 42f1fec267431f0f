/**
 * The Nitro Secure Module's request/response messages (aws-nitro-enclaves-nsm-api, `src/api/mod.rs`),
 * which the NSM driver carries through one ioctl on `/dev/nsm`. The Rust crate serialises its
 * `Request` and `Response` enums with serde's externally tagged layout, so:
 *
 *   Request::Attestation { user_data, nonce, public_key }
 *     → {"Attestation": {"user_data": bstr / null, "nonce": bstr / null, "public_key": bstr / null}}
 *   Response::Attestation { document }  → {"Attestation": {"document": bstr}}
 *   Response::Error(ErrorCode)          → {"Error": "InternalError"}   (a unit variant is its name)
 *
 * Pure and browser-safe: the ioctl itself happens in a helper binary (docs/adr/0004-nsm-access.md).
 * Written by hand because no JavaScript library speaks this message set; CBOR itself is cbor-x.
 */
import { CodedError } from '../common/errors.js';
import { asBytes, asMap, decodeCbor, encodeCbor } from './cbor.js';

/** The driver rejects larger requests (NSM_REQUEST_MAX_SIZE in the nsm-api driver). */
export const NSM_REQUEST_MAX_BYTES = 0x1000;
/** The response buffer the driver is given (NSM_RESPONSE_MAX_SIZE). */
export const NSM_RESPONSE_MAX_BYTES = 0x3000;
/** Largest `user_data`, `nonce` or `public_key` the NSM accepts (AWS: "up to 1024 bytes" each). */
export const NSM_FIELD_MAX_BYTES = 1024;

/** `ErrorCode` variants of the nsm-api, in declaration order. */
export const NSM_ERROR_CODES = [
  'Success',
  'InvalidArgument',
  'InvalidIndex',
  'InvalidResponse',
  'ReadOnlyIndex',
  'InvalidOperation',
  'BufferTooSmall',
  'InputTooLarge',
  'InternalError',
] as const;
export type NsmErrorCode = (typeof NSM_ERROR_CODES)[number];

export type NsmCode =
  /** A request field is not bytes or is over NSM_FIELD_MAX_BYTES. */
  | 'ERR_NSM_INPUT'
  /** The response is not one of the documented shapes. */
  | 'ERR_NSM_MALFORMED'
  /** The NSM answered `{"Error": …}`; `nsmError` names its ErrorCode. */
  | 'ERR_NSM_ERROR'
  /** The device or the helper could not be used at all. */
  | 'ERR_NSM_UNAVAILABLE';

/**
 * A failed NSM exchange. The message is fixed per code; `nsmError` is the NSM's own code name.
 *
 * @example
 * catch (e) { if (e instanceof NsmError && e.nsmError === 'InputTooLarge') shrink(); }
 */
export class NsmError extends CodedError<NsmCode> {
  constructor(
    code: NsmCode,
    message: string,
    readonly nsmError?: NsmErrorCode,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

export interface NsmAttestationRequest {
  userData?: Uint8Array | null;
  nonce?: Uint8Array | null;
  publicKey?: Uint8Array | null;
}

function field(v: Uint8Array | null | undefined, name: string): Uint8Array | null {
  if (v === undefined || v === null) return null;
  if (!(v instanceof Uint8Array) || v.length > NSM_FIELD_MAX_BYTES)
    throw new NsmError('ERR_NSM_INPUT', `${name} must be at most ${NSM_FIELD_MAX_BYTES} bytes`);
  return new Uint8Array(v);
}

/**
 * Encodes `Request::Attestation`. Absent fields are CBOR null, as serde encodes `None`; the field
 * order is the Rust struct's (user_data, nonce, public_key).
 *
 * @example
 * encodeAttestationRequest({ nonce: new Uint8Array([1]) });
 * // a1 6b "Attestation" a3 69 "user_data" f6 65 "nonce" 41 01 6a "public_key" f6
 */
export function encodeAttestationRequest(req: NsmAttestationRequest): Uint8Array {
  const body = new Map<string, Uint8Array | null>([
    ['user_data', field(req.userData, 'userData')],
    ['nonce', field(req.nonce, 'nonce')],
    ['public_key', field(req.publicKey, 'publicKey')],
  ]);
  const out = encodeCbor(new Map([['Attestation', body]]));
  // Unreachable with three fields of at most 1 KiB, kept as the driver's own limit.
  if (out.length > NSM_REQUEST_MAX_BYTES)
    throw new NsmError('ERR_NSM_INPUT', 'NSM request is too large');
  return out;
}

const malformedResponse = (cause?: unknown): NsmError =>
  new NsmError(
    'ERR_NSM_MALFORMED',
    'NSM response is malformed',
    undefined,
    cause === undefined ? undefined : { cause },
  );

/**
 * Decodes the NSM's answer to an Attestation request and returns the attestation document
 * (a COSE_Sign1, still unverified). `{"Error": code}` throws ERR_NSM_ERROR carrying the code; any
 * other shape throws ERR_NSM_MALFORMED.
 *
 * @example
 * const doc = decodeAttestationResponse(responseBytes); // then decodeCoseSign1(doc)
 */
export function decodeAttestationResponse(bytes: Uint8Array): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length > NSM_RESPONSE_MAX_BYTES)
    throw malformedResponse();
  let top: Map<unknown, unknown> | undefined;
  try {
    top = asMap(decodeCbor(bytes));
  } catch (cause) {
    throw malformedResponse(cause);
  }
  if (!top || top.size !== 1) throw malformedResponse();
  const [variant, value] = [...top][0]!;
  if (variant === 'Error') {
    const known = NSM_ERROR_CODES.find((c) => c === value);
    if (known === undefined) throw malformedResponse();
    throw new NsmError('ERR_NSM_ERROR', 'the NSM refused the request', known);
  }
  if (variant !== 'Attestation') throw malformedResponse();
  const body = asMap(value);
  if (!body || body.size !== 1) throw malformedResponse();
  const document = asBytes(body.get('document'));
  if (!document || document.length === 0) throw malformedResponse();
  return document;
}
