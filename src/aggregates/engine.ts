/**
 * The streaming ledger engine: ledger events in time order → exact money figures, a daily
 * mark-to-market equity series and every metric of docs/methodology.md. Memory is
 * O(assets + open FIFO lots + symbols + days), never O(events): each event is applied and
 * dropped. Pure: no I/O, no clock; prices come from the injected oracle.
 *
 * Accounting identity, exact in ticks (tested):
 *   pnl = end_equity − start_equity − net_flows = realized_pnl + unrealized_pnl − fees + funding
 *
 * @example
 * const engine = new MetricsEngine({ from, to, oracle, startEquity: '10000' });
 * for (const e of events) engine.push(e); // non-decreasing ts
 * const m = engine.finish();
 */
import { Holding, move, type CostBasis } from './book.js';
import { MetricsError } from './errors.js';
import {
  Acc,
  ONE,
  abs,
  add,
  cmp,
  fromNumber,
  isZero,
  mulDiv,
  mulDivInto,
  neg,
  parseNum3,
  parsePrice,
  parseTicks,
  sign,
  sub,
  toNumber,
  value,
  type ParseStats,
  type Price,
  type Tick,
} from './fixed.js';
import {
  compareEvents,
  type BalanceEvent,
  type DepositEvent,
  type FeeEvent,
  type FundingEvent,
  type FuturesFill,
  type LedgerEvent,
  type PriceOracle,
  type SpotFill,
  type TransferEvent,
  type WithdrawalEvent,
} from './ledger.js';
import { metricsFromReturns, type ReturnMetrics } from './series.js';

export const DAY_MS = 86_400_000;
/** The longest window: 100 years of 366 days. */
export const MAX_WINDOW_MS = 36_600 * DAY_MS;
const MAX = Number.MAX_SAFE_INTEGER;
const L51 = 2 ** 51;
/** raw-double scratch of the allocation-free spot path */
const SCRATCH = new Float64Array(5);

/** USD stablecoins treated as exactly 1 USD (or 1 USDT) by default: an assumption, reported. */
export const USD_STABLECOINS: readonly string[] = [
  'USD',
  'USDT',
  'USDC',
  'FDUSD',
  'BUSD',
  'TUSD',
  'USDP',
  'DAI',
];

export interface MetricsOptions {
  /** window start, ms (inclusive). Events before it only build the opening state. */
  from: number;
  /** window end, ms (inclusive). Events after it are ignored. */
  to: number;
  /**
   * Prices in the reporting currency. Without one the engine falls back to the v1 rule: an asset
   * is worth the last price of the account's own fills against a par asset, and the reporting
   * currency is labelled USDT.
   */
  oracle?: PriceOracle;
  /** reporting currency label; default 'USD' with an oracle, 'USDT' without */
  currency?: string;
  /**
   * Assets worth exactly one unit of the reporting currency, never asked of the oracle. Default:
   * the currency itself, plus the USD stablecoins when the currency is USD or one of them.
   */
  par?: readonly string[];
  /** spot cost basis; default 'average' (docs/methodology.md says why) */
  costBasis?: CostBasis;
  /** opening capital in the reporting currency, held as cash across the window (decimal string) */
  startEquity?: string | number;
  /** periods per year for annualizing daily returns; default 365 */
  annualization?: number;
  /** add a per-symbol breakdown (`symbols`) to the result; default false */
  bySymbol?: boolean;
  /** add the daily equity series (`daily`) to the result; default false */
  dailySeries?: boolean;
}

/** One UTC day of the equity series (only with `dailySeries`). Money in the reporting currency. */
export interface DailyPoint {
  /** the UTC calendar day, YYYY-MM-DD */
  date: string;
  /** the mark's time, ms: the next 00:00 UTC, or `to` + 1 on the window's last day */
  close: number;
  /** mark-to-market equity at `close` */
  equity: number;
  /** net external flows during the day */
  flows: number;
  /** equity change net of flows */
  pnl: number;
  /** pnl / the equity the day started from; null when that equity is not positive */
  return: number | null;
}

/** Per-symbol figures (only with `bySymbol`). Money in the reporting currency. */
export interface SymbolMetrics {
  symbol: string;
  market: 'spot' | 'futures';
  trades: number;
  volume: number;
  fees: number;
  realized_pnl: number;
  funding: number;
  round_trips: number;
  wins: number;
  losses: number;
}

