/**
 * Bybit V5 rows → the engine's ledger types. Every row comes from the network and is checked
 * field by field; amounts stay the exchange's exact decimal strings.
 *
 * Sources: bybit-exchange/docs @ 072c197 (../shared/vectors/exchanges/bybit_v5_docs_excerpts.md):
 * order/execution.mdx, position/close-pnl.mdx, enum.mdx (execType); the ccxt recorded responses
 * (ccxt_static_response_bybit.json) for the exact shapes.
 *
 * Sign conventions (the quirks the tests pin down):
 * - `execFee` > 0 is paid, < 0 is a rebate (maker rebates): the same sign as `Fill.fee`.
 * - A `Funding` execution's `execFee` > 0 is funding PAID (the transaction log's `funding` field
 *   has the opposite sign, per its docs), so the FundingEvent amount is −execFee.
 * - `closedPnl` is net of the open and close fees (**assumption**, Bybit's help centre defines
 *   closed P&L as position P&L minus the trading fees to open and close); gross realized PnL, as
 *   `FuturesFill.realizedPnl` wants it, is closedPnl + openFee + closeFee.
 */
import type {
  DepositEvent,
  FundingEvent,
  FuturesFill,
  SpotFill,
  WithdrawalEvent,
} from '../aggregates/ledger.js';
import { isRecord, malformed, safeInt } from './binance-common.js';
import { DEC, UDEC, addDecimals, isPositive, negateDecimal } from './decimal.js';

export type Category = 'spot' | 'linear' | 'inverse';

/** What a Bybit symbol is, in unified terms. */
export interface Instrument {
  /** 'BTC/USDT' (spot), 'BTC/USDT:USDT' (linear), 'BTC/USD:BTC' (inverse) */
  symbol: string;
  base: string;
  quote: string;
  /** margin and PnL currency of a derivative */
  settle: string;
}

const COIN = /^[A-Z0-9]{1,20}$/;
const SYMBOL = /^[A-Z0-9-]{2,40}$/;
const ID = /^[A-Za-z0-9_.:-]{1,80}$/;
/** quote currencies, longest first, to split a symbol no longer listed (delisted) */
const QUOTES = ['USDT', 'USDC', 'USDE', 'FDUSD', 'EUR', 'BRL', 'TRY', 'BTC', 'ETH', 'DAI', 'USD'];

/** Splits an exchange symbol that instruments-info no longer lists (delisted); undefined if unknown. */
export function guessInstrument(category: Category, s: string): Instrument | undefined {
  if (!SYMBOL.test(s)) return undefined;
  const [head = '', dated] = s.split('-', 2); // 'BTCUSDT-26DEC25': a dated linear future
  if (category === 'linear' && head.endsWith('PERP')) {
    const base = head.slice(0, -4); // USDC perpetuals are named BTCPERP
    return base ? inst(category, base, 'USDC', 'USDC', dated) : undefined;
  }
  if (category === 'inverse') {
    // BTCUSD (perpetual) or BTCUSDZ25 (quarterly): settled in the base coin
    const m = /^([A-Z0-9]+?)USD([FGHJKMNQUVXZ]\d{2})?$/.exec(head);
    return m ? inst(category, m[1]!, 'USD', m[1]!, m[2]) : undefined;
  }
  const quote = QUOTES.find((q) => head.endsWith(q) && head.length > q.length);
  if (!quote) return undefined;
  return inst(category, head.slice(0, -quote.length), quote, quote, dated);
}

function inst(c: Category, base: string, quote: string, settle: string, expiry?: string) {
  const suffix = expiry ? `-${expiry}` : '';
  return {
    symbol: c === 'spot' ? `${base}/${quote}` : `${base}/${quote}:${settle}${suffix}`,
    base,
    quote,
    settle,
  };
}

