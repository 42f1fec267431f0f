/**
 * Generates one simulated account: fills at the market's price, and the deposits and withdrawals
 * that fund it. Everything is booked in one time-ordered pass with balance checks, so the
 * account's balances are exactly Σ credited deposits − Σ (withdrawn + fee) + Σ fills − Σ fees,
 * and no balance is ever negative in time order.
 */
import { SYMBOLS, type SimSymbol, type SimTrade } from './binance-data.js';
import {
  FLOW_ASSETS,
  WITHDRAW_FEE_E8,
  creditsSpot,
  debitsSpot,
  depositAmountE8,
  depositRow,
  withdrawalRow,
  type SimDeposit,
  type SimWithdrawal,
} from './binance-flows.js';
import { FILL_SPREAD_TICKS } from './binance-market.js';
import { DAY, E8, HOUR, fmt8, fmtTrim, prng } from './binance-prim.js';

/** What the generator needs from the market: the path price and BREAK halts. */
export interface MarketView {
  /** price of `symbol` in ticks at `t`; throws outside its path (a generator bug) */
  ticks(symbol: string, t: number): number;
  halt(symbol: string): number | undefined;
}

export interface GenerateOptions {
  seed: number;
  /** ordinary fills */
  fills: number;
  /** fills of the single same-millisecond market order (0 = none) */
  burst: number;
  symbols: readonly SimSymbol[];
  /** data ends here (ms, a UTC midnight) and spans `days` before it */
  end: number;
  days: number;
  market: MarketView;
}

export interface GeneratedAccount {
  trades: SimTrade[];
  deposits: SimDeposit[];
  withdrawals: SimWithdrawal[];
  /** asset → balance in e8 */
  balances: Map<string, bigint>;
  uid: number;
  updateTime: number;
}

type Planned =
  | {
      kind: 'order';
      time: number;
      sym: SimSymbol;
      fills: number;
      burst: boolean;
      closeOut: boolean;
    }
  | {
      kind: 'deposit';
      time: number;
      status: number;
      walletType: number;
      asset?: string;
      amountE8?: bigint;
    }
  | { kind: 'withdrawal'; time: number; status: number };

/** The account is funded by deposits just before its history starts, never out of thin air. */
const INITIAL: readonly [string, bigint][] = [
  ['USDT', 2_000_000n * E8],
  ['BTC', 2n * E8],
  ['BNB', 25n * E8],
];

const nextSecond = (t: number) => Math.ceil(t / 1000) * 1000;