/** The engine's result: every v1 field (same names) plus the full methodology. */
export interface Metrics extends Omit<ReturnMetrics, 'periods'> {
  /** end_equity − start_equity − net_flows (= realized + unrealized − fees + funding) */
  pnl: number;
  /** realized PnL in the window, gross of fees: spot by cost basis, futures the exchange's */
  realized_pnl: number;
  /** change of unrealized PnL over the window (the level at `to` when nothing was open at `from`) */
  unrealized_pnl: number;
  /** unrealized PnL of what is open at `to` */
  unrealized_pnl_end: number;
  /** Σ fees and commissions, each valued at its own time (a cost: positive) */
  fees: number;
  /** Σ funding, signed (> 0 received) */
  funding: number;
  /** Σ |quote notional| of the window's priced fills */
  volume: number;
  /** fills in the window */
  trades: number;
  /** flat-to-flat round trips closed in the window */
  round_trips: number;
  wins: number;
  losses: number;
  /** wins / (wins + losses); break-even trips count in neither */
  win_rate: number | null;
  /** Σ winning trip PnL / |Σ losing trip PnL| */
  profit_factor: number | null;
  avg_win: number | null;
  /** mean losing trip PnL (negative) */
  avg_loss: number | null;
  /** Σ external flows in the window (deposits, withdrawals, transfers, balance adjustments) */
  net_flows: number;
  inflows: number;
  outflows: number;
  start_equity: number;
  end_equity: number;
  /** daily returns defined (starting equity > 0) and used by the ratios */
  return_days: number;
  days: number;
  from: number;
  to: number;
  currency: string;
  cost_basis: CostBasis;
  unpriced_fills: number;
  unpriced_fees: number;
  unpriced_funding: number;
  unpriced_flows: number;
  /** (asset, day) marks that fell back to the asset's last known price */
  unpriced_marks: number;
  /** unpriceable or malformed events before `from` (they shape the opening state) */
  unpriced_history: number;
  balance_adjustments: number;
  /** amounts with more than 8 decimals, rounded half to even */
  rounded_amounts: number;
  assumptions: string[];
  symbols?: SymbolMetrics[];
  daily?: DailyPoint[];
}

interface Trip {
  qty: Tick;
  net: Tick;
}

interface SymStats {
  trades: number;
  volume: Acc;
  fees: Acc;
  realized: Acc;
  funding: Acc;
  roundTrips: number;
  wins: number;
  losses: number;
}

interface SpotSym {
  base: Holding;
  quote: Holding;
  trip: Trip;
  stats: SymStats | undefined;
  /** a par quote (and a non-par base): eligible for `spotFast` */
  fast: boolean;
}

interface FutSym {
  base: Holding;
  quote: Holding;
  settle: Holding;
  /** signed position and its signed entry notional in quote units (weighted-average entry) */
  pos: Tick;
  entry: Tick;
  /** last fill's price: reporting ticks per tick of base */
  pxNum: Tick;
  pxDen: Tick;
  trip: Trip;
  stats: SymStats | undefined;
}

const newStats = (): SymStats => ({
  trades: 0,
  volume: new Acc(),
  fees: new Acc(),
  realized: new Acc(),
  funding: new Acc(),
  roundTrips: 0,
  wins: 0,
  losses: 0,
});

/** Anything with a last known price kept as two ticks (no allocation per fill). */
interface Priced {
  pxNum: Tick;
  pxDen: Tick;
}

function isTime(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x);
}

export class MetricsEngine {
  private readonly from: number;
  private readonly to: number;
  private readonly oracle: PriceOracle | undefined;
  private readonly currency: string;
  private readonly parSet: ReadonlySet<string>;
  private readonly basis: CostBasis;
  private readonly annualization: number;
  private readonly bySymbol: boolean;
  private readonly dailySeries: boolean;
  private readonly startCash: Tick;

  private readonly holdings = new Map<string, Holding>();
  private readonly spot = new Map<string, SpotSym>();
  private readonly futures = new Map<string, FutSym>();
  private readonly ps: ParseStats = { rounded: 0 };

  // window accumulators (exact)
  private readonly realized = new Acc();
  private readonly fees = new Acc();
  private readonly funding = new Acc();
  private readonly volume = new Acc();
  private readonly flows = new Acc();
  private readonly inflows = new Acc();
  private readonly outflows = new Acc();
  private readonly winSum = new Acc();
  private readonly lossSum = new Acc();
  private trades = 0;
  private roundTrips = 0;
  private wins = 0;
  private losses = 0;
  private unpricedFills = 0;
  private unpricedFees = 0;
  private unpricedFunding = 0;
  private unpricedFlows = 0;
  private unpricedMarks = 0;
  private unpricedHistory = 0;
  private adjustments = 0;

  // the daily series
  private readonly dayStart: number;
  private readonly days: number;
  private readonly base: Float64Array;
  private readonly dayPnl: Float64Array;
  private readonly dayFlow: Float64Array;
  private readonly dayEquity: Float64Array;
  private k = 0;
  private nextBoundary: number;
  private started = false;
  private ePrev: Tick = 0;
  private eStart: Tick = 0;
  private uStart: Tick = 0;
  private uLast: Tick = 0;
  private periodFlow: Tick = 0;
  /** a capital base exists: startEquity, or a flow or balance event has been applied */
  private capital: boolean;
  private capitalAtStart = false;

  // streaming
  private lastTs = -Infinity;
  private readonly group: LedgerEvent[] = [];
  private done = false;

