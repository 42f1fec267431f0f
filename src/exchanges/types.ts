/**
 * The exchange-adapter contract the enclave consumes. Adapters own pagination, retries and
 * rate limiting; callers only see complete, de-duplicated fills or a coded error.
 */
import type { Fill } from '../aggregates/fill.js';
import { CodedError } from '../common/errors.js';

/** One execution, normalised: the engine's input type (src/aggregates/fill.ts). */
export type NormalizedFill = Fill;

export interface FetchFillsOptions {
  /** keep fills with ts >= since */
  since?: number;
  /** keep fills with ts <= until */
  until?: number;
  /** called after every page, per symbol */
  onProgress?: (p: { symbol: string; pages: number; fills: number }) => void;
}

export interface ExchangeClient {
  /** the exchange's account id (Binance `uid`), or null when the exchange does not report one */
  accountId(): Promise<string | null>;
  permissions(): Promise<{ canTrade: boolean; canWithdraw: boolean }>;
  fetchFills(opts: FetchFillsOptions): Promise<NormalizedFill[]>;
}

export type ExchangeErrorCode =
  /** the exchange rejected the key or signature; retrying cannot help */
  | 'EXCHANGE_AUTH_FAILED'
  /** 5xx, network failure, timeout or a malformed answer, after bounded retries */
  | 'EXCHANGE_UNAVAILABLE'
  /** rate limited (429/418) beyond the wait budget */
  | 'EXCHANGE_RATE_LIMITED'
  /** the request's host is not on the egress allow-list; nothing was sent */
  | 'EXCHANGE_EGRESS_DENIED';

export class ExchangeError extends CodedError<ExchangeErrorCode> {}
