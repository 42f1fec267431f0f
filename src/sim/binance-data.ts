/**
 * Deterministic market and account data for the Binance simulator (`./binance.ts`).
 *
 * Amounts are BigInt counts of 1e-8 units ("e8"), so every decimal string the simulator sends is
 * exact: tick × step is chosen per symbol so that price × qty never needs more than 8 decimals.
 */

/** mulberry32: a tiny, well-mixed 32-bit PRNG. Not cryptographic; only makes data repeatable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, to derive a per-account seed from the simulator seed and the API key. */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export interface SimSymbol {
  symbol: string;
  base: string;
  quote: string;
  status: 'TRADING' | 'BREAK';
  /** price tick and quantity step, in e8 units */
  tickE8: bigint;
  stepE8: bigint;
  /** starting price in ticks, for the random walk */
  startTicks: number;
  /** typical order size in steps */
  sizeSteps: number;
}

const E8 = 100_000_000n;

/** The listed spot symbols. LUNAUSDT is halted (BREAK) but still listed, as on Binance. */
export const SYMBOLS: readonly SimSymbol[] = [
  {
    symbol: 'BTCUSDT',
    base: 'BTC',
    quote: 'USDT',
    status: 'TRADING',
    tickE8: 1_000_000n,
    stepE8: 1_000n,
    startTicks: 6_000_000,
    sizeSteps: 2_000,
  },
  {
    symbol: 'ETHUSDT',
    base: 'ETH',
    quote: 'USDT',
    status: 'TRADING',
    tickE8: 1_000_000n,
    stepE8: 10_000n,
    startTicks: 300_000,
    sizeSteps: 5_000,
  },
  {
    symbol: 'BNBUSDT',
    base: 'BNB',
    quote: 'USDT',
    status: 'TRADING',
    tickE8: 1_000_000n,
    stepE8: 100_000n,
    startTicks: 60_000,
    sizeSteps: 1_000,
  },
  {
    symbol: 'SOLUSDT',
    base: 'SOL',
    quote: 'USDT',
    status: 'TRADING',
    tickE8: 1_000_000n,
    stepE8: 100_000n,
    startTicks: 15_000,
    sizeSteps: 5_000,
  },
  {
    symbol: 'ETHBTC',
    base: 'ETH',
    quote: 'BTC',
    status: 'TRADING',
    tickE8: 1_000n,
    stepE8: 100_000n,
    startTicks: 5_000,
    sizeSteps: 500,
  },
  {
    symbol: 'LUNAUSDT',
    base: 'LUNA',
    quote: 'USDT',
    status: 'BREAK',
    tickE8: 10_000n,
    stepE8: 1_000_000n,
    startTicks: 8_000,
    sizeSteps: 50_000,
  },
];
for (const s of SYMBOLS) {
  if ((s.tickE8 * s.stepE8) % E8 !== 0n)
    throw new Error(`sim: ${s.symbol} price×qty is not exact at 8 dp`);
}

/** One row of GET /api/v3/myTrades, exactly as the simulator serialises it. */
export interface SimTrade {
  symbol: string;
  id: number;
  orderId: number;
  orderListId: number;
  price: string;
  qty: string;
  quoteQty: string;
  commission: string;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
  isBestMatch: boolean;
}

export interface GeneratedAccount {
  trades: SimTrade[];
  /** asset → balance in e8 */
  balances: Map<string, bigint>;
  uid: number;
  updateTime: number;
}

/** Fixed 8-decimal form, as Binance sends price, qty and commission. */
export function fmt8(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  return `${neg ? '-' : ''}${a / E8}.${(a % E8).toString().padStart(8, '0')}`;
}

/** Trailing zeros trimmed, as in the docs' quoteQty example ("48.000012"). */
function fmtTrim(v: bigint): string {
  return fmt8(v).replace(/0+$/, '').replace(/\.$/, '');
}

const DAY = 86_400_000;
const FEE_BNB_PER_QUOTE: Record<string, [bigint, bigint]> = {
  // BNB paid per unit of quote at a 0.075 % rate: (numerator, denominator)
  USDT: [75n, 100_000n * 600n], // BNB ≈ 600 USDT
  BTC: [75n * 100n, 100_000n], // BNB ≈ 0.01 BTC
};

interface PlannedOrder {
  time: number;
  sym: SimSymbol;
  fills: number;
  /** the adversarial market order whose fills all share one millisecond */
  burst: boolean;
  /** forces a sell of the whole position (used to close BREAK symbols) */
  closeOut: boolean;
}

export interface GenerateOptions {
  seed: number;
  /** ordinary fills (default 400) */
  fills: number;
  /** fills of the single same-millisecond market order (0 = none) */
  burst: number;
  /** symbols traded; the first gets the burst */
  symbols: readonly SimSymbol[];
  /** data ends here (ms); it spans the 90 days before */
  end: number;
}

/**
 * Generates one account's fills. Ids are per symbol and rise with time; gaps between orders stand
 * for other users' trades. Sells never exceed the position and buys never overdraw the quote,
 * so balances stay consistent with the history. Halted (BREAK) symbols trade only early and are
 * closed out, leaving no balance trace: the case that forces a client to scan every symbol.
 */