  constructor(options: MetricsOptions) {
    const { from, to } = options;
    // at most 100 years: the daily series is allocated up front (O(days) memory)
    if (!isTime(from) || !isTime(to) || to < from || to - from > MAX_WINDOW_MS)
      throw new MetricsError('ERR_METRICS_WINDOW');
    this.from = from;
    this.to = to;
    this.oracle = options.oracle;
    this.currency = options.currency ?? (options.oracle ? 'USD' : 'USDT');
    const par = options.par ?? [
      this.currency,
      ...(USD_STABLECOINS.includes(this.currency) ? USD_STABLECOINS : []),
    ];
    this.parSet = new Set(par);
    this.basis = options.costBasis ?? 'average';
    if (this.basis !== 'average' && this.basis !== 'fifo')
      throw new MetricsError('ERR_METRICS_OPTION');
    this.annualization = options.annualization ?? 365;
    if (!(this.annualization > 0 && Number.isFinite(this.annualization)))
      throw new MetricsError('ERR_METRICS_OPTION');
    this.bySymbol = options.bySymbol === true;
    this.dailySeries = options.dailySeries === true;
    const se = options.startEquity;
    const cash =
      se === undefined
        ? 0
        : typeof se === 'number'
          ? Number.isFinite(se)
            ? fromNumber(se)
            : undefined
          : parseTicks(se);
    if (cash === undefined) throw new MetricsError('ERR_METRICS_OPTION');
    this.startCash = cash;
    this.capital = se !== undefined;
    this.dayStart = Math.floor(from / DAY_MS) * DAY_MS;
    this.days = Math.max(1, Math.ceil((to + 1 - this.dayStart) / DAY_MS));
    this.base = new Float64Array(this.days);
    this.dayPnl = new Float64Array(this.days);
    this.dayFlow = new Float64Array(this.days);
    this.dayEquity = new Float64Array(this.days);
    this.nextBoundary = Math.min(this.dayStart + DAY_MS, to + 1);
  }

  /**
   * Adds one event. Events must come in non-decreasing `ts`; events sharing a millisecond may
   * come in any order (they are applied in the canonical order of `compareEvents`).
   */
  push(e: LedgerEvent): void {
    if (this.done) throw new MetricsError('ERR_METRICS_FINISHED');
    const ts = e.ts;
    if (!isTime(ts) || ts < this.lastTs) throw new MetricsError('ERR_METRICS_ORDER');
    if (ts !== this.lastTs) this.flushGroup();
    this.lastTs = ts;
    this.group.push(e);
  }

  /**
   * Adds events already in canonical order (`compareEvents`), skipping the per-millisecond
   * buffer. For callers that sorted the whole ledger.
   */
  pushSorted(events: Iterable<LedgerEvent>): void {
    if (this.done) throw new MetricsError('ERR_METRICS_FINISHED');
    this.flushGroup();
    for (const e of events) {
      const ts = e.ts;
      if (!isTime(ts) || ts < this.lastTs) throw new MetricsError('ERR_METRICS_ORDER');
      this.lastTs = ts;
      this.apply(e);
    }
  }

  private flushGroup(): void {
    const g = this.group;
    if (g.length === 0) return;
    if (g.length > 1) g.sort(compareEvents);
    for (let i = 0; i < g.length; i++) this.apply(g[i]!);
    g.length = 0;
  }

  private apply(e: LedgerEvent): void {
    const ts = e.ts;
    if (ts > this.to) return;
    const inWin = ts >= this.from;
    if (inWin) {
      if (!this.started) this.startWindow();
      while (ts >= this.nextBoundary) this.closePeriod();
    }
    switch (e.type) {
      case undefined:
      case 'fill':
        if ((e as FuturesFill).market === 'futures') this.futuresFill(e as FuturesFill, inWin);
        else this.spotFill(e as SpotFill, inWin);
        return;
      case 'fee':
      case 'funding':
        this.pnlEvent(e, inWin);
        return;
      case 'deposit':
      case 'withdrawal':
      case 'transfer':
      case 'balance':
        this.flowEvent(e, inWin);
        return;
      default:
        if (inWin) this.unpricedFlows++;
        else this.unpricedHistory++;
    }
  }

  // ── prices ────────────────────────────────────────────────────────────────────────────

  private holding(asset: string): Holding {
    let h = this.holdings.get(asset);
    if (h === undefined) {
      h = new Holding(asset, this.parSet.has(asset));
      this.holdings.set(asset, h);
    }
    return h;
  }

  /** The price of one unit of `h` at ts, or undefined. Never guesses. */
  private price(h: Holding, ts: number): Price | undefined {
    if (h.par) return ONE;
    const oracle = this.oracle;
    if (oracle === undefined) return lastKnown(h); // v1: the account's own last fill price
    const a = oracle.price(h.asset, ts) as unknown;
    // a finite number is taken at its shortest decimal form; anything else is no price
    const s = typeof a === 'number' && Number.isFinite(a) ? String(a) : a;
    if (typeof s !== 'string') return undefined;
    if (s !== h.lastAnswer) {
      h.lastAnswer = s;
      h.lastParsed = parsePrice(s);
    }
    const p = h.lastParsed;
    if (p !== undefined) {
      h.pxNum = p.num;
      h.pxDen = p.den;
    }
    return p;
  }

