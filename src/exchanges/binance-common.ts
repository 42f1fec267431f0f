/**
 * Pieces shared by the Binance adapter's modules: the one way they reach the exchange, and the
 * helpers that check what comes back (every response is untrusted input).
 */
import { ExchangeError } from './types.js';

/** The REST endpoints the flow and candle modules use, by the names the adapter maps to ccxt. */
export type BinanceEndpoint = 'klines' | 'depositHistory' | 'withdrawHistory';

/**
 * One GET through the client's retry, rate-limit and error-classification path; resolves to the
 * parsed JSON body, rejects only with an ExchangeError.
 */
export type BinanceGet = (
  endpoint: BinanceEndpoint,
  params: Record<string, string>,
) => Promise<unknown>;

export const malformed = (what: string) =>
  new ExchangeError('EXCHANGE_UNAVAILABLE', `malformed exchange response: ${what}`);

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-negative safe integer sent as a JSON number or a digit string. */
export function safeInt(v: unknown): number | undefined {
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,16}$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Asset codes as Binance prints them ("BTC", "1000SATS"). */
export const ASSET = /^[A-Za-z0-9]{1,20}$/;

/**
 * The `fromId` to start a symbol's trade walk at: the caller's resume point (an incremental
 * download, FetchFillsOptions.fromIds) or 0, the symbol's first trade. A malformed resume point
 * falls back to 0: a full walk is slower, never incomplete.
 */
export function resumeId(fromIds: Readonly<Record<string, string>> | undefined, symbol: string) {
  const v = fromIds?.[symbol];
  return v !== undefined && /^\d{1,20}$/.test(v) ? BigInt(v) : 0n;
}
