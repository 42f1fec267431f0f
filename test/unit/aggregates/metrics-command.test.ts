import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runMetricsCommand } from '../../../src/cli/metrics-command.js';

/** Runs the command against an in-memory file system; returns code, parsed stdout, stderr. */
function run(argv: string[], files: Record<string, string>) {
  let out = '';
  let err = '';
  const code = runMetricsCommand(argv, {
    readFile: (p) => {
      if (!(p in files)) throw new Error('ENOENT');
      return files[p]!;
    },
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
  });
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(out);
  } catch {
    json = null;
  }
  return { code, out, json, err };
}

const V = JSON.parse(
  readFileSync(new URL('../../vectors/metrics/empyrical_vectors.json', import.meta.url), 'utf8'),
) as { series: Record<string, (number | null)[]> };
/** empyrical's mixed_returns (leading NaN) as a dated CSV with a header. */
const mixedCsv =
  'date,return\n' +
  V.series['mixed_returns']!.map(
    (x, i) => `2000-01-${String(30 + i).padStart(2, '0')},${x === null ? 'NaN' : x}`,
  ).join('\n');

describe('perf-aggregator metrics', () => {
  it('--kind returns reproduces empyrical on mixed_returns (N = 252), payload names, exit 0', () => {
    const r = run(['m.csv', '--kind', 'returns', '--annualization', '252'], { 'm.csv': mixedCsv });
    assert.equal(r.code, 0, r.err);
    const m = r.json!;
    assert.ok(Math.abs((m['sharpe'] as number) - 1.7238613961706866) < 1e-12);
    assert.ok(Math.abs((m['sortino'] as number) - 2.605531251673693) < 1e-12);
    assert.ok(Math.abs((m['max_drawdown'] as number) - -0.1) < 1e-12);
    assert.ok(Math.abs((m['cagr'] as number) - 1.9135925373194231) < 1e-10); // the NaN row counts
    assert.equal(m['tail_ratio'], 0.9556962025316452);
    assert.equal(m['from'], '2000-01-30');
    assert.equal(m['days'], 9);
    assert.equal(m['annualization'], 252);
  });

  it('reads a bare value column without a header; undefined ratios print as null', () => {
    const r = run(['r.csv'], { 'r.csv': '0.01\n0.01\n0.01\n' });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.json!['kind'], 'returns');
    assert.equal(r.json!['sharpe'], null);
    assert.equal(r.json!['sortino'], null);
    assert.equal(r.json!['calmar'], null);
    assert.equal(r.json!['from'], null);
    assert.equal(r.json!['annualization'], 365);
  });

  it('--kind equity with a flow column: flows are not performance', () => {
    const csv = 'date,equity,flow\n2024-01-01,1000,0\n2024-01-02,1010,0\n2024-01-03,1611,500\n';
    const r = run(['e.csv', '--kind', 'equity'], { 'e.csv': csv });
    assert.equal(r.code, 0, r.err);
    assert.ok(Math.abs((r.json!['total_return'] as number) - (1.01 * 1.1 - 1)) < 1e-15);
    assert.ok(Math.abs((r.json!['pnl'] as number) - 111) < 1e-9);
    assert.equal(r.json!['periods'], 2);
  });

  it('--kind pnl rebuilds equity from --start-equity', () => {
    const r = run(['p.csv', '--kind', 'pnl', '--start-equity', '1000'], {
      'p.csv': '2024-01-01,10\n2024-01-02,-5\n2024-01-03,20\n',
    });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.json!['pnl'], 25);
    assert.equal(r.json!['end_equity'], 1025);
    assert.ok(Math.abs((r.json!['total_return'] as number) - 0.025) < 1e-15);
  });

  it('--help prints the usage and exits 0', () => {
    const r = run(['--help'], {});
    assert.equal(r.code, 0);
    assert.match(r.out, /--kind returns\|equity\|pnl/);
  });

  for (const [what, argv, files, msg] of [
    ['no file argument', [], {}, /one CSV file/],
    ['an unreadable file', ['x.csv'], {}, /cannot read x.csv/],
    ['an unknown kind', ['a.csv', '--kind', 'prices'], { 'a.csv': '1\n' }, /--kind/],
    ['an unknown option', ['a.csv', '--frobnicate'], { 'a.csv': '1\n' }, /frobnicate/],
    ['a bad annualization', ['a.csv', '--annualization', '0'], { 'a.csv': '1\n' }, /annualization/],
    ['pnl without start equity', ['a.csv', '--kind', 'pnl'], { 'a.csv': '1\n' }, /start-equity/],
    ['start equity on returns', ['a.csv', '--start-equity', '5'], { 'a.csv': '1\n' }, /pnl only/],
    [
      'a non-numeric value',
      ['a.csv'],
      { 'a.csv': 'd,v\n2024-01-01,0.1\n2024-01-02,abc\n' },
      /line 3/,
    ],
    [
      'a missing equity value',
      ['a.csv', '--kind', 'equity'],
      { 'a.csv': '1\n\n2\nNaN\n' },
      /line 4/,
    ],
    ['ragged rows', ['a.csv'], { 'a.csv': '2024-01-01,0.1\n0.2\n' }, /line 2: expected 2 columns/],
    ['an empty file', ['a.csv'], { 'a.csv': 'date,value\n' }, /no data rows/],
    ['an infinite value', ['a.csv'], { 'a.csv': '1e999\n' }, /not finite/],
  ] as const) {
    it(`exits 2 on ${what}, naming the problem`, () => {
      const r = run([...argv], { ...files });
      assert.equal(r.code, 2);
      assert.equal(r.out, '');
      assert.match(r.err, msg);
    });
  }
});