  // ── fills ─────────────────────────────────────────────────────────────────────────────

  private spotSym(f: SpotFill): SpotSym {
    let s = this.spot.get(f.symbol);
    if (s === undefined || s.base.asset !== f.base || s.quote.asset !== f.quote) {
      s = {
        base: this.holding(f.base),
        quote: this.holding(f.quote),
        trip: { qty: 0, net: 0 },
        stats: s?.stats ?? (this.bySymbol ? newStats() : undefined),
        fast: false,
      };
      s.fast = s.quote.par && !s.base.par;
      this.spot.set(f.symbol, s);
    }
    return s;
  }

  private spotFill(f: SpotFill, inWin: boolean): void {
    const sym = this.spotSym(f);
    if (sym.fast && this.spotFast(f, sym, inWin)) return;
    const ps = this.ps;
    const qty = parseTicks(f.qty, ps);
    const qq = parseTicks(f.quoteQty, ps);
    const fee = parseTicks(f.fee, ps);
    const st = sym.stats;
    if (inWin) {
      this.trades++;
      if (st) st.trades++;
    }
    const buy = f.side === 'buy';
    if (
      qty === undefined ||
      qq === undefined ||
      fee === undefined ||
      qty < 0 ||
      qq < 0 ||
      (!buy && f.side !== 'sell') ||
      f.base === f.quote
    ) {
      this.unpricedFill(inWin);
      return;
    }
    const base = sym.base;
    const quote = sym.quote;
    let v: Tick;
    if (quote.par) v = qq;
    else {
      const pq = this.price(quote, f.ts);
      if (pq !== undefined) v = value(qq, pq);
      else {
        const pb = this.price(base, f.ts);
        if (pb === undefined) {
          this.unpricedFill(inWin);
          return;
        }
        v = value(qty, pb);
      }
    }
    if (!isZero(qty)) {
      base.pxNum = v;
      base.pxDen = qty;
    }
    if (!quote.par && !isZero(qq)) {
      quote.pxNum = v;
      quote.pxDen = qq;
    }
    let baseQ: Tick = buy ? qty : neg(qty);
    let baseV: Tick = buy ? v : neg(v);
    let quoteQ: Tick = buy ? neg(qq) : qq;
    let quoteV: Tick = buy ? neg(v) : v;
    let feeV: Tick = 0;
    let r: Tick = 0;
    if (!isZero(fee)) {
      if (f.feeAsset === f.base && !isZero(qty)) {
        // a fee in the asset the fill moves is valued at the fill's own price
        feeV = mulDiv(v, fee, qty);
        baseQ = sub(baseQ, fee);
        baseV = sub(baseV, feeV);
      } else if (f.feeAsset === f.quote && !isZero(qq)) {
        feeV = quote.par ? fee : mulDiv(v, fee, qq);
        quoteQ = sub(quoteQ, fee);
        quoteV = sub(quoteV, feeV);
      } else {
        const fh = this.holding(f.feeAsset);
        const p = this.price(fh, f.ts);
        if (p === undefined) {
          if (inWin) this.unpricedFees++;
          else this.unpricedHistory++;
        } else {
          feeV = value(fee, p);
          r = move(fh, neg(fee), neg(feeV), this.basis);
        }
      }
    }
    r = add(r, move(base, baseQ, baseV, this.basis));
    if (!quote.par) r = add(r, move(quote, quoteQ, quoteV, this.basis));
    else quote.qty = add(quote.qty, quoteQ);
    if (inWin) this.book(v, feeV, r, st);
    this.trip(sym.trip, baseQ, sub(r, feeV), inWin, st);
  }

