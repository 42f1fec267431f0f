/**
 * Generates one simulated OKX account: spot and margin fills, SWAP round trips (linear and
 * inverse) and fills of an expired future, funding bills every 8 h while a swap is open,
 * deposits and withdrawals, and the cash balances they add up to. Deterministic for a seed;
 * amounts are BigInt counts of 1e-10 (sim-http.ts). Row shapes follow ccxt's recorded OKX
 * responses (../shared/vectors/exchanges/ccxt_static_response_okx.json).
 */
import { DAY, HOUR, hex, prng } from './binance-prim.js';
import { E10, fmt10, mulRound } from './sim-http.js';

export type InstType = 'SPOT' | 'MARGIN' | 'SWAP' | 'FUTURES';

export interface SimOkxFill {
  instType: InstType;
  instId: string;
  tradeId: string;
  ordId: string;
  clOrdId: string;
  billId: string;
  tag: string;
  fillPx: string;
  fillSz: string;
  fillIdxPx: string;
  fillPnl: string;
  side: 'buy' | 'sell';
  posSide: 'net';
  execType: 'T' | 'M';
  feeCcy: string;
  /** < 0 charged, > 0 rebate */
  fee: string;
  ts: string;
  fillTime: string;
  feeRate: string;
}

export interface SimOkxBill {
  billId: string;
  instType: 'SWAP' | 'FUTURES';
  instId: string;
  ccy: string;
  type: '8';
  subType: '173' | '174';
  balChg: string;
  pnl: string;
  bal: string;
  sz: string;
  px: string;
  ts: string;
  mgnMode: 'cross';
  fee: '0';
  ordId: '';
  notes: '';
}

export interface SimOkxDeposit {
  depId: string;
  ccy: string;
  chain: string;
  amt: string;
  from: string;
  to: string;
  txId: string;
  ts: string;
  state: string;
  actualDepBlkConfirm: string;
}

export interface SimOkxWithdrawal {
  wdId: string;
  ccy: string;
  chain: string;
  amt: string;
  fee: string;
  feeCcy: string;
  to: string;
  txId: string;
  ts: string;
  state: string;
  clientId: string;
}

export interface OkxInstrumentRow {
  instType: 'SPOT' | 'SWAP' | 'FUTURES';
  instId: string;
  baseCcy: string;
  quoteCcy: string;
  settleCcy: string;
  ctVal: string;
  ctValCcy: string;
  ctType: '' | 'linear' | 'inverse';
  state: 'live';
}

export interface OkxGenOptions {
  seed: number;
  spotFills: number;
  trips: number;
  /** fills of one swap order sharing one millisecond (0 = none) */
  burst: number;
  /** deposits beyond the funding ones; they come in same-millisecond clusters of up to 3 */
  flows: number;
  end: number;
  days: number;
  gapDays: number;
}

export interface OkxAccountData {
  fills: SimOkxFill[];
  bills: SimOkxBill[];
  deposits: SimOkxDeposit[];
  withdrawals: SimOkxWithdrawal[];
  /** ccy → cash balance (1e-10) */
  balances: Map<string, bigint>;
}

/** The live listing; LUNA-USDT (spot) and the expired BTC-USDT future are delisted. */
export function okxInstruments(end: number): OkxInstrumentRow[] {
  const spot = (b: string): OkxInstrumentRow => ({
    instType: 'SPOT',
    instId: `${b}-USDT`,
    baseCcy: b,
    quoteCcy: 'USDT',
    settleCcy: '',
    ctVal: '',
    ctValCcy: '',
    ctType: '',
    state: 'live',
  });
  const deriv = (
    t: 'SWAP' | 'FUTURES',
    instId: string,
    ctVal: string,
    inverse: boolean,
  ): OkxInstrumentRow => {
    const [b = '', q = ''] = instId.split('-');
    return {
      instType: t,
      instId,
      baseCcy: '',
      quoteCcy: '',
      settleCcy: inverse ? b : q,
      ctVal,
      ctValCcy: inverse ? 'USD' : b,
      ctType: inverse ? 'inverse' : 'linear',
      state: 'live',
    };
  };
  return [
    spot('BTC'),
    spot('ETH'),
    spot('SOL'),
    deriv('SWAP', 'BTC-USDT-SWAP', '0.01', false),
    deriv('SWAP', 'ETH-USDT-SWAP', '0.1', false),
    deriv('SWAP', 'BTC-USD-SWAP', '100', true),
    deriv('FUTURES', `BTC-USDT-${yymmdd(end + 90 * DAY)}`, '0.01', false),
  ];
}

/** The expired quarterly future the account traded (no longer listed). */
export const expiredFuture = (end: number) => `BTC-USDT-${yymmdd(end - 20 * DAY)}`;

function yymmdd(t: number): string {
  return new Date(t).toISOString().slice(2, 10).replace(/-/g, '');
}

const START: Record<string, bigint> = { BTC: 6_000_000n, ETH: 300_000n, SOL: 15_000n, LUNA: 120n };
const RATE = { taker: 5_000_000n, maker: 2_000_000n, rebate: -500_000n, spot: 10_000_000n };

