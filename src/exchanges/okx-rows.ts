/**
 * OKX v5 rows → the engine's ledger types. Every row comes from the network and is checked field
 * by field; amounts stay exact decimal strings (contract sizes are multiplied exactly).
 *
 * Shapes: ccxt's recorded responses (../shared/vectors/exchanges/ccxt_static_response_okx.json)
 * and the fields ccxt's okx.js reads. Sign conventions, the quirks the tests pin down:
 * - a fill's `fee` is NEGATIVE when charged and positive for a rebate; `Fill.fee` is the
 *   opposite (> 0 paid), so fee = −fee.
 * - `fillPnl` is the fill's realized PnL in the settle currency, before the fee (**assumption**:
 *   OKX documents it as the "last filled profit and loss" of a closing fill; the fee has its own
 *   field).
 * - a funding bill's `balChg` is signed as FundingEvent wants it: > 0 received.
 * - SWAP/FUTURES `fillSz` counts contracts: the base quantity is fillSz × ctVal for linear
 *   contracts; inverse contracts are worth ctVal USD each, settled in the coin.
 */
import type {
  DepositEvent,
  FundingEvent,
  FuturesFill,
  SpotFill,
  WithdrawalEvent,
} from '../aggregates/ledger.js';
import { isRecord, malformed, safeInt } from './binance-common.js';
import {
  DEC,
  UDEC,
  addDecimals,
  divDecimals,
  isPositive,
  mulDecimals,
  negateDecimal,
} from './decimal.js';

export type InstType = 'SPOT' | 'MARGIN' | 'SWAP' | 'FUTURES';

export interface OkxInstrument {
  symbol: string;
  base: string;
  quote: string;
  settle: string;
  /** contract value (derivatives): base coin per contract (linear) or USD per contract (inverse) */
  ctVal?: string;
  inverse?: boolean;
}

const CCY = /^[A-Z0-9]{1,20}$/;
const INST = /^[A-Z0-9]{1,20}-[A-Z0-9]{1,20}(-(SWAP|\d{6}))?$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
/** inverse qty (coin = USD ÷ price) is not exact: 12 decimals, truncated */
const INVERSE_SCALE = 12;

/** One /api/v5/public/instruments row. */
export function toOkxInstrument(t: InstType, r: unknown): [string, OkxInstrument] | undefined {
  if (!isRecord(r)) throw malformed('instrument row');
  const { instId, baseCcy, quoteCcy, settleCcy, ctVal, ctValCcy, ctType } = r;
  if (typeof instId !== 'string' || !INST.test(instId)) return undefined;
  if (t === 'SPOT' || t === 'MARGIN') {
    if (typeof baseCcy !== 'string' || typeof quoteCcy !== 'string') return undefined;
    if (!CCY.test(baseCcy) || !CCY.test(quoteCcy)) return undefined;
    return [
      instId,
      { symbol: `${baseCcy}/${quoteCcy}`, base: baseCcy, quote: quoteCcy, settle: quoteCcy },
    ];
  }
  if (typeof ctVal !== 'string' || !UDEC.test(ctVal) || !isPositive(ctVal)) return undefined;
  if (typeof settleCcy !== 'string' || !CCY.test(settleCcy)) return undefined;
  if (ctType !== 'linear' && ctType !== 'inverse') return undefined;
  if (typeof ctValCcy !== 'string' || !CCY.test(ctValCcy)) return undefined;
  const guessed = guessOkxInstrument(t, instId);
  if (!guessed) return undefined;
  return [instId, { ...guessed, settle: settleCcy, ctVal, inverse: ctType === 'inverse' }];
}

/**
 * Names an instrument from its id alone ('BTC-USDT', 'BTC-USDT-SWAP', 'BTC-USD-250328'): what a
 * delisted or expired instrument, gone from /public/instruments, still tells. No ctVal.
 */