  /**
   * The common spot fill — par quote, every amount a plain decimal whose ticks fit a double —
   * without allocation: the same arithmetic as the general path below (average cost inlined
   * from book.ts `move`), which takes over, returning false before anything is written, on any
   * other shape, an unpriceable fee, or a value past the double range.
   */
  private spotFast(f: SpotFill, sym: SpotSym, inWin: boolean): boolean {
    const sc = SCRATCH;
    if (!parseNum3(f.qty, f.quoteQty, f.fee, sc)) return false;
    const qty = sc[0]!;
    const qq = sc[1]!;
    const fee = sc[2]!;
    if (!(qty > 0 && qq >= 0 && fee >= 0)) return false;
    if (qty > L51 || qq > L51 || fee > L51) return false; // sums of two stay exact
    const buy = f.side === 'buy';
    if (!buy && f.side !== 'sell') return false;
    const base = sym.base;
    const quote = sym.quote;
    const Q = quote.qty;
    if (typeof Q !== 'number') return false;
    let baseQ = buy ? qty : -qty;
    let baseV = buy ? qq : -qq;
    let quoteQ = buy ? -qq : qq;
    let feeV = 0;
    let fh: Holding | undefined;
    if (fee !== 0) {
      if (f.feeAsset === f.base) {
        if (!mulDivInto(qq, fee, qty, sc, 3)) return false;
        feeV = sc[3]!;
        baseQ -= fee;
        baseV -= feeV;
      } else if (f.feeAsset === f.quote) {
        feeV = fee;
        quoteQ -= fee;
      } else {
        fh = this.holding(f.feeAsset);
        const p = this.price(fh, f.ts);
        if (p === undefined) return false;
        const v = value(fee, p);
        if (typeof v !== 'number' || v > L51) return false;
        feeV = v;
      }
    }
    const nQ = Q + quoteQ;
    if (!(nQ <= MAX && nQ >= -MAX)) return false;
    // average cost on the base holding (book.ts `move`), checked before anything is written
    const avg = this.basis === 'average';
    let nq = 0;
    let nc = 0;
    let rBase = 0;
    if (avg) {
      const P = base.qty;
      const C = base.cost;
      if (typeof P !== 'number' || typeof C !== 'number') return false;
      nq = P;
      nc = C;
      if (baseQ !== 0) {
        if (P === 0 || P > 0 === baseQ > 0) {
          nq = P + baseQ;
          nc = C + baseV;
        } else {
          const aq = baseQ < 0 ? -baseQ : baseQ;
          const ap = P < 0 ? -P : P;
          if (aq > ap) return false; // crosses zero: general path
          if (aq !== ap && !mulDivInto(C, aq, ap, sc, 4)) return false;
          const removed = aq === ap ? C : sc[4]!;
          rBase = -(baseV + removed) + 0;
          nq = P + baseQ;
          nc = nq === 0 ? 0 : C - removed;
        }
      }
      if (!(nq <= MAX && nq >= -MAX && nc <= MAX && nc >= -MAX)) return false;
    }
    // commit
    let r: Tick = fh === undefined ? 0 : move(fh, -fee, -feeV, this.basis);
    if (avg) {
      base.qty = nq;
      base.cost = nc;
      r = r === 0 ? rBase : add(r, rBase);
    } else r = add(r, move(base, baseQ, baseV, this.basis));
    base.pxNum = qq;
    base.pxDen = qty;
    quote.qty = nQ;
    const st = sym.stats;
    if (inWin) {
      this.trades++;
      this.volume.add(qq);
      this.fees.add(feeV);
      this.realized.add(r);
      if (st) {
        st.trades++;
        st.volume.add(qq);
        st.fees.add(feeV);
        st.realized.add(r);
      }
    }
    const t = sym.trip;
    const tq = t.qty;
    const tn = t.net;
    if (typeof r === 'number' && typeof tq === 'number' && typeof tn === 'number') {
      // `trip`, on doubles: still open on the same side
      const pnl = r - feeV;
      const after = tq + baseQ;
      const net = tq === 0 ? pnl : tn + pnl;
      if (tq !== 0 && after !== 0 && tq > 0 === after > 0 && net <= MAX && net >= -MAX) {
        t.qty = after;
        t.net = net;
        return true;
      }
    }
    this.trip(t, baseQ, typeof r === 'number' ? r - feeV : sub(r, feeV), inWin, st);
    return true;
  }

  private unpricedFill(inWin: boolean): void {
    if (inWin) this.unpricedFills++;
    else this.unpricedHistory++;
  }

  /** Round trips: the symbol's net position from its fills, flat to flat. */
  /** Adds one fill's volume, fee and realized PnL to the window totals (and its symbol's). */
  private book(v: Tick, feeV: Tick, r: Tick, st: SymStats | undefined): void {
    this.volume.add(v);
    this.fees.add(feeV);
    this.realized.add(r);
    if (st) {
      st.volume.add(v);
      st.fees.add(feeV);
      st.realized.add(r);
    }
  }

  private trip(t: Trip, dq: Tick, pnl: Tick, inWin: boolean, st: SymStats | undefined): void {
    const before = t.qty;
    if (typeof before === 'number' && typeof dq === 'number' && typeof pnl === 'number') {
      const net = t.net;
      const after = before + dq;
      const sum = before === 0 ? pnl : typeof net === 'number' ? net + pnl : NaN;
      // fast path: still open on the same side, everything a safe number
      if (
        before !== 0 &&
        after !== 0 &&
        before > 0 === after > 0 &&
        sum <= MAX &&
        sum >= -MAX &&
        after <= MAX &&
        after >= -MAX
      ) {
        t.qty = after;
        t.net = sum;
        return;
      }
    }
    const after = add(before, dq);
    t.qty = after;
    if (isZero(before)) {
      if (isZero(after)) return;
      t.net = pnl;
    } else t.net = add(t.net, pnl);
    if (isZero(after) || sign(after) !== sign(before)) {
      if (!isZero(before)) {
        if (inWin) this.closeTrip(t.net, st);
        t.net = 0;
      }
    }
  }

