/**
 * Presentation of a signed payload (protocol §4, docs/methodology.md). A `null` metric means
 * "undefined for this data" and is shown as such, never as 0. Fields this page does not know yet
 * (the metrics issue adds more) are listed by name, so nothing signed is hidden.
 */
import { h } from './dom.js';

type Payload = Record<string, unknown>;
type Kind = 'money' | 'number' | 'int' | 'ratio' | 'percent' | 'time' | 'text' | 'hash';

/** Known fields, in display order. */
const FIELDS: [key: string, label: string, kind: Kind][] = [
  ['pnl', 'Profit and loss', 'money'],
  ['realized_pnl', 'Realized PnL', 'money'],
  ['unrealized_pnl', 'Unrealized PnL', 'money'],
  ['fees', 'Fees', 'money'],
  ['volume', 'Volume', 'money'],
  ['trades', 'Trades', 'int'],
  ['sharpe', 'Sharpe ratio (daily returns, annualised, N=365)', 'ratio'],
  ['sortino', 'Sortino ratio', 'ratio'],
  ['max_drawdown', 'Maximum drawdown', 'percent'],
  ['calmar', 'Calmar ratio', 'ratio'],
  ['cagr', 'CAGR', 'percent'],
  ['total_return', 'Total return (time-weighted)', 'percent'],
  ['volatility', 'Volatility (annualised)', 'percent'],
  ['round_trips', 'Closed round trips', 'int'],
  ['win_rate', 'Win rate (round trips)', 'percent'],
  ['profit_factor', 'Profit factor', 'ratio'],
  ['avg_win', 'Average win', 'money'],
  ['avg_loss', 'Average loss', 'money'],
  ['funding', 'Funding', 'money'],
  ['start_equity', 'Starting equity', 'money'],
  ['end_equity', 'Ending equity', 'money'],
  ['net_flows', 'Net deposits and withdrawals', 'money'],
  ['cost_basis', 'Cost basis', 'text'],
  ['days', 'Days in the period', 'int'],
  ['from', 'From', 'time'],
  ['to', 'To', 'time'],
  ['unpriced_fills', 'Fills that could not be priced', 'int'],
  ['unpriced_fees', 'Fees that could not be priced', 'int'],
  ['exchange', 'Exchange', 'text'],
  ['label', 'Label', 'text'],
  ['computed_at', 'Computed at', 'time'],
  ['account', 'Account fingerprint', 'hash'],
  ['image_hash', 'Enclave image hash (PCR0)', 'hash'],
  ['key_id', 'Signing key id', 'hash'],
  ['trades_root', 'Trades root', 'hash'],
];
/** Signed but not shown: the session id is the owner's handle for revoking (see docs/web.md). */
// `daily` is drawn as charts (charts.ts), not listed.
const HIDDEN = new Set(['v', 'session_id', 'currency', 'daily']);

const group = (s: string): string => s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

export function formatNumber(x: number, digits: number): string {
  const [i, f] = Math.abs(x).toFixed(digits).split('.');
  return `${x < 0 ? '−' : ''}${group(i!)}${f ? `.${f}` : ''}`;
}

export function formatValue(v: unknown, kind: Kind, currency: string): string {
  if (v === null) return 'n/a (undefined for this data)';
  if (v === undefined) return '—';
  if (typeof v === 'number' && Number.isFinite(v)) {
    switch (kind) {
      case 'money':
        return `${formatNumber(v, 2)} ${currency}`.trim();
      case 'int':
        return formatNumber(v, 0);
      case 'ratio':
        return formatNumber(v, 2);
      case 'percent':
        return `${formatNumber(v * 100, 2)} %`;
      default:
        return String(v);
    }
  }
  if (typeof v === 'string') {
    if (kind === 'time') {
      const t = Date.parse(v);
      return Number.isNaN(t)
        ? v
        : `${new Date(t).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
    }
    return v;
  }
  return JSON.stringify(v);
}

/** The headline line: "PnL +1,234.56 USD · Sharpe 1.23 · 150 trades". */
export function headline(p: Payload): string {
  const cur = typeof p['currency'] === 'string' ? p['currency'] : '';
  const pnl = p['pnl'];
  const parts = [
    typeof pnl === 'number'
      ? `PnL ${pnl >= 0 ? '+' : ''}${formatValue(pnl, 'money', cur)}`
      : 'PnL n/a',
    typeof p['sharpe'] === 'number' ? `Sharpe ${formatNumber(p['sharpe'], 2)}` : 'Sharpe n/a',
    typeof p['trades'] === 'number' ? `${formatNumber(p['trades'], 0)} trades` : '',
  ];
  return parts.filter(Boolean).join(' · ');
}

/** The signed metrics as a two-column table (a caption names it for screen readers). */
export function metricsTable(p: Payload, caption: string): HTMLTableElement {
  const cur = typeof p['currency'] === 'string' ? p['currency'] : '';
  const body = h('tbody');
  const row = (label: string, value: string, kind: Kind): void => {
    body.append(
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, label),
        h('td', { class: kind === 'hash' ? 'mono wrap' : kind === 'text' ? '' : 'num' }, value),
      ),
    );
  };
  const known = new Set(FIELDS.map((f) => f[0]));
  for (const [key, label, kind] of FIELDS)
    if (key in p) row(label, formatValue(p[key], kind, cur), kind);
  for (const key of Object.keys(p).sort())
    if (!known.has(key) && !HIDDEN.has(key)) row(key, formatValue(p[key], 'number', cur), 'text');
  return h('table', { class: 'metrics' }, h('caption', {}, caption), body);
}
