import { CodedError } from '../common/errors.js';

/** Codes the enclave returns over RPC; they are protocol §7 codes, so the host maps them 1:1. */
export type EnclaveCode =
  | 'DECRYPTION_FAILED'
  | 'EXCHANGE_MISMATCH'
  | 'UNKNOWN_EXCHANGE'
  | 'EXCHANGE_AUTH_FAILED'
  | 'EXCHANGE_UNAVAILABLE'
  | 'SESSION_REVOKED'
  | 'ENCLAVE_NOT_READY'
  | 'INVALID_REQUEST'
  | 'LOG_HEAD_INVALID'
  | 'LOG_INCONSISTENT'
  | 'LOG_CONSISTENCY_REQUIRED'
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