  private closeTrip(net: Tick, st: SymStats | undefined): void {
    this.roundTrips++;
    if (st) st.roundTrips++;
    if (net > 0) {
      this.wins++;
      this.winSum.add(net);
      if (st) st.wins++;
    } else if (net < 0) {
      this.losses++;
      this.lossSum.add(net);
      if (st) st.losses++;
    }
  }

  private futSym(f: FuturesFill): FutSym {
    let s = this.futures.get(f.symbol);
    const settle = f.settleAsset ?? f.quote;
    if (
      s === undefined ||
      s.base.asset !== f.base ||
      s.quote.asset !== f.quote ||
      s.settle.asset !== settle
    ) {
      s = {
        base: this.holding(f.base),
        quote: this.holding(f.quote),
        settle: this.holding(settle),
        pos: s?.pos ?? 0,
        entry: s?.entry ?? 0,
        pxNum: s?.pxNum ?? 0,
        pxDen: s?.pxDen ?? 0,
        trip: s?.trip ?? { qty: 0, net: 0 },
        stats: s?.stats ?? (this.bySymbol ? newStats() : undefined),
      };
      this.futures.set(f.symbol, s);
    }
    return s;
  }

  private futuresFill(f: FuturesFill, inWin: boolean): void {
    const ps = this.ps;
    const qty = parseTicks(f.qty, ps);
    const qq = parseTicks(f.quoteQty, ps);
    const fee = parseTicks(f.fee, ps);
    const rpIn = f.realizedPnl === undefined ? null : parseTicks(f.realizedPnl, ps);
    const sym = this.futSym(f);
    const st = sym.stats;
    if (inWin) {
      this.trades++;
      if (st) st.trades++;
    }
    const buy = f.side === 'buy';
    if (
      qty === undefined ||
      qq === undefined ||
      fee === undefined ||
      rpIn === undefined ||
      qty < 0 ||
      qq < 0 ||
      (!buy && f.side !== 'sell')
    ) {
      this.unpricedFill(inWin);
      return;
    }
    const quote = sym.quote;
    const pq = this.price(quote, f.ts);
    // the exchange's realizedPnl is in the settle asset; our own fallback figure in the quote
    const rh = rpIn === null ? quote : sym.settle;
    const pr = rh === quote ? pq : this.price(rh, f.ts);
    if (pq === undefined || pr === undefined) {
      this.unpricedFill(inWin);
      return;
    }
    const v = value(qq, pq);
    if (!isZero(qty)) {
      sym.pxNum = v;
      sym.pxDen = qty;
    }
    // position at the exchange's weighted-average entry
    const q = buy ? qty : neg(qty);
    const n = buy ? qq : neg(qq);
    const before = sym.pos;
    let computed: Tick = 0;
    if (isZero(before) || sign(before) === sign(q)) {
      sym.pos = add(before, q);
      sym.entry = add(sym.entry, n);
    } else {
      const aq = abs(q);
      const ap = abs(before);
      const closing = cmp(aq, ap) <= 0 ? aq : ap;
      const entryOut = cmp(closing, ap) === 0 ? sym.entry : mulDiv(sym.entry, closing, ap);
      const nClose = cmp(closing, aq) === 0 ? n : mulDiv(n, closing, aq);
      computed = neg(add(nClose, entryOut));
      sym.pos = add(before, q);
      sym.entry = isZero(sym.pos) ? 0 : sub(sym.entry, entryOut);
      if (cmp(aq, closing) > 0) sym.entry = add(sym.entry, sub(n, nClose));
    }
    // realized PnL: the exchange's when given, else our weighted-average figure
    const rp = rpIn ?? computed;
    const rv = value(rp, pr);
    let r: Tick = rv;
    if (rh.par) rh.qty = add(rh.qty, rp);
    else r = add(r, move(rh, rp, rv, this.basis));
    let feeV: Tick = 0;
    if (!isZero(fee)) {
      const fh = this.holding(f.feeAsset);
      const p = this.price(fh, f.ts);
      if (p === undefined) {
        if (inWin) this.unpricedFees++;
        else this.unpricedHistory++;
      } else {
        feeV = value(fee, p);
        r = add(r, move(fh, neg(fee), neg(feeV), this.basis));
      }
    }
    if (inWin) this.book(v, feeV, r, st);
    this.trip(sym.trip, q, sub(r, feeV), inWin, st);
  }

  // ── other events ──────────────────────────────────────────────────────────────────────

