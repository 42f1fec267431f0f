/**
 * Metrics-engine failures: caller mistakes, never data problems (bad or unpriceable ledger rows
 * are counted in the result instead, see docs/methodology.md). Messages are fixed per code.
 */
import { CodedError } from '../common/errors.js';

/** Every metrics error code (for docs/errors.md and tests). */
export const METRICS_CODES = [
  'ERR_METRICS_WINDOW',
  'ERR_METRICS_ORDER',
  'ERR_METRICS_OPTION',
  'ERR_METRICS_FINISHED',
] as const;

export type MetricsCode = (typeof METRICS_CODES)[number];

const MESSAGES: Readonly<Record<MetricsCode, string>> = {
  ERR_METRICS_WINDOW: 'window must have integer ms from <= to, at most 100 years apart',
  ERR_METRICS_ORDER: 'ledger events must be pushed in non-decreasing time order',
  ERR_METRICS_OPTION: 'a metrics option is out of range',
  ERR_METRICS_FINISHED: 'the engine has already produced its result',
};

/**
 * A metrics error. `code` is stable; the message is fixed per code.
 *
 * @example
 * try { computeMetrics(ledger, { from: 10, to: 5 }); }
 * catch (e) { if (e instanceof MetricsError && e.code === 'ERR_METRICS_WINDOW') badRequest(); }
 */
export class MetricsError extends CodedError<MetricsCode> {
  constructor(code: MetricsCode, options?: { cause?: unknown }) {
    super(code, MESSAGES[code], options);
  }
}
