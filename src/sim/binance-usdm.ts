/**
 * The simulator's Binance USDⓈ-M futures account (one-way mode, cross margin) and its signed
 * endpoints: GET /fapi/v1/userTrades, /fapi/v1/income, /fapi/v2/balance, /fapi/v2/positionRisk,
 * and the public /fapi/v1/exchangeInfo (developers.binance.com/docs/derivatives/usds-margined-
 * futures: "Account Trade List", "Get Income History", "Futures Account Balance V2", "Position
 * Information V2"; research/exchanges.md §4 "Binance USD-M futures specifics").
 *
 * The exchange's own bookkeeping is reproduced: each fill carries the gross `realizedPnl` of the
 * part that reduced the position (against the weighted-average entry) and its `commission`
 * (USDT, or BNB at a 10 % discount); the income ledger has a REALIZED_PNL and a COMMISSION row per
 * fill, FUNDING_FEE every 8 h per open position, and TRANSFER rows from/to spot. The wallet
 * balance is exactly Σ transfers + Σ realizedPnl − Σ commission + Σ funding, per asset.
 */
import { bad, intParam, mandatory } from './binance-http.js';
import { DAY, E8, HOUR, fmt8, prng } from './binance-prim.js';

/** Listed perpetuals; LUNAUSDT is traded by accounts but delisted (absent from exchangeInfo). */
export const USDM_LISTED = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT'] as const;
export const USDM_DELISTED = 'LUNAUSDT';
const BASE: Record<string, string> = {
  BTCUSDT: 'BTC',
  ETHUSDT: 'ETH',
  BNBUSDT: 'BNB',
  SOLUSDT: 'SOL',
  LUNAUSDT: 'LUNA',
};
/** quantity step per symbol, e8 */
const STEP: Record<string, bigint> = {
  BTCUSDT: 100_000n,
  ETHUSDT: 1_000_000n,
  BNBUSDT: 1_000_000n,
  SOLUSDT: 1_000_000n,
  LUNAUSDT: 100_000_000n,
};
/** userTrades reach back 6 months, income 3 months (research §4). */
export const USDM_TRADES_HORIZON_MS = 180 * DAY;
export const USDM_INCOME_HORIZON_MS = 90 * DAY;
const WINDOW_MS = 7 * DAY;

export interface UsdmSpec {
  /** ordinary fills (default 300) */
  fills?: number;
  /** fills of one market order in one millisecond (default 0) */
  burst?: number;
  /** days of history before the sim's current UTC day (default 60, at most 85) */
  days?: number;
  /** a stretch with no fills at all, in days (default 0) */
  gapDays?: number;
  /** a quarter of orders pay commission in BNB (default true) */
  bnbFees?: boolean;
  /** also trade LUNAUSDT, which is no longer listed (default false) */
  delisted?: boolean;
  /**
   * a `fromId` before the oldest trade the exchange keeps answers nothing (the docs do not say
   * what it does; by default it answers from the oldest kept trade, as research §2.3's fake)
   */
  strictFromId?: boolean;
}

export interface UsdmTrade {
  buyer: boolean;
  commission: string;
  commissionAsset: string;
  id: number;
  maker: boolean;
  orderId: number;
  price: string;
  qty: string;
  quoteQty: string;
  realizedPnl: string;
  side: 'BUY' | 'SELL';
  positionSide: 'BOTH';
  symbol: string;
  time: number;
}

export interface UsdmIncome {
  symbol: string;
  incomeType: 'TRANSFER' | 'REALIZED_PNL' | 'COMMISSION' | 'FUNDING_FEE';
  income: string;
  asset: string;
  info: string;
  time: number;
  tranId: number;
  tradeId: string;
}

export interface UsdmAccount {
  strictFromId: boolean;
  trades: Map<string, UsdmTrade[]>;
  /** oldest first */
  income: UsdmIncome[];
  /** asset → wallet balance, e8 */
  wallet: Map<string, bigint>;
  /** symbol → [signed position qty e8, entry price e8] */
  positions: Map<string, [bigint, bigint]>;
}

/** The market price of `symbol` in e8 at `t` (the spot path; throws outside it). */
export type PriceAt = (symbol: string, t: number) => bigint;