  private pnlEvent(e: FeeEvent | FundingEvent, inWin: boolean): void {
    const amt = parseTicks(e.amount, this.ps);
    const h = amt === undefined ? undefined : this.holding(e.asset);
    const p = h === undefined ? undefined : this.price(h, e.ts);
    if (amt === undefined || h === undefined || p === undefined) {
      if (!inWin) this.unpricedHistory++;
      else if (e.type === 'fee') this.unpricedFees++;
      else this.unpricedFunding++;
      return;
    }
    const sym =
      e.symbol === undefined ? undefined : (this.futures.get(e.symbol) ?? this.spot.get(e.symbol));
    const st = sym?.stats;
    if (e.type === 'fee') {
      const v = value(amt, p);
      const r = move(h, neg(amt), neg(v), this.basis);
      if (inWin) {
        this.fees.add(v);
        this.realized.add(r);
        if (st) {
          st.fees.add(v);
          st.realized.add(r);
        }
      }
      if (sym && !isZero(sym.trip.qty)) sym.trip.net = add(sym.trip.net, sub(r, v));
    } else {
      const v = value(amt, p);
      const r = move(h, amt, v, this.basis);
      if (inWin) {
        this.funding.add(v);
        this.realized.add(r);
        if (st) {
          st.funding.add(v);
          st.realized.add(r);
        }
      }
      if (sym && !isZero(sym.trip.qty)) sym.trip.net = add(sym.trip.net, add(r, v));
    }
  }

  private flowEvent(
    e: DepositEvent | WithdrawalEvent | TransferEvent | BalanceEvent,
    inWin: boolean,
  ): void {
    const amt = parseTicks(e.amount, this.ps);
    const h = amt === undefined ? undefined : this.holding(e.asset);
    const p = h === undefined ? undefined : this.price(h, e.ts);
    if (amt === undefined || h === undefined || p === undefined) {
      if (inWin) this.unpricedFlows++;
      else this.unpricedHistory++;
      return;
    }
    let q: Tick;
    switch (e.type) {
      case 'deposit':
        q = abs(amt);
        break;
      case 'withdrawal':
        q = neg(abs(amt));
        break;
      case 'transfer':
        q = amt;
        break;
      default:
        q = sub(amt, h.qty);
        if (isZero(q)) return;
        if (inWin) this.adjustments++;
    }
    if (isZero(q)) return;
    this.capital = true;
    const v = value(q, p);
    const r = move(h, q, v, this.basis);
    if (!inWin) return;
    this.realized.add(r);
    this.flows.add(v);
    if (v > 0) this.inflows.add(v);
    else this.outflows.add(neg(v));
    this.periodFlow = add(this.periodFlow, v);
  }

  // ── marks and periods ─────────────────────────────────────────────────────────────────

  /** Equity at ts: cash + holdings at their prices + futures unrealized. Sets uLast. */
  private mark(ts: number): Tick {
    let e: Tick = this.startCash;
    let u: Tick = 0;
    for (const h of this.holdings.values()) {
      if (isZero(h.qty)) continue;
      if (h.par) {
        e = add(e, h.qty);
        continue;
      }
      const mv = value(h.qty, this.markPrice(h, ts, h));
      e = add(e, mv);
      u = add(u, sub(mv, h.cost));
    }
    for (const s of this.futures.values()) {
      if (isZero(s.pos)) continue;
      const pb = this.markPrice(s.base, ts, s);
      const pq = this.markPrice(s.quote, ts, s.quote);
      const fu = sub(value(s.pos, pb), value(s.entry, pq));
      e = add(e, fu);
      u = add(u, fu);
    }
    this.uLast = u;
    return e;
  }

  /** The oracle's price, else the last known one (counted in unpriced_marks). */
  private markPrice(h: Holding, ts: number, fallback: Priced): Price {
    const p = this.price(h, ts);
    if (p !== undefined) return p;
    this.unpricedMarks++;
    const fb = isZero(fallback.pxDen) ? lastKnown(h) : { num: fallback.pxNum, den: fallback.pxDen };
    return fb ?? { num: 0, den: 1 };
  }

  private startWindow(): void {
    this.started = true;
    const e = this.mark(this.from);
    this.capitalAtStart = this.capital;
    this.ePrev = e;
    this.eStart = e;
    this.uStart = this.uLast;
  }

  private closePeriod(): void {
    const e = this.mark(this.nextBoundary);
    const k = this.k;
    // Without a capital base the equity curve is cumulative PnL: no return can be defined on it.
    this.base[k] = this.capitalAtStart ? toNumber(this.ePrev) : NaN;
    this.capitalAtStart = this.capital;
    this.dayPnl[k] = toNumber(sub(sub(e, this.periodFlow), this.ePrev));
    this.dayFlow[k] = toNumber(this.periodFlow);
    this.dayEquity[k] = toNumber(e);
    this.ePrev = e;
    this.periodFlow = 0;
    this.k = k + 1;
    this.nextBoundary = Math.min(this.dayStart + (k + 2) * DAY_MS, this.to + 1);
  }

