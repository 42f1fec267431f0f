/**
 * Ledger → performance metrics: the entry point the enclave calls. Pure: no I/O, no clock (the
 * window is passed in), prices from the injected oracle. Method: docs/methodology.md.
 *
 * `computeMetrics(fills, { from, to })` — the v1 call — still works: a `Fill` is a spot ledger
 * event, and without an oracle assets are valued at the account's own last fill price in USDT,
 * as v1 did. Return-based ratios need capital: pass `startEquity`, or balances/deposits in the
 * ledger, or they are null.
 */
import { MetricsEngine, type Metrics, type MetricsOptions } from './engine.js';
import { compareEvents, type LedgerEvent } from './ledger.js';

export { DAY_MS, MetricsEngine, USD_STABLECOINS } from './engine.js';
export type { DailyPoint, Metrics, MetricsOptions, SymbolMetrics } from './engine.js';
export { metricsFromEquity, metricsFromPnl, metricsFromReturns } from './series.js';
export type { EquityOptions, ReturnMetrics, SeriesMetrics } from './series.js';
export type { CostBasis } from './book.js';
export type { LedgerEvent, PriceOracle } from './ledger.js';

/**
 * Every metric of a ledger over `[from, to]`. The events may come in any order (an array is
 * put in canonical order first, `compareEvents`; an iterable that is not an array must be in
 * non-decreasing time). History before `from` builds the opening state (positions, cost basis,
 * balances) and is otherwise not counted.
 *
 * @example
 * const m = computeMetrics(ledger, {
 *   from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 11, 31, 23, 59, 59, 999),
 *   oracle, costBasis: 'average',
 * });
 * m.pnl; m.sharpe; m.max_drawdown; m.unpriced_fees;
 */
export function computeMetrics(
  ledger: readonly LedgerEvent[] | Iterable<LedgerEvent>,
  options: MetricsOptions,
): Metrics {
  const engine = new MetricsEngine(options);
  if (Array.isArray(ledger)) {
    const events = ledger as readonly LedgerEvent[];
    engine.pushSorted(isCanonical(events) ? events : [...events].sort(compareEvents));
  } else for (const e of ledger) engine.push(e);
  return engine.finish();
}

/** True when the array is already in canonical order (one linear pass, no allocation). */
function isCanonical(events: readonly LedgerEvent[]): boolean {
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    if (a.ts < b.ts) continue;
    if (compareEvents(a, b) > 0) return false;
  }
  return true;
}