export function generateUsdm(
  seed: number,
  spec: UsdmSpec,
  end: number,
  priceAt: PriceAt,
  halt: (symbol: string) => number | undefined,
): UsdmAccount {
  const rnd = prng(seed ^ 0x2545f491);
  const days = spec.days ?? 60;
  const start = end - days * DAY;
  const gap = spec.gapDays ?? 0;
  const gapFrom = start + Math.floor(days / 3) * DAY;
  const gapTo = gapFrom + gap * DAY;
  const symbols: string[] = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
  if (spec.delisted) symbols.push(USDM_DELISTED);
  const lastTrade = (s: string) => Math.min(end - 2 * HOUR, (halt(s) ?? Infinity) - 2 * DAY);

  const acct: UsdmAccount = {
    strictFromId: spec.strictFromId ?? false,
    trades: new Map(),
    income: [],
    wallet: new Map(),
    positions: new Map(),
  };
  let tranId = 9_000_000_000 + Math.floor(rnd() * 1_000_000);
  const credit = (asset: string, v: bigint) =>
    acct.wallet.set(asset, (acct.wallet.get(asset) ?? 0n) + v);
  const income = (
    symbol: string,
    incomeType: UsdmIncome['incomeType'],
    amount: bigint,
    asset: string,
    time: number,
    tradeId = '',
  ) => {
    credit(asset, amount);
    acct.income.push({
      symbol,
      incomeType,
      income: fmt8(amount),
      asset,
      info: incomeType,
      time,
      tranId: tranId++,
      tradeId,
    });
  };

  type Ev = {
    t: number;
    kind: 'order' | 'burst' | 'funding' | 'transfer';
    sym?: string;
    n?: number;
    amount?: bigint;
    asset?: string;
  };
  const evs: Ev[] = [];
  evs.push({ t: start - HOUR, kind: 'transfer', amount: 500_000n * E8, asset: 'USDT' });
  if (spec.bnbFees ?? true)
    evs.push({ t: start - HOUR + 1000, kind: 'transfer', amount: 20n * E8, asset: 'BNB' });
  evs.push({
    t: start + Math.floor(days / 2) * DAY + 7 * HOUR,
    kind: 'transfer',
    amount: -25_000n * E8,
    asset: 'USDT',
  });
  evs.push({
    t: start + Math.floor((2 * days) / 3) * DAY + 3 * HOUR,
    kind: 'transfer',
    amount: 40_000n * E8,
    asset: 'USDT',
  });
  for (let left = spec.fills ?? 300; left > 0;) {
    const sym = symbols[Math.floor(rnd() * symbols.length)]!;
    const span = lastTrade(sym) - start;
    if (span <= DAY) continue;
    let t = start + Math.floor(rnd() * span);
    if (t >= gapFrom && t < gapTo) t = gapTo + (t - gapFrom) / 4; // pushed past the gap
    if (t > lastTrade(sym)) continue;
    const n = Math.min(left, 1 + Math.floor(rnd() * 4));
    evs.push({ t: Math.floor(t), kind: 'order', sym, n });
    left -= n;
  }
  if ((spec.burst ?? 0) > 0)
    evs.push({
      t: start + Math.floor(days / 2) * DAY + 12_345,
      kind: 'burst',
      sym: 'BTCUSDT',
      n: spec.burst!,
    });
  for (let t = Math.ceil(start / (8 * HOUR)) * 8 * HOUR; t < end; t += 8 * HOUR)
    evs.push({ t, kind: 'funding' });
  evs.sort((a, b) => a.t - b.t || (a.kind === 'funding' ? -1 : b.kind === 'funding' ? 1 : 0));

  const ids = new Map<string, { id: number; order: number }>();
  for (const s of symbols)
    ids.set(s, {
      id: 50_000_000 + Math.floor(rnd() * 9_000_000),
      order: 3_000_000_000 + Math.floor(rnd() * 1e8),
    });
  let last = start - DAY;
  for (const ev of evs) {
    if (ev.kind === 'transfer') {
      income('', 'TRANSFER', ev.amount!, ev.asset!, ev.t);
      continue;
    }
    if (ev.kind === 'funding') {
      for (const [sym, [pos]] of acct.positions) {
        if (pos === 0n || (halt(sym) ?? Infinity) <= ev.t) continue;
        const rate = BigInt(Math.floor(rnd() * 800) - 300); // −0.03 % … +0.05 %, in 1e-6
        const notional = (pos * priceAt(sym, ev.t)) / E8;
        const fee = -(notional * rate) / 1_000_000n; // longs pay a positive rate
        if (fee !== 0n) income(sym, 'FUNDING_FEE', fee, 'USDT', ev.t);
      }
      continue;
    }
    const sym = ev.sym!;
    const st = ids.get(sym)!;
    const orderId = (st.order += 1 + Math.floor(rnd() * 1000));
    st.id += 1 + Math.floor(rnd() * 3000);
    const [pos0] = acct.positions.get(sym) ?? [0n, 0n];
    // reduce a big position more often than not, so round trips close
    const buy =
      ev.kind === 'burst'
        ? true
        : pos0 === 0n
          ? rnd() < 0.5
          : pos0 > 0n
            ? rnd() < 0.35
            : rnd() < 0.65;
    const maker = ev.kind !== 'burst' && rnd() < 0.4;
    const inBnb = ev.kind !== 'burst' && (spec.bnbFees ?? true) && rnd() < 0.25;
    const time0 = Math.max(ev.t, last);
    for (let f = 0; f < ev.n!; f++) {
      const time = ev.kind === 'burst' ? time0 : time0 + Math.floor(f / 2);
      const price = priceAt(sym, time) + (ev.kind === 'burst' ? BigInt(f % 7) * 1_000_000n : 0n);
      const qty = STEP[sym]! * BigInt(ev.kind === 'burst' ? 1 : 1 + Math.floor(rnd() * 40));
      const [pos, entry] = acct.positions.get(sym) ?? [0n, 0n];
      const signed = buy ? qty : -qty;
      let realized = 0n;
      let newEntry = entry;
      if (pos !== 0n && pos > 0n !== buy) {
        const closed = (pos > 0n ? pos : -pos) < qty ? (pos > 0n ? pos : -pos) : qty;
        realized = ((price - entry) * closed * (pos > 0n ? 1n : -1n)) / E8;
        if (closed < qty) newEntry = price; // flipped: the rest opens at this price
      } else {
        const a = pos > 0n ? pos : -pos;
        newEntry = (a * entry + qty * price) / (a + qty);
      }
      const next = pos + signed;
      acct.positions.set(sym, [next, next === 0n ? 0n : newEntry]);
      const quoteQty = (price * qty) / E8;
      let fee = (quoteQty * (maker ? 2n : 4n)) / 10_000n;
      let feeAsset = 'USDT';
      if (inBnb) {
        fee = (fee * 9n * E8) / (10n * priceAt('BNBUSDT', time));
        feeAsset = 'BNB';
      }
      const id = st.id++;
      let list = acct.trades.get(sym);
      if (!list) acct.trades.set(sym, (list = []));
      list.push({
        buyer: buy,
        commission: fmt8(fee),
        commissionAsset: feeAsset,
        id,
        maker,
        orderId,
        price: fmt8(price),
        qty: fmt8(qty),
        quoteQty: fmt8(quoteQty),
        realizedPnl: fmt8(realized),
        side: buy ? 'BUY' : 'SELL',
        positionSide: 'BOTH',
        symbol: sym,
        time,
      });
      if (realized !== 0n) income(sym, 'REALIZED_PNL', realized, 'USDT', time, String(id));
      income(sym, 'COMMISSION', -fee, feeAsset, time, String(id));
      last = time;
    }
  }
  return acct;
}

