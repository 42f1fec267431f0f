/**
 * The equity curve and the drawdown chart of a signed result, drawn with uPlot (small, no
 * dependencies, canvas, and no HTML parsing, so it runs under the pages' Trusted Types CSP).
 * Both come from the payload's signed `daily` series (docs/methodology.md §5): equity as marked at
 * 00:00 UTC, and drawdown of the time-weighted return index Π(1 + r), so deposits and withdrawals
 * do not show as gains or losses. Each chart has a text summary for screen readers.
 */
import uPlot from 'uplot';
import { h } from './dom.js';
import { formatNumber } from './format.js';

const COMPACT = new Intl.NumberFormat('en', { notation: 'compact', maximumFractionDigits: 2 });

interface DailyPoint {
  date: string;
  equity: number;
  return: number | null;
}

/** The `daily` series if the payload carries a well-formed one, else null. */
export function dailySeries(p: Record<string, unknown>): DailyPoint[] | null {
  const d = p['daily'];
  if (!Array.isArray(d) || d.length < 2) return null;
  const ok = d.every(
    (x: unknown) =>
      typeof x === 'object' &&
      x !== null &&
      typeof (x as DailyPoint).date === 'string' &&
      typeof (x as DailyPoint).equity === 'number' &&
      ((x as DailyPoint).return === null || typeof (x as DailyPoint).return === 'number'),
  );
  return ok ? (d as DailyPoint[]) : null;
}

/** Drawdown of the return index: index / running maximum − 1 (a day without a return is flat). */
export function drawdowns(points: readonly DailyPoint[]): number[] {
  let index = 1;
  let peak = 1;
  return points.map((pt) => {
    index *= 1 + (pt.return ?? 0);
    peak = Math.max(peak, index);
    return index / peak - 1;
  });
}

function chart(
  title: string,
  summary: string,
  xs: number[],
  ys: number[],
  label: string,
  stroke: string,
  fill: string,
): HTMLElement {
  const holder = h('div', { class: 'chart', role: 'img', 'aria-label': `${title}. ${summary}` });
  const figure = h('figure', { class: 'chart-figure' }, h('figcaption', {}, title), holder);
  // uPlot needs a laid-out width; draw once the figure is in the document, and follow resizes.
  requestAnimationFrame(() => {
    const width = (): number => Math.max(280, holder.clientWidth || 600);
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        legend: { show: false },
        series: [{}, { label, stroke, fill, width: 1.5 }],
        // Compact tick labels (2.2M), so large equity values fit beside the plot.
        axes: [{}, { size: 60, values: (_u, ticks) => ticks.map((t) => COMPACT.format(t)) }],
      },
      [xs, ys],
      holder,
    );
    new ResizeObserver(() => plot.setSize({ width: width(), height: 220 })).observe(holder);
  });
  return figure;
}

/** The two charts, or null when the payload has no daily series (it is opt-in). */
export function equityCharts(p: Record<string, unknown>): HTMLElement | null {
  const points = dailySeries(p);
  if (!points) return null;
  const cur = typeof p['currency'] === 'string' ? p['currency'] : '';
  const xs = points.map((pt) => Date.parse(`${pt.date}T00:00:00Z`) / 1000);
  const equity = points.map((pt) => pt.equity);
  const dd = drawdowns(points).map((x) => x * 100);
  const worst = dd.reduce((m, x, i) => (x < dd[m]! ? i : m), 0);
  const first = points[0]!;
  const last = points.at(-1)!;
  return h(
    'section',
    { class: 'charts', id: 'charts', 'aria-label': 'Equity and drawdown' },
    chart(
      'Equity (marked daily at 00:00 UTC)',
      `From ${formatNumber(first.equity, 2)} ${cur} on ${first.date} to ${formatNumber(last.equity, 2)} ${cur} on ${last.date}.`,
      xs,
      equity,
      `equity (${cur})`,
      '#1d4ed8',
      'rgba(29, 78, 216, 0.08)',
    ),
    chart(
      'Drawdown of the time-weighted return (%)',
      `Deepest drawdown ${formatNumber(dd[worst]!, 2)} % on ${points[worst]!.date}.`,
      xs,
      dd,
      'drawdown (%)',
      '#b91c1c',
      'rgba(185, 28, 28, 0.12)',
    ),
  );
}
