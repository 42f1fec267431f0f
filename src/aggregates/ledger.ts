/**
 * The normalized ledger: what the engine reads. Every amount is the exchange's exact decimal
 * string; every `ts` is milliseconds since the Unix epoch (UTC). Exchange adapters produce these
 * shapes; the engine never sees an exchange's raw rows.
 *
 * A spot fill is the existing `Fill` unchanged (it also defines `trades_root`, see fill.ts).
 * Everything else carries a `type` tag.
 */
import { compareFills, type Fill } from './fill.js';

/** A spot fill: exactly a `Fill` (an optional tag is allowed but not needed). */
export interface SpotFill extends Fill {
  type?: 'fill';
  market?: 'spot';
}

/**
 * A linear (quote-margined, e.g. Binance USD-M) futures fill. `realizedPnl` is the exchange's
 * gross realized PnL of this fill in `settleAsset` (default: the quote), before commission;
 * when absent the engine computes it against the weighted-average entry, as the exchange does.
 * `fee`/`feeAsset` are the commission. Futures fills move no spot balance.
 */
export interface FuturesFill extends Fill {
  type?: 'fill';
  market: 'futures';
  realizedPnl?: string;
  settleAsset?: string;
}

/** A commission or other cost not attached to a fill (e.g. an income-ledger COMMISSION row). `amount` > 0 is paid. */
export interface FeeEvent {
  type: 'fee';
  ts: number;
  asset: string;
  amount: string;
  symbol?: string;
  id?: string;
}

/** A funding payment, signed: > 0 received, < 0 paid (Binance FUNDING_FEE). PnL, not a flow. */
export interface FundingEvent {
  type: 'funding';
  ts: number;
  asset: string;
  amount: string;
  /** the futures symbol it belongs to (attributes it to that symbol's open round trip) */
  symbol?: string;
  id?: string;
}

/** Money or coins entering the measured account from outside. `amount` > 0. An external flow. */
export interface DepositEvent {
  type: 'deposit';
  ts: number;
  asset: string;
  amount: string;
  id?: string;
}

/** Money or coins leaving the measured account. `amount` > 0. An external flow. */
export interface WithdrawalEvent {
  type: 'withdrawal';
  ts: number;
  asset: string;
  amount: string;
  id?: string;
}

/**
 * A transfer across the measured account's boundary, signed: > 0 in, < 0 out (a sub-account
 * transfer, or spot↔futures when only one wallet is measured). An external flow. Transfers
 * between two wallets that are both measured must not be given: they are not flows.
 */
export interface TransferEvent {
  type: 'transfer';
  ts: number;
  asset: string;
  amount: string;
  id?: string;
}

/**
 * The account's total holding of `asset` at `ts`, across the measured wallets (spot free +
 * locked, futures wallet balance; futures unrealized PnL excluded). The engine sets its running
 * balance to it; a difference is booked as an external flow (a balance adjustment), so an
 * unexplained change can never show up as performance.
 */
export interface BalanceEvent {
  type: 'balance';
  ts: number;
  asset: string;
  amount: string;
}

export type LedgerFill = SpotFill | FuturesFill;
export type LedgerEvent =
  | SpotFill
  | FuturesFill
  | FeeEvent
  | FundingEvent
  | DepositEvent
  | WithdrawalEvent
  | TransferEvent
  | BalanceEvent;

/**
 * Prices for valuation, injected. `price(asset, ts)` is the value of one unit of `asset` in the
 * reporting currency at time `ts` (ms), as an exact decimal string, or `null` when unknown.
 * The engine asks only about times it has reached (never the future of the stream); the
 * enclave backs it with exchange candles. It must be deterministic: same question, same answer.
 *
 * @example
 * const oracle: PriceOracle = { price: (asset, ts) => candles.closeBefore(asset, ts) ?? null };
 */
export interface PriceOracle {
  price(asset: string, ts: number): string | null;
}

export function isFill(e: LedgerEvent): e is LedgerFill {
  return e.type === undefined || e.type === 'fill';
}

/** Order of event kinds that share a millisecond: flows in, trading, costs, flows out, snapshots. */
const RANK: Readonly<Record<string, number>> = {
  deposit: 0,
  transfer: 1,
  fill: 2,
  fee: 3,
  funding: 4,
  withdrawal: 5,
  balance: 6,
};

const str = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The canonical order of ledger events: time; then kind (RANK); fills by `compareFills` and then
 * market; other events by asset, symbol, id, amount. Total on distinct events, so the engine's
 * result does not depend on the order the events arrived in.
 */
export function compareEvents(a: LedgerEvent, b: LedgerEvent): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  const ra = RANK[a.type ?? 'fill'] ?? 7; // an unknown kind (malformed input) sorts last
  const rb = RANK[b.type ?? 'fill'] ?? 7;
  if (ra !== rb) return ra - rb;
  if (isFill(a) && isFill(b)) {
    const c = compareFills(a, b);
    if (c !== 0) return c;
    return str(a.market ?? 'spot', b.market ?? 'spot');
  }
  if (isFill(a) || isFill(b)) return isFill(a) ? -1 : 1; // only with an unknown kind
  return (
    str(String(a.type), String(b.type)) ||
    str(a.asset, b.asset) ||
    str('symbol' in a ? (a.symbol ?? '') : '', 'symbol' in b ? (b.symbol ?? '') : '') ||
    str('id' in a ? (a.id ?? '') : '', 'id' in b ? (b.id ?? '') : '') ||
    str(a.amount, b.amount)
  );
}