/** GET /fapi/v1/exchangeInfo: only the fields a client reads; delisted symbols are gone. */
export function usdmExchangeInfo(limit: number, now: number): unknown {
  return {
    timezone: 'UTC',
    serverTime: now,
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
    ],
    assets: [
      { asset: 'USDT', marginAvailable: true },
      { asset: 'BNB', marginAvailable: true },
    ],
    symbols: USDM_LISTED.map((symbol) => ({
      symbol,
      pair: symbol,
      contractType: 'PERPETUAL',
      status: 'TRADING',
      baseAsset: BASE[symbol],
      quoteAsset: 'USDT',
      marginAsset: 'USDT',
      underlyingType: 'COIN',
    })),
  };
}

function window(p: Map<string, string>, now: number, horizon: number): [number, number] {
  const s = intParam(p, 'startTime');
  const e = intParam(p, 'endTime');
  if (s !== undefined && e !== undefined && e < s) throw bad(-1127, 'startTime is after endTime.');
  if (s !== undefined && e !== undefined && e - s > WINDOW_MS)
    throw bad(-1127, 'More than 7 days between startTime and endTime.');
  const [from, to] =
    s !== undefined
      ? [s, e ?? s + WINDOW_MS]
      : e !== undefined
        ? [e - WINDOW_MS, e]
        : [now - WINDOW_MS, now];
  return [Math.max(from, now - horizon), to];
}