  /** Closes the stream and computes every metric. The engine cannot be used afterwards. */
  finish(): Metrics {
    if (this.done) throw new MetricsError('ERR_METRICS_FINISHED');
    this.flushGroup();
    this.done = true;
    if (!this.started) this.startWindow();
    while (this.k < this.days) this.closePeriod();

    const r = new Float64Array(this.days);
    let n = 0;
    for (let i = 0; i < this.days; i++) {
      const b = this.base[i]!;
      if (b > 0) r[n++] = this.dayPnl[i]! / b;
    }
    const rm = metricsFromReturns(r.subarray(0, n), this.annualization);
    const eEnd = this.ePrev;
    const flows = this.flows.value;
    const wins = this.winSum.value;
    const losses = this.lossSum.value;
    const cur = this.currency;
    const parList = [...this.parSet].filter((a) => a !== cur);
    const assumptions = [
      `reporting currency ${cur}${parList.length > 0 ? `; ${parList.join(', ')} valued at exactly 1 ${cur}` : ''}`,
      this.oracle
        ? 'every other asset valued by the price oracle at each event’s own time and at each 00:00 UTC mark'
        : 'no price oracle: an asset is valued at the last price of the account’s own fills (v1 rule)',
      `spot cost basis: ${this.basis === 'average' ? 'average cost' : 'FIFO'}; futures: the exchange’s realizedPnl, linear contracts marked at the base asset’s price`,
      `daily time-weighted returns on 00:00 UTC marks, external flows at end of day; N=${this.annualization}, ddof=1, rf=0, MAR=0`,
    ];
    const { periods: _periods, ...ratios } = rm;
    void _periods;
    const out: Metrics = {
      pnl: toNumber(sub(sub(eEnd, this.eStart), flows)),
      realized_pnl: toNumber(this.realized.value),
      unrealized_pnl: toNumber(sub(this.uLast, this.uStart)),
      unrealized_pnl_end: toNumber(this.uLast),
      fees: toNumber(this.fees.value),
      funding: toNumber(this.funding.value),
      volume: toNumber(this.volume.value),
      trades: this.trades,
      round_trips: this.roundTrips,
      wins: this.wins,
      losses: this.losses,
      win_rate: this.wins + this.losses > 0 ? this.wins / (this.wins + this.losses) : null,
      profit_factor: this.losses > 0 ? toNumber(wins) / -toNumber(losses) : null,
      avg_win: this.wins > 0 ? toNumber(wins) / this.wins : null,
      avg_loss: this.losses > 0 ? toNumber(losses) / this.losses : null,
      net_flows: toNumber(flows),
      inflows: toNumber(this.inflows.value),
      outflows: toNumber(this.outflows.value),
      start_equity: toNumber(this.eStart),
      end_equity: toNumber(eEnd),
      return_days: n,
      ...ratios,
      days: this.days,
      from: this.from,
      to: this.to,
      currency: cur,
      cost_basis: this.basis,
      unpriced_fills: this.unpricedFills,
      unpriced_fees: this.unpricedFees,
      unpriced_funding: this.unpricedFunding,
      unpriced_flows: this.unpricedFlows,
      unpriced_marks: this.unpricedMarks,
      unpriced_history: this.unpricedHistory,
      balance_adjustments: this.adjustments,
      rounded_amounts: this.ps.rounded,
      assumptions,
    };
    if (this.bySymbol) out.symbols = this.symbolBreakdown();
    if (this.dailySeries) out.daily = this.dailyPoints();
    return out;
  }

  private dailyPoints(): DailyPoint[] {
    const out: DailyPoint[] = [];
    for (let k = 0; k < this.days; k++) {
      const start = this.dayStart + k * DAY_MS;
      const b = this.base[k]!;
      out.push({
        date: new Date(start).toISOString().slice(0, 10),
        close: Math.min(start + DAY_MS, this.to + 1),
        equity: this.dayEquity[k]!,
        flows: this.dayFlow[k]!,
        pnl: this.dayPnl[k]!,
        return: b > 0 ? this.dayPnl[k]! / b : null,
      });
    }
    return out;
  }

  private symbolBreakdown(): SymbolMetrics[] {
    const rows: SymbolMetrics[] = [];
    const row = (symbol: string, market: 'spot' | 'futures', s: SymStats): SymbolMetrics => ({
      symbol,
      market,
      trades: s.trades,
      volume: toNumber(s.volume.value),
      fees: toNumber(s.fees.value),
      realized_pnl: toNumber(s.realized.value),
      funding: toNumber(s.funding.value),
      round_trips: s.roundTrips,
      wins: s.wins,
      losses: s.losses,
    });
    for (const [k, s] of this.spot) if (s.stats) rows.push(row(k, 'spot', s.stats));
    for (const [k, s] of this.futures) if (s.stats) rows.push(row(k, 'futures', s.stats));
    return rows.sort((a, b) =>
      a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : a.market < b.market ? -1 : 1,
    );
  }
}

function lastKnown(h: Priced): Price | undefined {
  return isZero(h.pxDen) ? undefined : { num: h.pxNum, den: h.pxDen };
}