function shuffled<T>(xs: readonly T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Ids are per symbol and rise with time; gaps between orders stand for other users' trades.
 * Halted (BREAK) symbols trade only early and are closed out before their halt, leaving no
 * balance trace: the case that forces a client to scan every symbol.
 */
export function generateAccount(o: GenerateOptions): GeneratedAccount {
  const rnd = prng(o.seed);
  const start = o.end - o.days * DAY;
  const breakEnd = (s: SimSymbol) =>
    Math.min(start + Math.floor(o.days / 3) * DAY, (o.market.halt(s.symbol) ?? Infinity) - 2 * DAY);
  const symbols = o.symbols.filter((s) => s.status !== 'BREAK' || breakEnd(s) > start + DAY);
  const inWindow = () => start + Math.floor(rnd() * (o.days * DAY - HOUR));

  const plan: Planned[] = [];
  for (let left = symbols.length > 0 ? o.fills : 0; left > 0;) {
    const sym = symbols[Math.floor(rnd() * symbols.length)]!;
    const n = Math.min(left, 1 + Math.floor(rnd() * 4));
    const span = sym.status === 'BREAK' ? breakEnd(sym) - start : (o.days - 1) * DAY;
    plan.push({
      kind: 'order',
      time: start + Math.floor(rnd() * span),
      sym,
      fills: n,
      burst: false,
      closeOut: false,
    });
    left -= n;
  }
  for (const sym of symbols) {
    if (sym.status === 'BREAK')
      plan.push({
        kind: 'order',
        time: breakEnd(sym) + DAY,
        sym,
        fills: 1,
        burst: false,
        closeOut: true,
      });
  }
  const burstSym = symbols.find((s) => s.status !== 'BREAK');
  if (o.burst > 0 && burstSym) {
    const time = start + Math.floor(o.days / 2) * DAY + 12_345;
    plan.push({ kind: 'order', time, sym: burstSym, fills: o.burst, burst: true, closeOut: false });
  }
  INITIAL.forEach(([asset, amountE8], i) =>
    plan.push({
      kind: 'deposit',
      time: start - HOUR + i * 1000,
      status: 1,
      walletType: 0,
      asset,
      amountE8,
    }),
  );
  const extraDeposits = 2 + Math.floor(rnd() * 2);
  for (let i = 0; i < extraDeposits; i++)
    plan.push({ kind: 'deposit', time: inWindow(), status: i === 0 ? 6 : 1, walletType: 0 });
  // rows a client must not count: never credited, or credited to the funding wallet, not spot
  plan.push({ kind: 'deposit', time: inWindow(), status: rnd() < 0.5 ? 0 : 7, walletType: 0 });
  plan.push({ kind: 'deposit', time: inWindow(), status: 1, walletType: 1 });
  const withdrawals = 2 + Math.floor(rnd() * 2);
  for (let i = 0; i < withdrawals; i++)
    plan.push({ kind: 'withdrawal', time: inWindow(), status: 6 });
  plan.push({ kind: 'withdrawal', time: inWindow(), status: [1, 3, 5][Math.floor(rnd() * 3)]! });
  plan.sort((a, b) => a.time - b.time);

  const out: GeneratedAccount = {
    trades: [],
    deposits: [],
    withdrawals: [],
    balances: new Map(),
    uid: 0,
    updateTime: start,
  };
  const bal = (a: string) => out.balances.get(a) ?? 0n;
  const add = (a: string, v: bigint) => out.balances.set(a, bal(a) + v);
  const state = new Map<string, { nextId: number; nextOrder: number; pos: bigint }>();
  for (const s of symbols) {
    state.set(s.symbol, {
      nextId: 1_000_000 + Math.floor(rnd() * 50_000_000),
      nextOrder: 5_000_000 + Math.floor(rnd() * 50_000_000),
      pos: 0n,
    });
  }
  const priceE8 = (symbol: string, t: number) =>
    BigInt(o.market.ticks(symbol, t)) * SYMBOLS.find((s) => s.symbol === symbol)!.tickE8;
  /** 0.075 % (Binance's 25 % discount for paying in BNB), converted at the BNB price of the moment */
  const bnbFee = (quoteQty: bigint, quote: string, t: number): bigint => {
    const quoteInUsdt = quote === 'USDT' ? E8 : quote === 'BTC' ? priceE8('BTCUSDT', t) : 0n;
    return (quoteQty * 75n * quoteInUsdt) / (100_000n * priceE8('BNBUSDT', t));
  };

  // Time never goes back across the whole account, so generation order is time order and every
  // balance check above holds when the history is replayed by timestamp.
  let last = start - DAY;
  let seq = 0;
  for (const ev of plan) {
    if (ev.kind === 'deposit') {
      const t = nextSecond(Math.max(ev.time, last + 1));
      const asset = ev.asset ?? FLOW_ASSETS[Math.floor(rnd() * FLOW_ASSETS.length)]!;
      const amount = ev.amountE8 ?? depositAmountE8(rnd, asset);
      const row = depositRow(rnd, seq++, asset, amount, t, ev.status, ev.walletType);
      if (creditsSpot(row)) add(asset, amount);
      out.deposits.push(row);
      out.updateTime = t;
      last = t + 1;
      continue;
    }
    if (ev.kind === 'withdrawal') {
      const t = nextSecond(Math.max(ev.time, last + 1));
      const asset = shuffled(FLOW_ASSETS, rnd).find((a) => bal(a) >= 50n * WITHDRAW_FEE_E8[a]!);
      if (asset === undefined) continue;
      const pct = BigInt(5 + Math.floor(rnd() * 21));
      const amount = ((bal(asset) * pct) / 100n / 100n) * 100n; // 1e-6 precision, ≤ 25 %
      if (amount === 0n) continue;
      const row = withdrawalRow(rnd, seq++, asset, amount, t, ev.status);
      if (debitsSpot(row)) add(asset, -(amount + WITHDRAW_FEE_E8[asset]!));
      out.withdrawals.push(row);
      out.updateTime = t;
      last = t + 1;
      continue;
    }
    const { sym } = ev;
    const st = state.get(sym.symbol)!;
    st.nextId += 1 + Math.floor(rnd() * 5_000);
    const orderId = (st.nextOrder += 1 + Math.floor(rnd() * 20_000));
    let isBuyer = ev.burst || st.pos === 0n || (!ev.closeOut && rnd() < 0.55);
    if (ev.closeOut) isBuyer = false;
    const isMaker = !ev.burst && !ev.closeOut && rnd() < 0.4;
    const feeInBnb = !ev.burst && rnd() < 0.25;
    const offset = Math.floor(rnd() * (2 * FILL_SPREAD_TICKS + 1)) - FILL_SPREAD_TICKS;
    for (let f = 0; f < ev.fills; f++) {
      // fills of one order land in the same or the next few milliseconds, the burst in exactly one
      const time = Math.max(last, ev.burst ? ev.time : ev.time + Math.floor(f / 2));
      // at the path price ± 2 ticks; the burst sweeps 0 → +2 ticks up the book
      const step = ev.burst ? Math.floor((f * (FILL_SPREAD_TICKS + 1)) / ev.fills) : offset;
      const price = BigInt(o.market.ticks(sym.symbol, time) + step) * sym.tickE8;
      let qty = ev.burst
        ? sym.stepE8 * 10n
        : BigInt(1 + Math.floor(rnd() * sym.sizeSteps)) * sym.stepE8;
      if (!isBuyer) {
        // never sell more than this symbol bought, nor more than is held (withdrawals), on-step
        const held = bal(sym.base) < st.pos ? bal(sym.base) : st.pos;
        const cap = held - (held % sym.stepE8);
        qty = ev.closeOut || qty > cap ? cap : qty;
      }
      if (qty <= 0n) break;
      const quoteQty = (price * qty) / E8;
      let feeAsset = sym.quote;
      let fee = quoteQty / 1000n; // 0.1 % taker/maker, truncated to 8 dp
      if (feeInBnb) {
        const inBnb = bnbFee(quoteQty, sym.quote, time);
        if (inBnb > 0n && bal('BNB') >= inBnb) [feeAsset, fee] = ['BNB', inBnb];
      }
      if (isBuyer && bal(sym.quote) < quoteQty + (feeAsset === sym.quote ? fee : 0n)) break; // never overdraw
      add(sym.base, isBuyer ? qty : -qty);
      add(sym.quote, isBuyer ? -quoteQty : quoteQty);
      add(feeAsset, -fee);
      st.pos += isBuyer ? qty : -qty;
      last = out.updateTime = time;
      out.trades.push({
        symbol: sym.symbol,
        id: st.nextId++,
        orderId,
        orderListId: -1,
        price: fmt8(price),
        qty: fmt8(qty),
        quoteQty: fmtTrim(quoteQty),
        commission: fmt8(fee),
        commissionAsset: feeAsset,
        time,
        isBuyer,
        isMaker,
        isBestMatch: true,
      });
    }
  }
  out.uid = 100_000_000 + Math.floor(rnd() * 800_000_000);
  return out;
}
