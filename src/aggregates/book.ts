/**
 * Holdings and cost basis, per asset, in exact ticks (fixed.ts). One `Holding` per asset the
 * account ever held; a par asset (valued at exactly 1 reporting unit) is plain cash and keeps no
 * cost. Every other asset keeps its cost basis in reporting-currency ticks by average cost or
 * FIFO lots. Quantities are signed: a spot ledger without opening balances can go short, and
 * the same rules apply mirrored.
 *
 * The one primitive is `move(h, q, v)`: q units (signed) enter (q > 0) or leave (q < 0) at a
 * reporting value v of the same sign. It returns the PnL it realizes: −(v + cost of the closed
 * part), i.e. proceeds minus cost when a long is reduced, and the mirror for a short.
 */
import {
  abs,
  add,
  cmp,
  isZero,
  mulDiv,
  mulDivNum,
  neg,
  sign,
  sub,
  type Price,
  type Tick,
} from './fixed.js';

export type CostBasis = 'average' | 'fifo';

export class Holding {
  readonly asset: string;
  readonly par: boolean;
  /** signed quantity held, ticks */
  qty: Tick = 0;
  /** signed cost basis of `qty`, reporting ticks (average cost: the pool; FIFO: Σ lot costs) */
  cost: Tick = 0;
  /** FIFO lots from `head` on: quantity and cost, both signed like `qty` */
  lotQty: Tick[] = [];
  lotCost: Tick[] = [];
  head = 0;
  /** last known price as a fraction pxNum/pxDen (reporting ticks per tick): oracle or a fill */
  pxNum: Tick = 0;
  pxDen: Tick = 0;
  /** the last oracle answer and its parse, to parse a repeated candle once */
  lastAnswer: string | null = null;
  lastParsed: Price | undefined;

  constructor(asset: string, par: boolean) {
    this.asset = asset;
    this.par = par;
  }
}

const MAX = Number.MAX_SAFE_INTEGER;

/** Moves q (signed) units of `h` at reporting value v; returns the realized PnL (ticks). */
export function move(h: Holding, q: Tick, v: Tick, basis: CostBasis): Tick {
  // Fast path, average cost with every amount a safe-integer number (the common case): the
  // same arithmetic as the general path below, inlined, with the range checked before writing.
  const P = h.qty;
  const C = h.cost;
  if (
    basis === 'average' &&
    !h.par &&
    typeof q === 'number' &&
    typeof v === 'number' &&
    typeof P === 'number' &&
    typeof C === 'number' &&
    q !== 0
  ) {
    if (P === 0 || P > 0 === q > 0) {
      const nq = P + q;
      const nc = C + v;
      if (nq <= MAX && nq >= -MAX && nc <= MAX && nc >= -MAX) {
        h.qty = nq;
        h.cost = nc;
        return 0;
      }
    } else {
      const aq = q < 0 ? -q : q;
      const ap = P < 0 ? -P : P;
      if (aq <= ap) {
        const removed = aq === ap ? C : mulDiv(C, aq, ap);
        if (typeof removed === 'number') {
          const r = -(v + removed);
          if (r <= MAX && r >= -MAX) {
            const nq = P + q; // |nq| < |P|: exact
            h.qty = nq;
            h.cost = nq === 0 ? 0 : C - removed; // |removed| ≤ |C|, same sign: exact
            return r + 0;
          }
        }
      }
    }
  }
  if (basis === 'fifo') {
    const r = moveFifoNumbers(h, q, v);
    if (r === r) return r;
  }
  return moveGeneral(h, q, v, basis);
}

/**
 * FIFO on safe-integer numbers: the general path's arithmetic, checked in a dry run over the
 * lots before anything is written. NaN (nothing written) hands over to the general path.
 */
