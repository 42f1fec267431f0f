/**
 * The decrypted credential (protocol §3 step 5). Parsed strictly; it lives only in enclave memory
 * for the duration of one request. JavaScript cannot zero strings, so "dropping" means keeping no
 * reference (see docs/threat-model.md).
 */
import { fromUtf8 } from '../common/bytes.js';
import { CodedError } from '../common/errors.js';

export interface Credentials {
  exchange: string;
  apiKey: string;
  apiSecret: string;
  passphrase?: string;
}

export class CredentialsError extends CodedError<'DECRYPTION_FAILED'> {}

const KEYS = new Set(['exchange', 'apiKey', 'apiSecret', 'passphrase']);

export function parseCredentials(plain: Uint8Array): Credentials {
  // One fixed message whatever is wrong, so nothing about the plaintext leaks through errors.
  const fail = (): never => {
    throw new CredentialsError('DECRYPTION_FAILED', 'sealed credentials are not valid');
  };
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(plain));
  } catch {
    return fail();
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail();
  const o = v as Record<string, unknown>;
  if (!Object.keys(o).every((k) => KEYS.has(k))) return fail();
  const ok = (x: unknown, max: number): x is string =>
    typeof x === 'string' && x.length >= 1 && x.length <= max;
  if (!ok(o['exchange'], 32) || !ok(o['apiKey'], 512) || !ok(o['apiSecret'], 4096)) return fail();
  if (o['passphrase'] !== undefined && !ok(o['passphrase'], 256)) return fail();
  const c: Credentials = {
    exchange: o['exchange'] as string,
    apiKey: o['apiKey'] as string,
    apiSecret: o['apiSecret'] as string,
  };
  if (o['passphrase'] !== undefined) c.passphrase = o['passphrase'] as string;
  return c;
}
