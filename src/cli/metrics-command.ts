/**
 * `perf-aggregator metrics <file.csv> --kind returns|equity|pnl [--annualization 365]
 * [--start-equity X]`: the series-level metrics of a CSV, with the signed payload's names
 * (docs/methodology.md). Offline and local; no service involved. I/O is injected so the command
 * is testable without a filesystem.
 *
 * CSV: one row per period, `date,value` (or `value` alone; for equity an optional third column
 * `flow`, external flows during the period, end-of-day timing). A first line whose value is not
 * a number is a header. Blank lines and lines starting with `#` are skipped. For returns, an
 * empty or `NaN` value is a missing period (empyrical's rule); equity and PnL need every value.
 * Exit codes: 0 success, 2 bad usage or bad input (the message names the line).
 */
import { parseArgs } from 'node:util';
import { metricsFromEquity, metricsFromPnl, metricsFromReturns } from '../aggregates/series.js';

export interface MetricsCommandIo {
  readFile(path: string): string;
  stdout(s: string): void;
  stderr(s: string): void;
}

export const METRICS_USAGE = `perf-aggregator metrics <file.csv> [--kind returns|equity|pnl] [--annualization N] [--start-equity X]

  --kind returns        simple periodic returns (default); empty or NaN = a missing period
  --kind equity         an equity curve, one mark per period (first row: the opening value);
                        an optional third column holds external flows (end-of-day timing)
  --kind pnl            PnL per period; needs --start-equity (equity = start + cumulative PnL)
  --annualization N     periods per year (default 365: daily, 24/7 markets; 252 for exchanges' days)
  --start-equity X      opening equity for --kind pnl

CSV rows are "date,value" or "value", with or without a header line. Prints the metrics as JSON,
with the names of the signed payload; undefined ratios are null. Exit 0 on success, 2 on bad input.`;

class InputError extends Error {}

interface Row {
  date: string | null;
  value: number;
  flow: number;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function parseNumber(s: string, missingOk: boolean, where: string): number {
  const t = s.trim();
  if (missingOk && (t === '' || t.toLowerCase() === 'nan')) return NaN;
  if (!NUMBER.test(t)) throw new InputError(`${where}: "${t.slice(0, 40)}" is not a number`);
  const x = Number(t);
  if (!Number.isFinite(x)) throw new InputError(`${where}: value is not finite`);
  return x;
}

const unquote = (s: string): string => {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
};

/** Rows of a date,value[,flow] or value CSV. */
export function parseSeriesCsv(text: string, kind: 'returns' | 'equity' | 'pnl'): Row[] {
  const rows: Row[] = [];
  const lines = text.split(/\r?\n/);
  let first = true;
  let width = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const cells = line.split(/[,;\t]/).map(unquote);
    const where = `line ${i + 1}`;
    if (first) {
      first = false;
      width = cells.length;
      const v = cells.length === 1 ? cells[0]! : cells[1]!;
      if (!NUMBER.test(v.trim()) && !(kind === 'returns' && /^(nan)?$/i.test(v.trim()))) continue; // header
    }
    if (cells.length !== width) throw new InputError(`${where}: expected ${width} columns`);
    if (width > 3 || (width === 3 && kind !== 'equity'))
      throw new InputError(
        `${where}: expected "date,value"${kind === 'equity' ? ' or "date,value,flow"' : ''}`,
      );
    const date = width === 1 ? null : cells[0]!;
    const value = parseNumber(width === 1 ? cells[0]! : cells[1]!, kind === 'returns', where);
    const flow = width === 3 ? parseNumber(cells[2]!, false, where) : 0;
    rows.push({ date, value, flow });
  }
  return rows;
}

/**
 * Runs the command; returns the exit code.
 *
 * @example
 * runMetricsCommand(['r.csv', '--kind', 'returns'], { readFile: (p) => fs.readFileSync(p, 'utf8'),
 *   stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });
 */
export function runMetricsCommand(argv: string[], io: MetricsCommandIo): number {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        kind: { type: 'string' },
        annualization: { type: 'string' },
        'start-equity': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.stderr(`${(e as Error).message}\n\n${METRICS_USAGE}\n`);
    return 2;
  }
  if (values['help']) {
    io.stdout(`${METRICS_USAGE}\n`);
    return 0;
  }
  const fail = (msg: string): number => {
    io.stderr(`metrics: ${msg}\n`);
    return 2;
  };
  if (positionals.length !== 1) return fail(`expected one CSV file\n\n${METRICS_USAGE}`);
  const path = positionals[0]!;
  const kind = (values['kind'] as string | undefined) ?? 'returns';
  if (kind !== 'returns' && kind !== 'equity' && kind !== 'pnl')
    return fail('--kind must be returns, equity or pnl');
  const annRaw = values['annualization'] as string | undefined;
  const annualization = annRaw === undefined ? 365 : Number(annRaw);
  if (annRaw !== undefined && !NUMBER.test(annRaw)) return fail('--annualization must be a number');
  if (!(Number.isFinite(annualization) && annualization > 0))
    return fail('--annualization must be a positive number');
  const seRaw = values['start-equity'] as string | undefined;
  if (kind === 'pnl' && seRaw === undefined) return fail('--kind pnl needs --start-equity');
  if (kind !== 'pnl' && seRaw !== undefined)
    return fail('--start-equity applies to --kind pnl only');
  let startEquity = 0;
  if (seRaw !== undefined) {
    if (!NUMBER.test(seRaw.trim()) || !Number.isFinite(Number(seRaw)))
      return fail('--start-equity must be a number');
    startEquity = Number(seRaw);
  }

  let text: string;
  try {
    text = io.readFile(path);
  } catch {
    return fail(`cannot read ${path}`);
  }
  let rows: Row[];
  try {
    rows = parseSeriesCsv(text, kind);
  } catch (e) {
    if (e instanceof InputError) return fail(e.message);
    throw e;
  }
  if (rows.length === 0) return fail('no data rows');

  const series = Float64Array.from(rows, (r) => r.value);
  const dated = rows[0]!.date !== null;
  const span = {
    from: dated ? rows[0]!.date : null,
    to: dated ? rows[rows.length - 1]!.date : null,
    days: rows.length,
  };
  let out: Record<string, unknown>;
  if (kind === 'returns') out = { kind, ...span, ...metricsFromReturns(series, annualization) };
  else if (kind === 'equity') {
    const flows = rows.some((r) => r.flow !== 0)
      ? Float64Array.from(rows, (r) => r.flow)
      : undefined;
    out = { kind, ...span, ...metricsFromEquity(series, annualization, flows ? { flows } : {}) };
  } else out = { kind, ...span, ...metricsFromPnl(series, startEquity, annualization) };
  io.stdout(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}
