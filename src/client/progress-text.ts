/**
 * A one-line text of a job's progress (phase, symbol, pages, fills, rate-limit waits), shared by
 * the CLI's status line and the web page. The total number of fills is unknown until the download
 * ends, so the bar counts phases, not fills.
 */
import type { JobProgress } from './api-client.js';

const PHASES: Record<JobProgress['phase'], string> = {
  fills: 'downloading fills',
  flows: 'downloading deposits and withdrawals',
  balances: 'reading balances',
  prices: 'pricing from candles',
  compute: 'computing metrics',
  sign: 'signing',
};

export function formatProgress(p: JobProgress): string {
  const step = Object.keys(PHASES).indexOf(p.phase) + 1;
  const bar = '#'.repeat(step).padEnd(6, '.');
  const at = p.symbol ? ` ${p.symbol}` : '';
  return (
    `[${bar}] ${PHASES[p.phase]}${at} · ${p.pages} pages · ${p.fills} fills` +
    (p.rate_limit_waits > 0 ? ` · ${p.rate_limit_waits} rate-limit waits` : '')
  );
}