function moveFifoNumbers(h: Holding, q: Tick, v: Tick): number {
  const P = h.qty;
  const C = h.cost;
  if (
    h.par ||
    typeof q !== 'number' ||
    typeof v !== 'number' ||
    typeof P !== 'number' ||
    typeof C !== 'number' ||
    q === 0
  )
    return NaN;
  const lq = h.lotQty;
  const lc = h.lotCost;
  if (P === 0 || P > 0 === q > 0) {
    const nq = P + q;
    const nc = C + v;
    if (!(nq <= MAX && nq >= -MAX && nc <= MAX && nc >= -MAX)) return NaN;
    h.qty = nq;
    h.cost = nc;
    lq.push(q);
    lc.push(v);
    return 0;
  }
  const aq = q < 0 ? -q : q;
  const ap = P < 0 ? -P : P;
  if (aq > ap) return NaN; // crosses zero: general path
  // dry run: which lots go, and the cost of the part of the last one
  let left = aq;
  let removed = 0;
  let i = h.head;
  let part = 0;
  for (; left > 0; i++) {
    const lotQ = lq[i];
    const lotC = lc[i];
    if (typeof lotQ !== 'number' || typeof lotC !== 'number') return NaN;
    const lotA = lotQ < 0 ? -lotQ : lotQ;
    if (lotA <= left) {
      removed += lotC;
      left -= lotA;
    } else {
      part = mulDivNum(lotC, left, lotA);
      if (part !== part) return NaN;
      removed += part;
      break;
    }
  }
  const r = -(v + removed);
  if (!(r <= MAX && r >= -MAX && removed <= MAX && removed >= -MAX)) return NaN;
  // commit: lots before i are gone; lot i (if it was split) keeps the rest
  if (left > 0) {
    lq[i] = (lq[i] as number) - (P > 0 ? left : -left);
    lc[i] = (lc[i] as number) - part;
  }
  h.head = i;
  const nq = P + q;
  h.qty = nq;
  h.cost = nq === 0 ? 0 : C - removed;
  if (h.head === lq.length) {
    lq.length = 0;
    lc.length = 0;
    h.head = 0;
  } else if (h.head > 1024 && h.head * 2 > lq.length) {
    lq.splice(0, h.head);
    lc.splice(0, h.head);
    h.head = 0;
  }
  return r + 0;
}

function moveGeneral(h: Holding, q: Tick, v: Tick, basis: CostBasis): Tick {
  if (h.par) {
    h.qty = add(h.qty, q);
    return 0;
  }
  if (isZero(q)) return 0;
  const sp = sign(h.qty);
  if (sp === 0 || sp === sign(q)) {
    open(h, q, v, basis);
    return 0;
  }
  const aq = abs(q);
  const ap = abs(h.qty);
  if (cmp(aq, ap) <= 0) {
    const c = close(h, aq, ap, basis);
    return neg(add(v, c));
  }
  // Crosses zero: close the whole position with the matching share of v, open the rest.
  const vClose = mulDiv(v, ap, aq);
  const rest = add(q, h.qty); // what is left of q once the position is closed
  const c = close(h, ap, ap, basis);
  open(h, rest, sub(v, vClose), basis);
  return neg(add(vClose, c));
}

function open(h: Holding, q: Tick, v: Tick, basis: CostBasis): void {
  h.qty = add(h.qty, q);
  h.cost = add(h.cost, v);
  if (basis === 'fifo') {
    h.lotQty.push(q);
    h.lotCost.push(v);
  }
}

/** Removes `take` (> 0, ≤ |qty|) units from the position; returns their signed cost. */
function close(h: Holding, take: Tick, held: Tick, basis: CostBasis): Tick {
  const sp = sign(h.qty);
  let removed: Tick;
  if (basis === 'average') {
    removed = cmp(take, held) === 0 ? h.cost : mulDiv(h.cost, take, held);
  } else {
    removed = 0;
    let left = take;
    const lq = h.lotQty;
    const lc = h.lotCost;
    while (!isZero(left)) {
      const i = h.head;
      const lotQ = lq[i]!;
      const lotA = abs(lotQ);
      if (cmp(lotA, left) <= 0) {
        removed = add(removed, lc[i]!);
        left = sub(left, lotA);
        lq[i] = 0;
        lc[i] = 0;
        h.head = i + 1;
      } else {
        const part = mulDiv(lc[i]!, left, lotA);
        removed = add(removed, part);
        lq[i] = sub(lotQ, sp === 1 ? left : neg(left));
        lc[i] = sub(lc[i]!, part);
        left = 0;
      }
    }
    if (h.head === lq.length) {
      lq.length = 0;
      lc.length = 0;
      h.head = 0;
    } else if (h.head > 1024 && h.head * 2 > lq.length) {
      lq.splice(0, h.head);
      lc.splice(0, h.head);
      h.head = 0;
    }
  }
  h.qty = sub(h.qty, sp === 1 ? take : neg(take));
  h.cost = isZero(h.qty) ? 0 : sub(h.cost, removed);
  return removed;
}

/** Open FIFO lots (for tests and the memory bound). */
export function openLots(h: Holding): number {
  return h.lotQty.length - h.head;
}