export function generateOkxAccount(o: OkxGenOptions): OkxAccountData {
  const rnd = prng(o.seed);
  const start = o.end - o.days * DAY;
  const gapStart = start + Math.floor((o.days - o.gapDays) / 2) * DAY;
  const gapEnd = gapStart + o.gapDays * DAY;
  const when = (lo = start + HOUR, hi = o.end - 3 * DAY): number => {
    for (;;) {
      const t = lo + Math.floor(rnd() * (hi - lo));
      if (t < gapStart - 3 * DAY || t >= gapEnd) return t;
    }
  };
  const price = new Map<string, bigint>(Object.entries(START));
  const walk = (base: string): bigint => {
    const p = price.get(base)!;
    const step = p / 200n + 1n;
    const n = p + (rnd() < 0.5 ? -1n : 1n) * step * BigInt(Math.floor(rnd() * 3));
    price.set(base, n > 10n ? n : p);
    return price.get(base)! * 100_000_000n;
  };
  const bal = new Map<string, bigint>();
  const move = (ccy: string, v: bigint) => bal.set(ccy, (bal.get(ccy) ?? 0n) + v);
  let bill = 639_895_991_340_056_576n;
  let trade = 56_181_695;
  let order = 639_895_991_331_667_968n;
  const fills: SimOkxFill[] = [];
  const bills: SimOkxBill[] = [];
  const deposits: SimOkxDeposit[] = [];
  const withdrawals: SimOkxWithdrawal[] = [];

  // bills are numbered in time order, as OKX's are
  const pending: { t: number; make: (billId: string) => void }[] = [];

  const deposit = (t: number, ccy: string, amt: bigint, state: string) => {
    deposits.push({
      depId: String(80_000_000 + deposits.length),
      ccy,
      chain: `${ccy}-TRC20`,
      amt: fmt10(amt),
      from: '',
      to: `T${hex(rnd, 33)}`,
      txId: hex(rnd, 64),
      ts: String(t),
      state,
      actualDepBlkConfirm: '20',
    });
    if (state === '1' || state === '2') move(ccy, amt);
  };
  deposit(start, 'USDT', 3_000_000n * E10, '2');
  deposit(start, 'BTC', 20n * E10, '2');
  deposit(start, 'ETH', 200n * E10, '2');
  deposit(start, 'LUNA', 5000n * E10, '2');
  for (let i = 0; i < o.flows;) {
    const t = when();
    const cluster = 1 + Math.floor(rnd() * 3); // same-millisecond deposits
    for (let k = 0; k < cluster && i < o.flows; k++, i++)
      deposit(
        t,
        'USDT',
        BigInt(100 + Math.floor(rnd() * 900)) * E10,
        ['2', '2', '1', '0', '8'][i % 5]!,
      );
  }
  for (let i = 0; i < 5; i++) {
    const t = when();
    const amt = BigInt(50 + Math.floor(rnd() * 400)) * E10;
    const fee = E10;
    const state = ['2', '-2', '2', '-1', '0'][i]!;
    withdrawals.push({
      wdId: String(90_000_000 + i),
      ccy: 'USDT',
      chain: 'USDT-TRC20',
      amt: fmt10(amt),
      fee: fmt10(fee),
      feeCcy: 'USDT',
      to: `T${hex(rnd, 33)}`,
      txId: state === '2' ? hex(rnd, 64) : '',
      ts: String(t),
      state,
      clientId: '',
    });
    if (state === '2') move('USDT', -(amt + fee));
  }

  const fill = (
    t: number,
    instType: InstType,
    instId: string,
    ordId: string,
    side: 'buy' | 'sell',
    px: bigint,
    sz: bigint,
    fee: bigint,
    feeCcy: string,
    maker: boolean,
    rate: bigint,
    pnl: bigint,
  ) =>
    pending.push({
      t,
      make: (billId) =>
        fills.push({
          instType,
          instId,
          tradeId: String(trade++),
          ordId,
          clOrdId: '',
          billId,
          tag: '',
          fillPx: fmt10(px),
          fillSz: fmt10(sz),
          fillIdxPx: '',
          fillPnl: fmt10(pnl),
          side,
          posSide: 'net',
          execType: maker ? 'M' : 'T',
          feeCcy,
          fee: fmt10(fee),
          ts: String(t + 1),
          fillTime: String(t),
          feeRate: fmt10(-rate),
        }),
    });

  // spot and margin
  const SPOT = ['BTC', 'ETH', 'LUNA'];
  for (let i = 0; i < o.spotFills; i++) {
    const b = SPOT[i % SPOT.length]!;
    const instType: InstType = b !== 'LUNA' && i % 9 === 4 ? 'MARGIN' : 'SPOT';
    const t = when();
    const px = walk(b);
    const sz =
      (b === 'BTC' ? E10 / 1000n : b === 'ETH' ? E10 / 100n : E10) *
      BigInt(1 + Math.floor(rnd() * 20));
    const value = (px * sz) / E10;
    const buy = rnd() < 0.5;
    const maker = rnd() < 0.3;
    const rate = maker && rnd() < 0.3 ? RATE.rebate : RATE.spot;
    // OKX sign: fee < 0 charged; a buy pays in the base coin, a sell in the quote
    const fee = -mulRound(buy ? sz : value, rate, 10);
    const feeCcy = buy ? b : 'USDT';
    move(b, buy ? sz : -sz);
    move('USDT', buy ? -value : value);
    move(feeCcy, fee);
    fill(
      t,
      instType,
      `${b}-USDT`,
      String(order++),
      buy ? 'buy' : 'sell',
      px,
      sz,
      fee,
      feeCcy,
      maker,
      rate,
      0n,
    );
  }

  // swaps and futures: whole round trips, so fillPnl is exact
  let burstLeft = o.burst;
  const trips = Array.from({ length: o.trips }, () => when()).sort((a, b) => a - b);
  trips.forEach((t0, i) => {
    const kind = i % 5 === 4 ? 'inverse' : i % 7 === 3 ? 'future' : 'linear';
    const b = kind === 'linear' && i % 2 === 1 ? 'ETH' : 'BTC';
    const instId =
      kind === 'inverse'
        ? 'BTC-USD-SWAP'
        : kind === 'future'
          ? expiredFuture(o.end)
          : `${b}-USDT-SWAP`;
    const instType: InstType = kind === 'future' ? 'FUTURES' : 'SWAP';
    const ctVal = kind === 'inverse' ? 100n * E10 : b === 'ETH' ? E10 / 10n : E10 / 100n;
    const settle = kind === 'inverse' ? 'BTC' : 'USDT';
    const long = rnd() < 0.55;
    const t1 = t0 + 4 * HOUR + Math.floor(rnd() * 2 * DAY);
    const p1 = walk(b);
    const p2 = walk(b);
    const nIn = burstLeft > 0 && kind === 'linear' ? burstLeft : 1 + Math.floor(rnd() * 3);
    if (nIn === burstLeft) burstLeft = 0;
    const per = BigInt(1 + Math.floor(rnd() * 5)) * E10; // whole contracts
    const qty = per * BigInt(nIn);
    /** settle-currency value of `c` contracts at `p` */
    const value = (c: bigint, p: bigint) =>
      kind === 'inverse'
        ? mulRound((((c * ctVal) / E10) * E10) / p, E10, 8)
        : (((c * ctVal) / E10) * p) / E10;
    const openOrd = String(order++);
    const closeOrd = String(order++);
    const leg = (
      t: number,
      ord: string,
      side: 'buy' | 'sell',
      p: bigint,
      c: bigint,
      pnl: bigint,
    ) => {
      const maker = rnd() < 0.4;
      const rate = maker ? (rnd() < 0.3 ? RATE.rebate : RATE.maker) : RATE.taker;
      const fee = -mulRound(value(c, p), rate, 8);
      move(settle, fee + pnl);
      fill(t, instType, instId, ord, side, p, c, fee, settle, maker, rate, pnl);
    };
    for (let k = 0; k < nIn; k++)
      leg(nIn > 3 ? t0 : t0 + k, openOrd, long ? 'buy' : 'sell', p1, per, 0n);
    // funding every 8 h while a swap is open: balChg < 0 paid
    if (instType === 'SWAP') {
      for (let f = Math.ceil((t0 + 1) / (8 * HOUR)) * 8 * HOUR; f < t1; f += 8 * HOUR) {
        const rateE10 = BigInt(Math.floor(rnd() * 5) - 1) * 1_000_000n;
        const chg = -mulRound(value(qty, p1), long ? rateE10 : -rateE10, 8);
        move(settle, chg);
        pending.push({
          t: f,
          make: (billId) =>
            bills.push({
              billId,
              instType: 'SWAP',
              instId,
              ccy: settle,
              type: '8',
              subType: chg < 0n ? '173' : '174',
              balChg: fmt10(chg),
              pnl: fmt10(chg),
              bal: '0',
              sz: fmt10(qty),
              px: fmt10(p1),
              ts: String(f),
              mgnMode: 'cross',
              fee: '0',
              ordId: '',
              notes: '',
            }),
        });
      }
    }
    // the close: one or two fills, PnL per fill (linear exact; inverse rounded to 8 dp)
    const nOut = qty >= 2n * E10 && rnd() < 0.5 ? 2 : 1;
    let left = qty;
    for (let k = 0; k < nOut; k++) {
      const c = k === nOut - 1 ? left : (qty / 2n / E10) * E10;
      left -= c;
      const up = kind === 'inverse' ? value(c, p1) - value(c, p2) : value(c, p2) - value(c, p1);
      leg(t1 + k * 5, closeOrd, long ? 'sell' : 'buy', p2, c, long ? up : -up);
    }
  });

  pending.sort((a, b) => a.t - b.t);
  for (const p of pending) p.make(String(bill++));
  return { fills, bills, deposits, withdrawals, balances: bal };
}