export function generateAccount(o: GenerateOptions): GeneratedAccount {
  const rnd = prng(o.seed);
  const start = o.end - 90 * DAY;
  const orders: PlannedOrder[] = [];
  let left = o.fills;
  while (left > 0) {
    const sym = o.symbols[Math.floor(rnd() * o.symbols.length)]!;
    const n = Math.min(left, 1 + Math.floor(rnd() * 4));
    const span = sym.status === 'BREAK' ? 30 * DAY : 89 * DAY;
    orders.push({
      time: start + Math.floor(rnd() * span),
      sym,
      fills: n,
      burst: false,
      closeOut: false,
    });
    left -= n;
  }
  for (const sym of o.symbols) {
    if (sym.status === 'BREAK')
      orders.push({ time: start + 31 * DAY, sym, fills: 1, burst: false, closeOut: true });
  }
  if (o.burst > 0 && o.symbols[0]) {
    orders.push({
      time: start + 45 * DAY + 12_345,
      sym: o.symbols[0],
      fills: o.burst,
      burst: true,
      closeOut: false,
    });
  }
  orders.sort((a, b) => a.time - b.time);

  const balances = new Map<string, bigint>([
    ['USDT', 2_000_000n * E8],
    ['BTC', 2n * E8],
    ['BNB', 25n * E8],
  ]);
  const add = (asset: string, v: bigint) => balances.set(asset, (balances.get(asset) ?? 0n) + v);
  const state = new Map<
    string,
    { ticks: number; nextId: number; nextOrder: number; pos: bigint; last: number }
  >();
  for (const s of o.symbols) {
    state.set(s.symbol, {
      ticks: s.startTicks,
      nextId: 1_000_000 + Math.floor(rnd() * 50_000_000),
      nextOrder: 5_000_000 + Math.floor(rnd() * 50_000_000),
      pos: 0n,
      last: 0,
    });
  }

  const trades: SimTrade[] = [];
  for (const ord of orders) {
    const st = state.get(ord.sym.symbol)!;
    st.ticks = Math.max(10, Math.round(st.ticks * (1 + (rnd() - 0.5) * 0.06)));
    st.nextId += 1 + Math.floor(rnd() * 5_000);
    const orderId = (st.nextOrder += 1 + Math.floor(rnd() * 20_000));
    let isBuyer = ord.burst || st.pos === 0n || (!ord.closeOut && rnd() < 0.55);
    if (ord.closeOut) isBuyer = false;
    const isMaker = !ord.burst && !ord.closeOut && rnd() < 0.4;
    const feeInBnb = !ord.burst && rnd() < 0.25;
    for (let f = 0; f < ord.fills; f++) {
      // fills of one order land in the same or the next few milliseconds, the burst in exactly one;
      // a symbol's trade ids never go back in time
      const time = Math.max(st.last, ord.burst ? ord.time : ord.time + Math.floor(f / 2));
      const ticks = BigInt(ord.burst ? st.ticks + Math.floor(f / 100) : st.ticks);
      const price = ticks * ord.sym.tickE8;
      let qty = ord.burst
        ? ord.sym.stepE8 * 10n
        : BigInt(1 + Math.floor(rnd() * ord.sym.sizeSteps)) * ord.sym.stepE8;
      if (!isBuyer) qty = ord.closeOut ? st.pos : qty > st.pos ? st.pos : qty;
      if (qty === 0n) break;
      const quoteQty = (price * qty) / E8;
      let feeAsset = ord.sym.quote;
      let fee = quoteQty / 1000n; // 0.1 % taker/maker, truncated to 8 dp
      const bnbRate = FEE_BNB_PER_QUOTE[ord.sym.quote];
      if (feeInBnb && bnbRate) {
        const bnbFee = (quoteQty * bnbRate[0]) / bnbRate[1];
        if ((balances.get('BNB') ?? 0n) >= bnbFee) [feeAsset, fee] = ['BNB', bnbFee];
      }
      if (isBuyer && (balances.get(ord.sym.quote) ?? 0n) < quoteQty + fee) break; // never overdraw
      add(ord.sym.base, isBuyer ? qty : -qty);
      add(ord.sym.quote, isBuyer ? -quoteQty : quoteQty);
      add(feeAsset, -fee);
      st.pos += isBuyer ? qty : -qty;
      st.last = time;
      trades.push({
        symbol: ord.sym.symbol,
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
  const uid = 100_000_000 + Math.floor(rnd() * 800_000_000);
  const updateTime = trades.reduce((m, t) => Math.max(m, t.time), start);
  return { trades, balances, uid, updateTime };
}

/** An exchangeInfo symbol entry with the fields and filters ccxt's parseMarket reads. */
export function symbolInfo(s: SimSymbol): unknown {
  const tick = fmt8(s.tickE8);
  const step = fmt8(s.stepE8);
  return {
    symbol: s.symbol,
    status: s.status,
    baseAsset: s.base,
    baseAssetPrecision: 8,
    quoteAsset: s.quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: tick, maxPrice: '1000000.00000000', tickSize: tick },
      { filterType: 'LOT_SIZE', minQty: step, maxQty: '9000.00000000', stepSize: step },
      { filterType: 'ICEBERG_PARTS', limit: 10 },
      {
        filterType: 'MARKET_LOT_SIZE',
        minQty: '0.00000000',
        maxQty: '100.00000000',
        stepSize: '0.00000000',
      },
      {
        filterType: 'PERCENT_PRICE_BY_SIDE',
        bidMultiplierUp: '5',
        bidMultiplierDown: '0.2',
        askMultiplierUp: '5',
        askMultiplierDown: '0.2',
        avgPriceMins: 5,
      },
      {
        filterType: 'NOTIONAL',
        minNotional: '5.00000000',
        applyMinToMarket: true,
        maxNotional: '9000000.00000000',
        applyMaxToMarket: false,
        avgPriceMins: 5,
      },
      { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
      { filterType: 'MAX_NUM_ALGO_ORDERS', maxNumAlgoOrders: 5 },
    ],
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}
