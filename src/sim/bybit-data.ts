/**
 * Generates one simulated Bybit UTA account: spot fills, linear and inverse round trips (with
 * liquidation, ADL and delivery closes), funding every 8 h while a position is open, closed-PnL
 * records, deposits and withdrawals, and the wallet balances they add up to. Deterministic for a
 * seed. Amounts are BigInt counts of 1e-10 (sim-http.ts), printed exactly.
 *
 * Row shapes follow the recorded responses (../shared/vectors/exchanges/
 * ccxt_static_response_bybit.json) and execution.mdx / close-pnl.mdx.
 */
import { DAY, HOUR, hex, prng } from './binance-prim.js';
import { E10, fmt10, mulRound } from './sim-http.js';

export type Category = 'spot' | 'linear' | 'inverse';

export interface SimExecution {
  category: Category;
  symbol: string;
  execId: string;
  orderId: string;
  orderLinkId: string;
  side: 'Buy' | 'Sell';
  execPrice: string;
  execQty: string;
  execValue: string;
  execFee: string;
  feeCurrency: string;
  feeRate: string;
  isMaker: boolean;
  execType: string;
  closedSize: string;
  execTime: string;
  orderType: 'Market' | 'Limit' | 'UNKNOWN';
  orderQty: string;
  orderPrice: string;
  leavesQty: string;
  markPrice: string;
  seq: number;
}

export interface SimClosedPnl {
  category: 'linear' | 'inverse';
  symbol: string;
  orderId: string;
  side: 'Buy' | 'Sell';
  qty: string;
  orderPrice: string;
  orderType: 'Market';
  execType: string;
  closedSize: string;
  cumEntryValue: string;
  avgEntryPrice: string;
  cumExitValue: string;
  avgExitPrice: string;
  closedPnl: string;
  fillCount: string;
  leverage: string;
  openFee: string;
  closeFee: string;
  createdTime: string;
  updatedTime: string;
}

export interface SimBybitDeposit {
  id: string;
  coin: string;
  chain: string;
  amount: string;
  txID: string;
  status: number;
  toAddress: string;
  tag: string;
  depositFee: string;
  successAt: string;
  confirmations: string;
  txIndex: string;
  blockHash: string;
  depositType: string;
}

export interface SimBybitWithdrawal {
  withdrawId: string;
  txID: string;
  withdrawType: number;
  coin: string;
  chain: string;
  amount: string;
  withdrawFee: string;
  status: string;
  toAddress: string;
  tag: string;
  createTime: string;
  updateTime: string;
}

export interface BybitGenOptions {
  seed: number;
  spotFills: number;
  trips: number;
  /** fills of one linear order that share one millisecond (0 = none) */
  burst: number;
  /** history ends here (ms) and spans `days` before it */
  end: number;
  days: number;
  /** a stretch of `gapDays` with no activity at all, in the middle of the history */
  gapDays: number;
}

export interface BybitAccountData {
  executions: SimExecution[];
  closedPnl: SimClosedPnl[];
  deposits: SimBybitDeposit[];
  withdrawals: SimBybitWithdrawal[];
  /** coin → wallet balance (1e-10) */
  balances: Map<string, bigint>;
}

