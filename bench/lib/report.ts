/**
 * Shared output of the benchmarks. Each benchmark prints a human table, then exactly one JSON line:
 * `{"bench", "figures", "peer", "ratio"}`, where figures and peer map a key to `{value, unit}`.
 * Benchmarks measure; they never assert timing.
 */
import { parseArgs } from 'node:util';

export interface Figure {
  value: number;
  unit: string;
}
export type Figures = Record<string, Figure>;

export const fig = (value: number, unit: string, digits = 1): Figure => ({
  value: round(value, digits),
  unit,
});
export const round = (v: number, digits = 1): number => Number(v.toFixed(digits));

/** Prints the one JSON line a benchmark ends with. */
export function report(
  bench: string,
  figures: Figures,
  peer: Figures,
  ratio: Record<string, number>,
): void {
  process.stdout.write(`${JSON.stringify({ bench, figures, peer, ratio })}\n`);
}

/** A left-aligned text table for humans (stdout, before the JSON line). */
export function table(head: string[], rows: (string | number)[][]): void {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const [n, r] of cells.entries()) {
    process.stdout.write(
      `${r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ')}\n`,
    );
    if (n === 0) process.stdout.write(`${w.map((x) => '-'.repeat(x)).join('  ')}\n`);
  }
}

/** Integer flags `--name N`, each with a default and a lower bound; anything else exits 2. */
export function intFlags<K extends string>(
  spec: Record<K, { def: number; min: number }>,
): Record<K, number> {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(spec).map((k) => [k, { type: 'string' as const }])),
    strict: true,
  });
  const out = {} as Record<K, number>;
  for (const k of Object.keys(spec) as K[]) {
    const raw = values[k] as string | undefined;
    const n = raw === undefined ? spec[k].def : Number(raw);
    if (!Number.isInteger(n) || n < spec[k].min) {
      process.stderr.write(`--${k} must be an integer >= ${spec[k].min}\n`);
      process.exit(2);
    }
    out[k] = n;
  }
  return out;
}
