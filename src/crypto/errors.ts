import { CodedError } from '../common/errors.js';

export type CryptoCode =
  'ERR_ENVELOPE_MALFORMED' | 'ERR_ENVELOPE_DECRYPT' | 'ERR_ENVELOPE_UNKNOWN_KEY';
/** Crypto failures carry fixed, detail-free messages: which field or step failed is not disclosed. */
export class CryptoError extends CodedError<CryptoCode> {}