/** Listed instruments (instruments-info); LUNAUSDT spot and FTTUSDT linear are delisted. */
export const LISTED: Record<Category, { symbol: string; base: string; quote: string }[]> = {
  spot: [
    { symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT' },
    { symbol: 'ETHUSDT', base: 'ETH', quote: 'USDT' },
    { symbol: 'SOLUSDT', base: 'SOL', quote: 'USDT' },
  ],
  linear: [
    { symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT' },
    { symbol: 'ETHUSDT', base: 'ETH', quote: 'USDT' },
    { symbol: 'SOLUSDT', base: 'SOL', quote: 'USDT' },
  ],
  inverse: [{ symbol: 'BTCUSD', base: 'BTC', quote: 'USD' }],
};
const SPOT_TRADED = ['BTCUSDT', 'ETHUSDT', 'LUNAUSDT'];
const LINEAR_TRADED = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'FTTUSDT'];
const DELISTED_LINEAR = 'FTTUSDT';
/** start prices in cents */
const START: Record<string, bigint> = {
  BTC: 6_000_000n,
  ETH: 300_000n,
  SOL: 15_000n,
  LUNA: 120n,
  FTT: 250n,
};
const QTY_STEP: Record<string, bigint> = {
  BTC: E10 / 1000n,
  ETH: E10 / 100n,
  SOL: E10 / 10n,
  LUNA: E10,
  FTT: E10,
};
const RATE = {
  taker: 5_500_000n, // 0.00055
  maker: 2_000_000n, // 0.0002
  rebate: -1_000_000n, // -0.0001, a maker rebate: negative fee
  spot: 10_000_000n, // 0.001
};

export function generateBybitAccount(o: BybitGenOptions): BybitAccountData {
  const rnd = prng(o.seed);
  const start = o.end - o.days * DAY;
  const gapStart = start + Math.floor((o.days - o.gapDays) / 2) * DAY;
  const gapEnd = gapStart + o.gapDays * DAY;
  /** a random activity time outside the gap, whole ms */
  const when = (lo = start + HOUR, hi = o.end - 4 * DAY): number => {
    for (;;) {
      const t = lo + Math.floor(rnd() * (hi - lo));
      if (t < gapStart - 4 * DAY || t >= gapEnd) return t;
    }
  };
  const price = new Map<string, bigint>(Object.entries(START));
  const walk = (base: string): bigint => {
    const p = price.get(base)!;
    const step = p / 200n + 1n;
    const n = p + (rnd() < 0.5 ? -1n : 1n) * step * BigInt(Math.floor(rnd() * 3));
    price.set(base, n > 10n ? n : p);
    return price.get(base)! * 100_000_000n; // cents → 1e-10
  };
  const bal = new Map<string, bigint>();
  const move = (coin: string, v: bigint) => bal.set(coin, (bal.get(coin) ?? 0n) + v);
  let seq = 1_000_000;
  let execSeq = 2_100_000_000_000_000_000n;
  const executions: SimExecution[] = [];
  const closedPnl: SimClosedPnl[] = [];
  const spotId = () => String(execSeq++);
  const uuid = () =>
    `${hex(rnd, 8)}-${hex(rnd, 4)}-4${hex(rnd, 3)}-a${hex(rnd, 3)}-${hex(rnd, 12)}`;

  // ── funding the account: deposits an hour before the history ──────────────────────────────
  const deposits: SimBybitDeposit[] = [];
  const withdrawals: SimBybitWithdrawal[] = [];
  const deposit = (t: number, coin: string, amount: bigint, status: number) => {
    const txID = hex(rnd, 64);
    deposits.push({
      id: String(100_000 + deposits.length),
      coin,
      chain: coin === 'BTC' ? 'BTC' : 'ETH',
      amount: fmt10(amount),
      txID,
      status,
      toAddress: `0x${hex(rnd, 40)}`,
      tag: '',
      depositFee: '',
      successAt: String(t),
      confirmations: '64',
      txIndex: '0',
      blockHash: `0x${hex(rnd, 64)}`,
      depositType: '0',
    });
    if (status === 3) move(coin, amount);
  };
  const withdraw = (t: number, coin: string, amount: bigint, status: string) => {
    const fee = coin === 'BTC' ? E10 / 2000n : E10;
    withdrawals.push({
      withdrawId: String(200_000 + withdrawals.length),
      txID: status === 'success' ? hex(rnd, 64) : '',
      withdrawType: 0,
      coin,
      chain: coin === 'BTC' ? 'BTC' : 'ETH',
      amount: fmt10(amount),
      withdrawFee: fmt10(fee),
      status,
      toAddress: `0x${hex(rnd, 40)}`,
      tag: '',
      createTime: String(t - 60_000),
      updateTime: String(t),
    });
    if (status === 'success') move(coin, -(amount + fee));
  };
  deposit(start, 'USDT', 5_000_000n * E10, 3);
  deposit(start, 'BTC', 20n * E10, 3);
  deposit(start, 'ETH', 200n * E10, 3);
  deposit(start, 'LUNA', 5000n * E10, 3);
  for (let i = 0; i < 6; i++) {
    const t = when();
    deposit(t, 'USDT', BigInt(1000 + Math.floor(rnd() * 9000)) * E10, [3, 3, 1, 4][i % 4]!);
  }
  for (let i = 0; i < 5; i++) {
    const t = when();
    withdraw(
      t,
      'USDT',
      BigInt(100 + Math.floor(rnd() * 900)) * E10,
      ['success', 'Pending', 'success', 'Reject', 'CancelByUser'][i % 5]!,
    );
  }

  // ── spot ───────────────────────────────────────────────────────────────────────────────────
  for (let i = 0; i < o.spotFills; i++) {
    const symbol = SPOT_TRADED[i % SPOT_TRADED.length]!;
    const base = symbol.slice(0, -4);
    const t = when();
    const p = walk(base);
    const qty = QTY_STEP[base]! * BigInt(1 + Math.floor(rnd() * 20));
    const value = (p * qty) / E10;
    const buy = rnd() < 0.5;
    const maker = rnd() < 0.3;
    const rate = maker && rnd() < 0.3 ? RATE.rebate : RATE.spot;
    // buys pay the fee in the base coin, sells in the quote coin
    const fee = mulRound(buy ? qty : value, rate, 10);
    const feeCoin = buy ? base : 'USDT';
    move(base, buy ? qty : -qty);
    move('USDT', buy ? -value : value);
    move(feeCoin, -fee);
    executions.push({
      category: 'spot',
      symbol,
      execId: spotId(),
      orderId: String(1_550_000_000_000_000_000n + BigInt(i)),
      orderLinkId: '',
      side: buy ? 'Buy' : 'Sell',
      execPrice: fmt10(p),
      execQty: fmt10(qty),
      execValue: fmt10(value),
      execFee: fmt10(fee),
      // some rows omit the fee currency: the client must apply the spot rule
      feeCurrency: i % 4 === 0 ? '' : feeCoin,
      feeRate: fmt10(rate),
      isMaker: maker,
      execType: 'Trade',
      closedSize: '',
      execTime: String(t),
      orderType: maker ? 'Limit' : 'Market',
      orderQty: fmt10(qty),
      orderPrice: fmt10(p),
      leavesQty: '0',
      markPrice: '',
      seq: seq++,
    });
  }

  // ── linear and inverse round trips ─────────────────────────────────────────────────────────
  let burstLeft = o.burst;
  const lastTripOf = new Map<string, number>();
  const plans = Array.from({ length: o.trips }, (_, i) => {
    const inverse = i % 6 === 5;
    const symbol = inverse ? 'BTCUSD' : LINEAR_TRADED[i % LINEAR_TRADED.length]!;
    lastTripOf.set(symbol, i);
    return { i, inverse, symbol };
  });
  // one order at a time: trips never overlap, so funding follows one position
  const tripTimes = plans.map(() => when()).sort((a, b) => a - b);
  for (const { i, inverse, symbol } of plans) {
    const category: Category = inverse ? 'inverse' : 'linear';
    const base = inverse ? 'BTC' : symbol.slice(0, -4);
    const settle = inverse ? 'BTC' : 'USDT';
    const long = rnd() < 0.55;
    const t0 = tripTimes[i]!;
    const t1 = t0 + 4 * HOUR + Math.floor(rnd() * 2 * DAY);
    const p1 = walk(base);
    const p2 = walk(base);
    const fillsIn = burstLeft > 0 && !inverse ? burstLeft : 1 + Math.floor(rnd() * 4);
    if (burstLeft > 0 && !inverse) burstLeft = 0;
    const fillsOut = 1 + Math.floor(rnd() * 3);
    // qty: linear in base-coin steps; inverse in whole USD contracts
    const unit = inverse ? E10 : QTY_STEP[base]!;
    const per = unit * BigInt(1 + Math.floor(rnd() * 5));
    const qty = per * BigInt(fillsIn);
    const valueOf = (q: bigint, p: bigint) =>
      inverse ? mulRound((q * E10) / p, E10, 8) : (p * q) / E10;
    const closeType =
      symbol === DELISTED_LINEAR && lastTripOf.get(symbol) === i
        ? 'Delivery'
        : i % 7 === 3
          ? 'BustTrade'
          : i % 11 === 4
            ? 'AdlTrade'
            : 'Trade';
    const openId = uuid();
    const closeId = uuid();
    let openFee = 0n;
    let closeFee = 0n;
    const fill = (
      orderId: string,
      t: number,
      p: bigint,
      q: bigint,
      side: 'Buy' | 'Sell',
      execType: string,
      closed: boolean,
    ): bigint => {
      const maker = execType === 'Trade' && rnd() < 0.4;
      const rate = maker ? (rnd() < 0.3 ? RATE.rebate : RATE.maker) : RATE.taker;
      const value = valueOf(q, p);
      const fee = mulRound(value, rate, inverse ? 8 : 8);
      executions.push({
        category,
        symbol,
        execId: uuid(),
        orderId,
        orderLinkId: '',
        side,
        execPrice: fmt10(p),
        execQty: fmt10(q),
        execValue: fmt10(value),
        execFee: fmt10(fee),
        feeCurrency: '',
        feeRate: fmt10(rate),
        isMaker: maker,
        execType,
        closedSize: closed ? fmt10(q) : '0',
        execTime: String(t),
        orderType: execType === 'Trade' ? (maker ? 'Limit' : 'Market') : 'UNKNOWN',
        orderQty: fmt10(qty),
        orderPrice: fmt10(p),
        leavesQty: '0',
        markPrice: fmt10(p),
        seq: seq++,
      });
      move(settle, -fee);
      return fee;
    };
    const openSide = long ? 'Buy' : 'Sell';
    const closeSide = long ? 'Sell' : 'Buy';
    const burst = fillsIn > 4;
    for (let k = 0; k < fillsIn; k++)
      openFee += fill(openId, burst ? t0 : t0 + k, p1, per, openSide, 'Trade', false);
    // funding at 00:00, 08:00, 16:00 UTC while open; execFee > 0 is paid
    for (let f = Math.ceil((t0 + 1) / (8 * HOUR)) * 8 * HOUR; f < t1; f += 8 * HOUR) {
      const rateE10 = BigInt(Math.floor(rnd() * 5) - 1) * 1_000_000n; // -0.0001 … 0.0003
      const value = valueOf(qty, p1);
      const paid = mulRound(value, long ? rateE10 : -rateE10, 8);
      executions.push({
        category,
        symbol,
        execId: uuid(),
        orderId: uuid(),
        orderLinkId: '',
        side: openSide,
        execPrice: fmt10(p1),
        execQty: fmt10(qty),
        execValue: fmt10(value),
        execFee: fmt10(paid),
        feeCurrency: '',
        feeRate: fmt10(rateE10),
        isMaker: false,
        execType: 'Funding',
        closedSize: '0',
        execTime: String(f),
        orderType: 'UNKNOWN',
        orderQty: '0',
        orderPrice: '0',
        leavesQty: '0',
        markPrice: fmt10(p1),
        seq: seq++,
      });
      move(settle, -paid);
    }
    const outPer = qty / BigInt(fillsOut);
    let left = qty;
    let tLast = t1;
    for (let k = 0; k < fillsOut; k++) {
      const q = k === fillsOut - 1 ? left : outPer;
      left -= q;
      tLast = t1 + k * 7;
      closeFee += fill(closeId, tLast, p2, q, closeSide, closeType, true);
    }
    const entry = valueOf(qty, p1);
    const exit = valueOf(qty, p2);
    // gross: linear (exit − entry) for a long; inverse (entry − exit) in coin for a long
    const up = inverse ? entry - exit : exit - entry;
    const gross = long ? up : -up;
    move(settle, gross);
    closedPnl.push({
      category: inverse ? 'inverse' : 'linear',
      symbol,
      orderId: closeId,
      side: closeSide,
      qty: fmt10(qty),
      orderPrice: fmt10(p2),
      orderType: 'Market',
      execType: closeType,
      closedSize: fmt10(qty),
      cumEntryValue: fmt10(entry),
      avgEntryPrice: fmt10(p1),
      cumExitValue: fmt10(exit),
      avgExitPrice: fmt10(p2),
      closedPnl: fmt10(gross - openFee - closeFee),
      fillCount: String(fillsOut),
      leverage: '10',
      openFee: fmt10(openFee),
      closeFee: fmt10(closeFee),
      createdTime: String(tLast),
      updatedTime: String(tLast),
    });
  }
  return { executions, closedPnl, deposits, withdrawals, balances: bal };
}
