/**
 * Attestation failures (protocol §2). Each code names the check that failed; messages are fixed and
 * detail-free, so nothing from the (attacker-controlled) document is echoed back.
 */
import { CodedError } from '../common/errors.js';

/** Every attestation error code, in check order (for docs/errors.md and tests). */
export const ATTESTATION_CODES = [
  'ERR_ATTESTATION_MALFORMED',
  'ERR_ATTESTATION_COSE_ALG',
  'ERR_ATTESTATION_UNTRUSTED_ROOT',
  'ERR_ATTESTATION_CHAIN',
  'ERR_ATTESTATION_CERT_EXPIRED',
  'ERR_ATTESTATION_SIGNATURE',
  'ERR_ATTESTATION_PCR_MISMATCH',
  'ERR_ATTESTATION_DEBUG',
  'ERR_ATTESTATION_PUBLIC_KEY',
  'ERR_ATTESTATION_USER_DATA',
  'ERR_ATTESTATION_NONCE',
  'ERR_ATTESTATION_STALE',
] as const;

export type AttestationCode = (typeof ATTESTATION_CODES)[number];

const MESSAGES: Readonly<Record<AttestationCode, string>> = {
  ERR_ATTESTATION_MALFORMED: 'attestation document is malformed',
  ERR_ATTESTATION_COSE_ALG: 'attestation document is not signed with ES384',
  ERR_ATTESTATION_UNTRUSTED_ROOT: 'attestation document does not chain to a trusted root',
  ERR_ATTESTATION_CHAIN: 'attestation certificate chain is invalid',
  ERR_ATTESTATION_CERT_EXPIRED: 'attestation certificate is not valid at the verification time',
  ERR_ATTESTATION_SIGNATURE: 'attestation document signature is invalid',
  ERR_ATTESTATION_PCR_MISMATCH: 'attestation PCRs do not match the expected values',
  ERR_ATTESTATION_DEBUG: 'attestation document comes from a debug-mode enclave',
  ERR_ATTESTATION_PUBLIC_KEY: 'attestation public key does not match',
  ERR_ATTESTATION_USER_DATA: 'attestation user data does not match',
  ERR_ATTESTATION_NONCE: 'attestation nonce does not match',
  ERR_ATTESTATION_STALE: 'attestation document is not fresh',
};

/**
 * A failed attestation check. `code` is stable; the message is fixed per code.
 *
 * @example
 * try { await verifyAttestationDocument(doc, policy); }
 * catch (e) { if (e instanceof AttestationError && e.code === 'ERR_ATTESTATION_NONCE') retry(); }
 */
export class AttestationError extends CodedError<AttestationCode> {
  constructor(code: AttestationCode, options?: { cause?: unknown }) {
    super(code, MESSAGES[code], options);
  }
}

/**
 * Shorthand for the malformed-input error that every parser of untrusted bytes throws.
 *
 * @example
 * if (!Array.isArray(value)) throw malformed();
 */
export function malformed(cause?: unknown): AttestationError {
  return new AttestationError(
    'ERR_ATTESTATION_MALFORMED',
    cause === undefined ? undefined : { cause },
  );
}
