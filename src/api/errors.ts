/**
 * The one error registry of the HTTP API (protocol §7). `docs/errors.md` lists the same codes; a test
 * fails when the two drift apart. The global handler is the only place codes become statuses.
 */
import type { FastifyError } from 'fastify';
import { CodedError } from '../common/errors.js';

export const API_ERRORS = {
  INVALID_REQUEST: { status: 400, message: 'the request is not valid' },
  DECRYPTION_FAILED: { status: 400, message: 'the credential envelope could not be opened' },
  UNKNOWN_ENCLAVE_KEY: {
    status: 400,
    message:
      'the envelope is sealed to an enclave key this service does not hold; fetch a fresh quote',
  },
  UNKNOWN_EXCHANGE: { status: 400, message: 'the exchange is not supported' },
  EXCHANGE_MISMATCH: {
    status: 400,
    message: 'metadata.exchange does not match the sealed credentials',
  },
  TTL_OUT_OF_RANGE: { status: 400, message: 'ttl is out of range' },
  // 403, not 400: the request is well formed and the key works; the service refuses to hold a
  // key with that power (policy), and the same key will be refused however the request is sent
  KEY_NOT_READ_ONLY: {
    status: 403,
    message: 'the API key can withdraw funds; submit a key without withdrawal permission',
  },
  SESSION_NOT_FOUND: { status: 404, message: 'no such session' },
  NOT_FOUND: { status: 404, message: 'no such resource' },
  SESSION_EXPIRED: { status: 410, message: 'the session has expired' },
  SESSION_REVOKED: { status: 410, message: 'the session was revoked' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'the request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the request body must be application/json' },
  EXCHANGE_AUTH_FAILED: { status: 422, message: 'the exchange rejected the credentials' },
  RATE_LIMITED: { status: 429, message: 'too many requests' },
  INTERNAL: { status: 500, message: 'internal error' },
  EXCHANGE_UNAVAILABLE: { status: 502, message: 'the exchange is unavailable' },
  ENCLAVE_UNAVAILABLE: { status: 503, message: 'the enclave is unavailable; retry later' },
  STORE_UNAVAILABLE: { status: 503, message: 'the database is unavailable; retry later' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends CodedError<ApiErrorCode> {
  readonly status: number;
  /** Seconds, sent as Retry-After for 429/503. */
  readonly retryAfter: number | undefined;
  constructor(code: ApiErrorCode, message?: string, retryAfter?: number) {
    super(code, message ?? API_ERRORS[code].message);
    this.status = API_ERRORS[code].status;
    this.retryAfter =
      retryAfter ??
      (code === 'ENCLAVE_UNAVAILABLE' || code === 'STORE_UNAVAILABLE' ? 1 : undefined);
  }
}

export function isApiErrorCode(code: string): code is ApiErrorCode {
  return Object.prototype.hasOwnProperty.call(API_ERRORS, code);
}

/** Maps any error to the protocol's error body. Driver and library messages never reach the client. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as FastifyError & { validation?: unknown[] };
  if (e?.validation)
    return new ApiError('INVALID_REQUEST', `request failed validation: ${e.message}`);
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('INVALID_REQUEST', 'the body is not valid JSON');
  }
  if (e?.statusCode === 400 && typeof e.code === 'string' && e.code.startsWith('FST_'))
    return new ApiError('INVALID_REQUEST');
  if (err instanceof CodedError) {
    const code: string = err.code;
    if (
      code === 'ENCLAVE_TIMEOUT' ||
      code === 'ENCLAVE_BUSY' ||
      code === 'ENCLAVE_NOT_READY' ||
      // The key ring cannot be loaded: key service down or refusing, or the stored ring unusable.
      code.startsWith('KEY_SERVICE_') ||
      code === 'KEYRING_UNSEAL'
    )
      return new ApiError('ENCLAVE_UNAVAILABLE');
    if (code.startsWith('STORE_'))
      return code === 'STORE_CONSTRAINT'
        ? new ApiError('INVALID_REQUEST')
        : new ApiError('STORE_UNAVAILABLE');
    if (isApiErrorCode(code)) return new ApiError(code as ApiErrorCode);
  }
  return new ApiError('INTERNAL');
}