/** One instruments-info row (public data, still checked). */
export function toInstrument(category: Category, r: unknown): [string, Instrument] | undefined {
  if (!isRecord(r)) throw malformed('instrument row');
  const { symbol, baseCoin, quoteCoin } = r;
  const settleCoin = category === 'spot' ? quoteCoin : r['settleCoin'];
  if (
    typeof symbol !== 'string' ||
    !SYMBOL.test(symbol) ||
    typeof baseCoin !== 'string' ||
    typeof quoteCoin !== 'string' ||
    typeof settleCoin !== 'string' ||
    ![baseCoin, quoteCoin, settleCoin].every((c) => COIN.test(c))
  )
    return undefined; // an instrument we cannot name is looked up by guess instead
  const expiry = symbol.includes('-') ? symbol.split('-', 2)[1] : undefined;
  return [symbol, inst(category, baseCoin, quoteCoin, settleCoin, expiry)];
}

export interface RawExecution {
  category: Category;
  symbol: string;
  execId: string;
  orderId: string;
  execType: string;
  side: 'buy' | 'sell';
  price: string;
  qty: string;
  value: string;
  fee: string;
  feeCurrency: string;
  maker: boolean;
  /** '' on spot; '0' on an opening derivative fill */
  closedSize: string;
  ts: number;
}

/** Validates one /v5/execution/list row (untrusted). */
export function parseExecution(category: Category, r: unknown): RawExecution {
  if (!isRecord(r)) throw malformed('execution row');
  const { symbol, execId, orderId, execType, side, execPrice, execQty, execValue, execFee } = r;
  const ts = safeInt(r['execTime']);
  if (typeof symbol !== 'string' || !SYMBOL.test(symbol)) throw malformed('execution symbol');
  if (typeof execId !== 'string' || !ID.test(execId)) throw malformed('execution id');
  if (typeof orderId !== 'string' || !ID.test(orderId)) throw malformed('execution order id');
  if (typeof execType !== 'string' || !/^[A-Za-z]{1,32}$/.test(execType))
    throw malformed('execution type');
  if (side !== 'Buy' && side !== 'Sell') throw malformed('execution side');
  if (ts === undefined) throw malformed('execution time');
  for (const v of [execPrice, execQty, execValue])
    if (typeof v !== 'string' || !UDEC.test(v)) throw malformed('execution amounts');
  if (typeof execFee !== 'string' || !DEC.test(execFee)) throw malformed('execution fee');
  const feeCurrency = r['feeCurrency'] ?? '';
  if (typeof feeCurrency !== 'string' || (feeCurrency !== '' && !COIN.test(feeCurrency)))
    throw malformed('execution fee currency');
  const closedSize = r['closedSize'] ?? '';
  if (typeof closedSize !== 'string' || (closedSize !== '' && !UDEC.test(closedSize)))
    throw malformed('execution closed size');
  if (typeof r['isMaker'] !== 'boolean') throw malformed('execution maker flag');
  return {
    category,
    symbol,
    execId,
    orderId,
    execType,
    side: side === 'Buy' ? 'buy' : 'sell',
    price: execPrice as string,
    qty: execQty as string,
    value: execValue as string,
    fee: execFee,
    feeCurrency,
    maker: r['isMaker'],
    closedSize,
    ts,
  };
}

/**
 * A spot or derivative fill. Every execType except Funding is a change of position: Trade,
 * AdlTrade (auto-deleveraging), BustTrade (liquidation takeover), Delivery and Settle (expiry,
 * delisting), BlockTrade, MovePosition: all are fills, which is why we never send execType.
 */
export function toBybitFill(e: RawExecution, i: Instrument): SpotFill | FuturesFill {
  const common = {
    exchange: 'bybit',
    symbol: i.symbol,
    base: i.base,
    quote: i.quote,
    id: e.execId,
    orderId: e.orderId,
    side: e.side,
    price: e.price,
    fee: e.fee,
    maker: e.maker,
    ts: e.ts,
  };
  if (e.category === 'spot') {
    // spot fee currency when the row omits it (enum.mdx "Spot fee currency instruction"):
    // a buy pays in the base coin, a sell in the quote coin
    const feeAsset = e.feeCurrency || (e.side === 'buy' ? i.base : i.quote);
    return { ...common, qty: e.qty, quoteQty: e.value, feeAsset };
  }
  if (e.category === 'inverse') {
    // inverse: execQty is in USD contracts, execValue in the base coin; fees and PnL in the base
    return {
      ...common,
      market: 'futures',
      qty: e.value,
      quoteQty: e.qty,
      feeAsset: i.settle,
      settleAsset: i.settle,
    };
  }
  return {
    ...common,
    market: 'futures',
    qty: e.qty,
    quoteQty: e.value,
    feeAsset: i.settle,
    settleAsset: i.settle,
  };
}

