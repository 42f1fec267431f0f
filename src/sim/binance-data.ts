/**
 * The simulator's listed symbols and row shapes (`./binance.ts`). Amounts are BigInt e8 counts;
 * tick × step is chosen per symbol so that price × qty never needs more than 8 decimals.
 */
import { E8, fmt8 } from './binance-prim.js';

export { fmt8, hash32, prng } from './binance-prim.js';

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
