/**
 * The exchange-adapter contract the enclave consumes. Adapters own pagination, retries and
 * rate limiting; callers only see complete, de-duplicated fills or a coded error.
 */
import type { Fill } from '../aggregates/fill.js';
import type {
  DepositEvent,
  FeeEvent,
  FundingEvent,
  TransferEvent,
  WithdrawalEvent,
} from '../aggregates/ledger.js';
import { CodedError } from '../common/errors.js';

/** One execution, normalised: the engine's input type (src/aggregates/fill.ts). */
export type NormalizedFill = Fill;

export interface FetchFillsOptions {
  /** keep fills with ts >= since */
  since?: number;
  /** keep fills with ts <= until */
  until?: number;
  /**
   * Where to resume per symbol (unified symbol → the exchange's trade id to start from), for
   * adapters that page by `fromId` (Binance spot and USD-M): an incremental download starts there
   * instead of at 0. A symbol without an entry is read from its first trade. When given, such
   * adapters do not filter by `since` (the cursor, not time, says what is new, so a late row with an
   * old timestamp is still found). Time-windowed adapters ignore it and use `since`.
   */
  fromIds?: Readonly<Record<string, string>>;
  /** called after every page, per symbol */
  onProgress?: (p: { symbol: string; pages: number; fills: number }) => void;
  /**
   * Called when the download is complete only from a later time than asked (`since`, or
   * `historySince` for a full download) because part of the history is not available yet (OKX
   * archive files still being generated): the earliest time (ms) the returned fills are complete
   * from. The adapter returns no fill before it. Not called: complete as asked.
   */
  onCoverage?: (completeFrom: number) => void;
}

export interface FetchFlowsOptions {
  /** keep flows with ts >= since (ms) */
  since: number;
  /** keep flows with ts <= until (ms); default: now */
  until?: number;
}

/** An external flow of the measured (spot) wallet. */
export type FlowEvent = DepositEvent | WithdrawalEvent;

/**
 * Everything besides fills that changes the measured wallet: external flows, transfers across
 * its boundary (USD-M: spot ↔ futures), funding, and costs not attached to a fill.
 */
export type AccountEvent = FlowEvent | TransferEvent | FundingEvent | FeeEvent;

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

/**
 * What an API key may do, as the exchange reports it (Binance `GET /sapi/v1/account/apiRestrictions`).
 * Signed into the aggregates payload as `key_permissions`; a key with `withdraw` is refused.
 */
export interface KeyPermissions {
  /** may read account data (required for everything we do) */
  read: boolean;
  /** may place orders in any market (spot, margin, futures, options) */
  trade: boolean;
  /** may withdraw to external addresses */
  withdraw: boolean;
  /** may move funds to other accounts of the owner (sub-account / universal transfer) */
  transfer: boolean;
  /** may trade futures (included in `trade`) */
  futures: boolean;
  /** may borrow or trade on margin (included in `trade`) */
  margin: boolean;
}

export interface ExchangeClient {
  /**
   * Identifies the public market-data source (exchange and API origin): two clients with the same
   * venue see the same candles, so price caches may be shared between them, and only then.
   */
  readonly venue: string;
  /** the exchange's account id (Binance `uid`), or null when the exchange does not report one */
  accountId(): Promise<string | null>;
  /** what the API key may do (checked at submit time and again before signing) */
  permissions(): Promise<KeyPermissions>;
  /**
   * The earliest time from which this adapter's download is complete, for a download made at
   * `now`: the exchange's retention horizon (e.g. 6 months of USD-M trades), or the exchange's
   * launch when it keeps everything. Signed as `history_from`.
   */
  historySince(now: number): number;
  fetchFills(opts: FetchFillsOptions): Promise<NormalizedFill[]>;
  /**
   * Account events in [since, until], oldest first: for spot the completed deposits and
   * withdrawals; for futures the transfers, funding and stand-alone fees.
   */
  fetchFlows(opts: FetchFlowsOptions): Promise<AccountEvent[]>;
  /** current total per asset (spot: free + locked; futures: wallet balance), non-zero only */
  balances(): Promise<Record<string, string>>;
  /**
   * The market that prices `asset` in USD terms on this exchange (e.g. 'BTC-USD' on Coinbase);
   * absent: `<ASSET>USDT`, the Binance-style id.
   */
  priceSymbol?(asset: string): string;
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
