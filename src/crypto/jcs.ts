/**
 * RFC 8785 JSON Canonicalization Scheme, via the `canonicalize` package (the RFC authors' reference
 * implementation). Non-finite numbers have no JSON form, so they are rejected rather than emitted as null.
 */
import canonicalizeModule from 'canonicalize';
import { utf8 } from '../common/bytes.js';
import { CodedError } from '../common/errors.js';

// The package is CommonJS; depending on the loader its function is the default export or sits under it.
const canonicalize = ((canonicalizeModule as unknown as { default?: unknown }).default ??
  canonicalizeModule) as (v: unknown) => string | undefined;

export class JcsError extends CodedError<'ERR_JCS'> {}

export function jcs(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new JcsError('ERR_JCS', 'value has no JSON form');
  return out;
}

export function jcsBytes(value: unknown): Uint8Array {
  return utf8(jcs(value));
}