export function guessOkxInstrument(t: InstType, instId: string): OkxInstrument | undefined {
  if (!INST.test(instId)) return undefined;
  const [base = '', quote = '', tail] = instId.split('-');
  if (t === 'SPOT' || t === 'MARGIN')
    return tail === undefined
      ? { symbol: `${base}/${quote}`, base, quote, settle: quote }
      : undefined;
  if (tail === undefined) return undefined;
  const inverse = quote === 'USD';
  const settle = inverse ? base : quote;
  const expiry = tail === 'SWAP' ? '' : `-${tail}`;
  return { symbol: `${base}/${quote}:${settle}${expiry}`, base, quote, settle, inverse };
}

export interface RawOkxFill {
  instType: InstType;
  instId: string;
  billId: string;
  tradeId: string;
  ordId: string;
  side: 'buy' | 'sell';
  px: string;
  sz: string;
  /** OKX sign: < 0 charged */
  fee: string;
  feeCcy: string;
  fillPnl: string;
  maker: boolean;
  ts: number;
}

/** Validates one fills-history row (untrusted). */
export function parseOkxFill(t: InstType, r: unknown): RawOkxFill {
  if (!isRecord(r)) throw malformed('fill row');
  const { instId, billId, tradeId, ordId, side, fillPx, fillSz, fee, feeCcy, execType } = r;
  const ts = safeInt(r['fillTime'] ?? r['ts']);
  if (typeof instId !== 'string' || !INST.test(instId)) throw malformed('fill instId');
  if (r['instType'] !== undefined && r['instType'] !== t)
    throw malformed('fill of another instType');
  for (const id of [billId, tradeId, ordId])
    if (typeof id !== 'string' || !ID.test(id)) throw malformed('fill ids');
  if (side !== 'buy' && side !== 'sell') throw malformed('fill side');
  if (
    typeof fillPx !== 'string' ||
    !UDEC.test(fillPx) ||
    typeof fillSz !== 'string' ||
    !UDEC.test(fillSz)
  )
    throw malformed('fill amounts');
  if (typeof fee !== 'string' || !DEC.test(fee)) throw malformed('fill fee');
  if (typeof feeCcy !== 'string' || !CCY.test(feeCcy)) throw malformed('fill fee currency');
  const fillPnl = r['fillPnl'] === undefined || r['fillPnl'] === '' ? '0' : r['fillPnl'];
  if (typeof fillPnl !== 'string' || !DEC.test(fillPnl)) throw malformed('fill pnl');
  if (execType !== 'T' && execType !== 'M' && execType !== '') throw malformed('fill exec type');
  if (ts === undefined) throw malformed('fill time');
  return {
    instType: t,
    instId,
    billId: billId as string,
    tradeId: tradeId as string,
    ordId: ordId as string,
    side,
    px: fillPx,
    sz: fillSz,
    fee,
    feeCcy,
    fillPnl,
    maker: execType === 'M',
    ts,
  };
}

/**
 * A fill. `id` is the `billId`: unique per account, where `tradeId` repeats on a self-trade's two
 * sides. Spot and margin sizes are in the base coin; derivative sizes are contracts.
 */
export function toOkxFill(f: RawOkxFill, i: OkxInstrument): SpotFill | FuturesFill {
  const common = {
    exchange: 'okx',
    symbol: i.symbol,
    base: i.base,
    quote: i.quote,
    id: f.billId,
    orderId: f.ordId,
    side: f.side,
    price: f.px,
    fee: negateDecimal(f.fee),
    feeAsset: f.feeCcy,
    maker: f.maker,
    ts: f.ts,
  };
  if (f.instType === 'SPOT' || f.instType === 'MARGIN')
    return { ...common, qty: f.sz, quoteQty: mulDecimals(f.sz, f.px) };
  if (i.ctVal === undefined) throw malformed(`no contract value for ${f.instId}`);
  const contracts = mulDecimals(f.sz, i.ctVal);
  const [qty, quoteQty] = i.inverse
    ? [divDecimals(contracts, f.px, INVERSE_SCALE), contracts]
    : [contracts, mulDecimals(contracts, f.px)];
  return {
    ...common,
    market: 'futures',
    qty,
    quoteQty,
    realizedPnl: f.fillPnl,
    settleAsset: i.settle,
  };
}