/** A Funding execution: execFee > 0 was paid, so the signed amount (> 0 received) is −execFee. */
export function toBybitFunding(e: RawExecution, i: Instrument): FundingEvent {
  const amount = negateDecimal(e.fee);
  return { type: 'funding', ts: e.ts, asset: i.settle, amount, symbol: i.symbol, id: e.execId };
}

export interface ClosedPnl {
  orderId: string;
  symbol: string;
  closedPnl: string;
  openFee: string;
  closeFee: string;
  ts: number;
}

/** Validates one /v5/position/closed-pnl row. */
export function parseClosedPnl(r: unknown): ClosedPnl {
  if (!isRecord(r)) throw malformed('closed-pnl row');
  const { orderId, symbol, closedPnl, openFee, closeFee } = r;
  const ts = safeInt(r['updatedTime'] ?? r['createdTime']);
  if (typeof orderId !== 'string' || !ID.test(orderId)) throw malformed('closed-pnl order id');
  if (typeof symbol !== 'string' || !SYMBOL.test(symbol)) throw malformed('closed-pnl symbol');
  if (ts === undefined) throw malformed('closed-pnl time');
  for (const v of [closedPnl, openFee, closeFee])
    if (typeof v !== 'string' || !DEC.test(v)) throw malformed('closed-pnl amounts');
  return {
    orderId,
    symbol,
    closedPnl: closedPnl as string,
    openFee: openFee as string,
    closeFee: closeFee as string,
    ts,
  };
}

/**
 * /v5/asset/deposit/query-record row → a deposit, or undefined when it did not credit. Status 3
 * is "success" (enum.mdx depositStatus); 0 unknown, 1 to be confirmed, 2 processing, 4 failed and
 * 10011/10012 (funding-pool credits of a sub-account) are not counted. `ts` = `successAt`.
 */
export function toBybitDeposit(r: unknown): DepositEvent | undefined {
  if (!isRecord(r)) throw malformed('deposit row');
  const { coin, amount } = r;
  const status = safeInt(r['status']);
  const id = r['id'] ?? r['txID'];
  if (typeof coin !== 'string' || !COIN.test(coin)) throw malformed('deposit coin');
  if (typeof amount !== 'string' || !UDEC.test(amount)) throw malformed('deposit amount');
  if (typeof id !== 'string' || !ID.test(id) || status === undefined)
    throw malformed('deposit id or status');
  if (status !== 3 || !isPositive(amount)) return undefined;
  const ts = safeInt(r['successAt']);
  if (ts === undefined) throw malformed('deposit time');
  return { type: 'deposit', ts, asset: coin, amount, id };
}

/**
 * /v5/asset/withdraw/query-record row → a withdrawal, or undefined unless `status` is "success".
 * The flow out is amount + withdrawFee, both leave the account (**assumption**, as on Binance).
 * `ts` = `updateTime`, when it completed.
 */
export function toBybitWithdrawal(r: unknown): WithdrawalEvent | undefined {
  if (!isRecord(r)) throw malformed('withdrawal row');
  const { coin, amount, withdrawId, status } = r;
  const fee = r['withdrawFee'] === undefined || r['withdrawFee'] === '' ? '0' : r['withdrawFee'];
  if (typeof coin !== 'string' || !COIN.test(coin)) throw malformed('withdrawal coin');
  if (
    typeof amount !== 'string' ||
    !UDEC.test(amount) ||
    typeof fee !== 'string' ||
    !UDEC.test(fee)
  )
    throw malformed('withdrawal amount');
  if (typeof withdrawId !== 'string' || !ID.test(withdrawId) || typeof status !== 'string')
    throw malformed('withdrawal id or status');
  const total = addDecimals(amount, fee);
  if (status !== 'success' || !isPositive(total)) return undefined;
  const ts = safeInt(r['updateTime']);
  if (ts === undefined) throw malformed('withdrawal time');
  return { type: 'withdrawal', ts, asset: coin, amount: total, id: withdrawId };
}
