/**
 * The exchange-adapter contract the enclave consumes. Adapters own pagination, retries and
 * rate limiting; callers only see complete, de-duplicated fills or a coded error.
 */
import type { Fill } from '../aggregates/fill.js';
import type { DepositEvent, WithdrawalEvent } from '../aggregates/ledger.js';
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

export interface FetchFlowsOptions {
  /** keep flows with ts >= since (ms) */
  since: number;
  /** keep flows with ts <= until (ms); default: now */
  until?: number;
}

/** An external flow of the measured (spot) wallet. */
export type FlowEvent = DepositEvent | WithdrawalEvent;

/** Fixed-length candle intervals (a month is not fixed, so `1M` is left out). */
export type KlineInterval =
  | '1m'
  | '3m'
  | '5m'
  | '15m'
  | '30m'
  | '1h'
  | '2h'
  | '4h'
  | '6h'
  | '8h'
  | '12h'
  | '1d'
  | '3d'
  | '1w';

/** One candle; prices and volume are the exchange's exact decimal strings. */
export interface Kline {
  openTime: number;
  /** last millisecond of the candle */
  closeTime: number;
  open: string;
  high: string;
  low: string;
  close: string;
  /** base-asset volume */
  volume: string;
}

export interface ExchangeClient {
  /**
   * Identifies the public market-data source (exchange and API origin): two clients with the same
   * venue see the same candles, so price caches may be shared between them, and only then.
   */
  readonly venue: string;
  /** the exchange's account id (Binance `uid`), or null when the exchange does not report one */
  accountId(): Promise<string | null>;
  permissions(): Promise<{ canTrade: boolean; canWithdraw: boolean }>;
  fetchFills(opts: FetchFillsOptions): Promise<NormalizedFill[]>;
  /** completed deposits and withdrawals of the spot wallet in [since, until], in ledger order */
  fetchFlows(opts: FetchFlowsOptions): Promise<FlowEvent[]>;
  /** current total (free + locked) per asset, non-zero only, exact decimal strings */
  balances(): Promise<Record<string, string>>;
  /**
   * Every candle of `symbol` (the exchange's id, e.g. 'BTCUSDT') with startTime ≤ openTime ≤
   * endTime, oldest first. A symbol the exchange does not list has none.
   */
  klines(
    symbol: string,
    interval: KlineInterval,
    startTime: number,
    endTime: number,
  ): Promise<Kline[]>;
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
