/**
 * The AWS Nitro Enclaves attestation document: the COSE_Sign1 payload described in protocol §2 and in
 * AWS's "Verifying the root of trust" (CDDL `AttestationDocument`). The decoder is strict: exactly
 * the documented keys, with the documented types and sizes; anything else is malformed.
 */
import { asBytes, asMap, decodeCbor, encodeCbor } from './cbor.js';
import { malformed } from './errors.js';

export interface AttestationDocument {
  /** Issuing Nitro hypervisor module id. */
  module_id: string;
  digest: 'SHA384';
  /** Creation time, ms since the Unix epoch. */
  timestamp: number;
  /** PCR index (0..31) → value (48 bytes for SHA384; 32 or 64 also accepted, as AWS allows). */
  pcrs: Map<number, Uint8Array>;
  /** DER leaf certificate whose key signed the document. */
  certificate: Uint8Array;
  /** DER CA certificates, root first. */
  cabundle: Uint8Array[];
  public_key: Uint8Array | null;
  user_data: Uint8Array | null;
  nonce: Uint8Array | null;
}

export const MAX_CERT_BYTES = 1024;
export const MAX_CABUNDLE = 16;
export const MAX_USER_FIELD_BYTES = 1024;
const MAX_MODULE_ID = 1024;
const PCR_SIZES = new Set([32, 48, 64]);
const REQUIRED = ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle'];
const OPTIONAL = ['public_key', 'user_data', 'nonce'];
const KNOWN = new Set([...REQUIRED, ...OPTIONAL]);

function bytesIn(v: unknown, min: number, max: number): Uint8Array {
  const b = asBytes(v);
  if (!b || b.length < min || b.length > max) throw malformed();
  return b;
}

function optionalBytes(v: unknown, min: number): Uint8Array | null {
  return v === undefined || v === null ? null : bytesIn(v, min, MAX_USER_FIELD_BYTES);
}

function timestampOf(v: unknown): number {
  const n = typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) throw malformed();
  return n;
}

function pcrsOf(v: unknown): Map<number, Uint8Array> {
  const m = asMap(v);
  if (!m || m.size < 1 || m.size > 32) throw malformed();
  const out = new Map<number, Uint8Array>();
  for (const [k, val] of m) {
    const b = asBytes(val);
    if (
      typeof k !== 'number' ||
      !Number.isInteger(k) ||
      k < 0 ||
      k > 31 ||
      !b ||
      !PCR_SIZES.has(b.length)
    ) {
      throw malformed();
    }
    out.set(k, b);
  }
  // PCR0 is the image measurement (protocol §2 image_hash); a document without it is useless.
  if (!out.has(0)) throw malformed();
  return out;
}

function documentFromMap(map: Map<unknown, unknown>): AttestationDocument {
  for (const k of map.keys()) if (typeof k !== 'string' || !KNOWN.has(k)) throw malformed();
  for (const k of REQUIRED) if (!map.has(k)) throw malformed();
  const moduleId = map.get('module_id');
  if (typeof moduleId !== 'string' || moduleId.length === 0 || moduleId.length > MAX_MODULE_ID)
    throw malformed();
  if (map.get('digest') !== 'SHA384') throw malformed();
  const cabundle = map.get('cabundle');
  if (!Array.isArray(cabundle) || cabundle.length < 1 || cabundle.length > MAX_CABUNDLE)
    throw malformed();
  return {
    module_id: moduleId,
    digest: 'SHA384',
    timestamp: timestampOf(map.get('timestamp')),
    pcrs: pcrsOf(map.get('pcrs')),
    certificate: bytesIn(map.get('certificate'), 1, MAX_CERT_BYTES),
    cabundle: cabundle.map((c: unknown) => bytesIn(c, 1, MAX_CERT_BYTES)),
    public_key: optionalBytes(map.get('public_key'), 1),
    user_data: optionalBytes(map.get('user_data'), 0),
    nonce: optionalBytes(map.get('nonce'), 0),
  };
}

/**
 * Decodes and validates the payload of a Nitro attestation document; throws only
 * ERR_ATTESTATION_MALFORMED. This checks structure only: nothing here is authenticated yet.
 * Attacker-controlled, parse defensively.
 *
 * @example
 * const doc = decodeAttestationDocument(decodeCoseSign1(quote).payload);
 * doc.pcrs.get(0); // image hash
 */
export function decodeAttestationDocument(payload: Uint8Array): AttestationDocument {
  const map = asMap(decodeCbor(payload));
  if (!map) throw malformed();
  return documentFromMap(map);
}

/**
 * Encodes a document in the field order and encoding the Nitro Secure Module uses (timestamp as an
 * 8-byte uint). Throws ERR_ATTESTATION_MALFORMED if `doc` would not decode under the strict rules.
 *
 * @example
 * const payload = encodeAttestationDocument({ module_id: 'dev', digest: 'SHA384', timestamp: now, ... });
 */
export function encodeAttestationDocument(doc: AttestationDocument): Uint8Array {
  const map = new Map<string, unknown>([
    ['module_id', doc.module_id],
    ['digest', doc.digest],
    ['timestamp', doc.timestamp],
    ['pcrs', new Map([...doc.pcrs].sort(([a], [b]) => a - b))],
    ['certificate', doc.certificate],
    ['cabundle', doc.cabundle],
    ['public_key', doc.public_key],
    ['user_data', doc.user_data],
    ['nonce', doc.nonce],
  ]);
  documentFromMap(map);
  map.set('timestamp', BigInt(doc.timestamp));
  return encodeCbor(map);
}
