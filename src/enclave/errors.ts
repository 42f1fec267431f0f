import { CodedError } from '../common/errors.js';

/**
 * Codes the enclave returns over RPC. Most are protocol §7 codes the host maps 1:1; KEY_SERVICE_*
 * and KEYRING_UNSEAL mean the key ring is unavailable (the host answers ENCLAVE_UNAVAILABLE).
 */
export type EnclaveCode =
  | 'DECRYPTION_FAILED'
  | 'EXCHANGE_MISMATCH'
  | 'UNKNOWN_EXCHANGE'
  | 'EXCHANGE_AUTH_FAILED'
  | 'KEY_NOT_READ_ONLY'
  | 'EXCHANGE_UNAVAILABLE'
  | 'SESSION_REVOKED'
  | 'ENCLAVE_NOT_READY'
  | 'INVALID_REQUEST'
  | 'LOG_HEAD_INVALID'
  | 'LOG_INCONSISTENT'
  | 'LOG_CONSISTENCY_REQUIRED'
  | 'UNKNOWN_ENCLAVE_KEY'
  | 'KEY_SERVICE_DENIED'
  | 'KEY_SERVICE_UNAVAILABLE'
  | 'KEYRING_UNSEAL'
  | 'INTERNAL';
export class EnclaveError extends CodedError<EnclaveCode> {
  constructor(
    code: EnclaveCode,
    message: string,
    readonly detail?: Record<string, number>,
  ) {
    super(code, message);
  }
}