/** A bills row of type 8 (funding fee): `balChg` is signed, > 0 received. */
export function toOkxFunding(
  r: unknown,
  name: (instType: InstType, instId: string) => string,
): FundingEvent {
  if (!isRecord(r)) throw malformed('bill row');
  const { billId, ccy, balChg, instId, instType, type } = r;
  const ts = safeInt(r['ts']);
  if (type !== '8') throw malformed('bill of another type');
  if (typeof billId !== 'string' || !ID.test(billId)) throw malformed('bill id');
  if (typeof ccy !== 'string' || !CCY.test(ccy)) throw malformed('bill currency');
  if (typeof balChg !== 'string' || !DEC.test(balChg)) throw malformed('bill amount');
  if (typeof instId !== 'string' || !INST.test(instId)) throw malformed('bill instId');
  if (instType !== 'SWAP' && instType !== 'FUTURES') throw malformed('bill instType');
  if (ts === undefined) throw malformed('bill time');
  return {
    type: 'funding',
    ts,
    asset: ccy,
    amount: balChg,
    symbol: name(instType, instId),
    id: billId,
  };
}

/**
 * /api/v5/asset/deposit-history row → a deposit, or undefined when it did not credit. `state` 2
 * (successful) and 1 (credited, not yet withdrawable) are in the balance; 0 (waiting), 8
 * (suspended), 11–14 (blocked, frozen, intercepted, KYC) are not.
 */
export function toOkxDeposit(r: unknown): DepositEvent | undefined {
  if (!isRecord(r)) throw malformed('deposit row');
  const { depId, ccy, amt, state } = r;
  const ts = safeInt(r['ts']);
  if (typeof depId !== 'string' || !ID.test(depId)) throw malformed('deposit id');
  if (typeof ccy !== 'string' || !CCY.test(ccy)) throw malformed('deposit currency');
  if (typeof amt !== 'string' || !UDEC.test(amt)) throw malformed('deposit amount');
  if (typeof state !== 'string' || ts === undefined) throw malformed('deposit state or time');
  if ((state !== '1' && state !== '2') || !isPositive(amt)) return undefined;
  return { type: 'deposit', ts, asset: ccy, amount: amt, id: depId };
}

/**
 * /api/v5/asset/withdrawal-history row → a withdrawal, or undefined unless `state` is 2
 * (success). The flow out is amt + fee when the fee is in the same currency (**assumption**: amt
 * reaches the recipient, the fee is charged on top).
 */
export function toOkxWithdrawal(r: unknown): WithdrawalEvent | undefined {
  if (!isRecord(r)) throw malformed('withdrawal row');
  const { wdId, ccy, amt, state } = r;
  const fee = r['fee'] === undefined || r['fee'] === '' ? '0' : r['fee'];
  const feeCcy = r['feeCcy'] ?? ccy;
  const ts = safeInt(r['ts']);
  if (typeof wdId !== 'string' || !ID.test(wdId)) throw malformed('withdrawal id');
  if (typeof ccy !== 'string' || !CCY.test(ccy)) throw malformed('withdrawal currency');
  if (typeof amt !== 'string' || !UDEC.test(amt) || typeof fee !== 'string' || !UDEC.test(fee))
    throw malformed('withdrawal amount');
  if (typeof state !== 'string' || ts === undefined) throw malformed('withdrawal state or time');
  const total = feeCcy === ccy ? addDecimals(amt, fee) : amt;
  if (state !== '2' || !isPositive(total)) return undefined;
  return { type: 'withdrawal', ts, asset: ccy, amount: total, id: wdId };
}