function limit(p: Map<string, string>, def: number): number {
  const l = intParam(p, 'limit') ?? def;
  if (l < 1 || l > 1000) throw bad(-1130, "Data sent for parameter 'limit' is not valid.");
  return l;
}

/** GET /fapi/v1/userTrades: per symbol; `fromId` or a ≤ 7-day window; 6 months back. */
export function userTrades(
  a: UsdmAccount,
  p: Map<string, string>,
  now: number,
  overlap: boolean,
): UsdmTrade[] {
  const symbol = p.get('symbol');
  if (symbol === undefined || symbol === '') throw mandatory('symbol');
  const lim = limit(p, 500);
  const fromId = intParam(p, 'fromId');
  if (fromId !== undefined && (p.has('startTime') || p.has('endTime')))
    throw bad(-1128, 'Combination of optional parameters invalid.');
  const rows = (a.trades.get(symbol) ?? []).filter((t) => t.time >= now - USDM_TRADES_HORIZON_MS);
  if (fromId !== undefined) {
    if (a.strictFromId && rows.length > 0 && fromId < rows[0]!.id) return [];
    const page = rows.filter((t) => t.id >= fromId).slice(0, lim);
    const before = rows.filter((t) => t.id < fromId).at(-1);
    return overlap && before && page.length > 0 ? [before, ...page.slice(0, lim - 1)] : page;
  }
  const [from, to] = window(p, now, USDM_TRADES_HORIZON_MS);
  return rows.filter((t) => t.time >= from && t.time <= to).slice(0, lim);
}

/** GET /fapi/v1/income: oldest first within a ≤ 7-day window, 3 months back; limit ≤ 1000. */
export function incomeHistory(a: UsdmAccount, p: Map<string, string>, now: number): UsdmIncome[] {
  const lim = limit(p, 100);
  const type = p.get('incomeType');
  const symbol = p.get('symbol');
  const [from, to] = window(p, now, USDM_INCOME_HORIZON_MS);
  return a.income
    .filter(
      (r) =>
        r.time >= from &&
        r.time <= to &&
        (type === undefined || r.incomeType === type) &&
        (symbol === undefined || r.symbol === symbol),
    )
    .slice(0, lim);
}

/** GET /fapi/v2/balance: wallet balance per asset (unrealized PnL is reported apart). */
export function usdmBalance(a: UsdmAccount, now: number): unknown {
  return ['USDT', 'BNB', 'USDC'].map((asset) => {
    const b = fmt8(a.wallet.get(asset) ?? 0n);
    return {
      accountAlias: 'SgsR',
      asset,
      balance: b,
      crossWalletBalance: b,
      crossUnPnl: '0.00000000',
      availableBalance: b,
      maxWithdrawAmount: b,
      marginAvailable: true,
      updateTime: now,
    };
  });
}

/** GET /fapi/v2/positionRisk: every symbol with a non-zero position. */
export function positionRisk(a: UsdmAccount, priceAt: PriceAt, now: number): unknown {
  return [...a.positions]
    .filter(([, [q]]) => q !== 0n)
    .map(([symbol, [q, entry]]) => {
      let mark: bigint;
      try {
        mark = priceAt(symbol, now);
      } catch {
        mark = entry; // a halted market keeps its last price
      }
      return {
        symbol,
        positionAmt: fmt8(q),
        entryPrice: fmt8(entry),
        markPrice: fmt8(mark),
        unRealizedProfit: fmt8(((mark - entry) * q) / E8),
        positionSide: 'BOTH',
        marginType: 'cross',
        updateTime: now,
      };
    });
}
