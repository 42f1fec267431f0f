/**
 * Fills → performance metrics. Pure: no I/O, no clock (the window is passed in).
 *
 * Method (docs/methodology.md): reporting currency USDT; quotes in USD stablecoins count 1:1 (an
 * assumption, reported in `assumptions`). Spot positions use average cost per symbol. Fees are
 * valued in the reporting currency at the fill's own price (base-asset fees) or at the last traded
 * price of the fee asset seen so far (e.g. BNB). A fill whose quote cannot be valued is counted in
 * `trades` and `unpriced_fills` and left out of money figures; a fee that cannot be valued is left
 * out of `fees` and counted in `unpriced_fees`. Nothing is guessed.
 * The daily series marks open positions at each symbol's last trade price at 00:00 UTC boundaries.
 */
import { compareFills, type Fill } from './fill.js';
import { sharpe } from './stats.js';

const DAY = 86_400_000;
const USD_LIKE = new Set(['USDT', 'USDC', 'FDUSD', 'BUSD', 'TUSD', 'USDP', 'DAI', 'USD']);

export interface Metrics {
  pnl: number;
  realized_pnl: number;
  unrealized_pnl: number;
  fees: number;
  sharpe: number | null;
  volume: number;
  trades: number;
  unpriced_fills: number;
  unpriced_fees: number;
  days: number;
  from: number;
  to: number;
  currency: 'USDT';
  assumptions: string[];
}

interface Position {
  qty: number;
  cost: number;
  last: number;
}

/** Money figures are rounded to 1e-8, the exchanges' own smallest unit, to drop float noise. */
const money = (x: number): number => Math.round(x * 1e8) / 1e8 + 0;

export function computeMetrics(
  input: readonly Fill[],
  window: { from: number; to: number },
): Metrics {
  if (!(window.to >= window.from)) throw new RangeError('window.to must not precede window.from');
  const fills = input.filter((f) => f.ts >= window.from && f.ts <= window.to).sort(compareFills);
  const positions = new Map<string, Position>();
  const usdPrice = new Map<string, number>(); // last price of an asset in USD-like terms
  let realized = 0;
  let fees = 0;
  let volume = 0;
  let unpriced = 0;
  let unpricedFees = 0;

  const dayStart = Math.floor(window.from / DAY) * DAY;
  const days = Math.max(1, Math.ceil((window.to + 1 - dayStart) / DAY));
  const dailyEquity = new Float64Array(days); // cumulative PnL marked at each day's close
  let day = 0;
  const mark = (): number => {
    let u = 0;
    for (const p of positions.values()) u += p.qty * p.last - p.cost;
    return realized - fees + u;
  };

  for (const f of fills) {
    const d = Math.floor((f.ts - dayStart) / DAY);
    while (day < d) dailyEquity[day++] = mark();
    const price = Number(f.price);
    const qty = Number(f.qty);
    const quoteQty = Number(f.quoteQty);
    const quoteUsd = USD_LIKE.has(f.quote) ? 1 : usdPrice.get(f.quote);
    if (USD_LIKE.has(f.quote)) usdPrice.set(f.base, price);
    const feeUsd =
      f.feeAsset === f.quote
        ? (quoteUsd ?? NaN) * Number(f.fee)
        : f.feeAsset === f.base
          ? (quoteUsd ?? NaN) * Number(f.fee) * price
          : USD_LIKE.has(f.feeAsset)
            ? Number(f.fee)
            : (usdPrice.get(f.feeAsset) ?? NaN) * Number(f.fee);
    if (quoteUsd === undefined || !Number.isFinite(price * qty)) {
      unpriced++;
      continue;
    }
    volume += Math.abs(quoteQty) * quoteUsd;
    // A fee in an asset with no price yet is left out (and counted), but the fill itself still moves the position.
    if (Number.isFinite(feeUsd)) fees += feeUsd;
    else unpricedFees++;
    const p = positions.get(f.symbol) ?? { qty: 0, cost: 0, last: price };
    p.last = price * quoteUsd;
    const signed = f.side === 'buy' ? qty : -qty;
    if (p.qty === 0 || Math.sign(p.qty) === Math.sign(signed)) {
      p.qty += signed;
      p.cost += signed * price * quoteUsd;
    } else {
      // Closing (and possibly flipping): realize against the average cost of the closed part.
      const closing = Math.min(Math.abs(signed), Math.abs(p.qty));
      const avg = p.cost / p.qty;
      const closedSigned = Math.sign(p.qty) * closing;
      realized += closedSigned * (price * quoteUsd - avg);
      p.cost -= closedSigned * avg;
      p.qty -= closedSigned;
      const rest = signed + closedSigned;
      if (Math.abs(p.qty) < 1e-12) {
        p.qty = 0;
        p.cost = 0;
      }
      if (rest !== 0) {
        p.qty += rest;
        p.cost += rest * price * quoteUsd;
      }
    }
    positions.set(f.symbol, p);
  }
  while (day < days) dailyEquity[day++] = mark();

  const dailyPnl = new Float64Array(days);
  for (let i = 0; i < days; i++)
    dailyPnl[i] = dailyEquity[i]! - (i === 0 ? 0 : dailyEquity[i - 1]!);
  const total = mark();
  return {
    pnl: money(total),
    realized_pnl: money(realized),
    unrealized_pnl: money(total - realized + fees),
    fees: money(fees),
    sharpe: days >= 2 ? sharpe(dailyPnl, 365) : null,
    volume: money(volume),
    trades: fills.length,
    unpriced_fills: unpriced,
    unpriced_fees: unpricedFees,
    days,
    from: window.from,
    to: window.to,
    currency: 'USDT',
    assumptions: ['USD stablecoins valued at 1 USDT', 'sharpe on daily PnL, N=365, ddof=1, rf=0'],
  };
}
