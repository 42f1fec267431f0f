/**
 * The simulator's signed spot account endpoints: GET /api/v3/account and GET /api/v3/myTrades
 * (rest-api.md "Account information", "Account trade list", "General API Information").
 */
import { SYMBOLS, type SimTrade } from './binance-data.js';
import { bad, intParam, mandatory } from './binance-http.js';
import { DAY, fmt8 } from './binance-prim.js';

/** What these endpoints read of an account. */
export interface SpotAccount {
  spec: { canWithdraw?: boolean; canTrade?: boolean };
  uid: number;
  /** asset → total balance in e8 */
  balances: Map<string, bigint>;
  updateTime: number;
  /** symbol → trades sorted by id (ids rise with time) */
  bySymbol: Map<string, SimTrade[]>;
}

/** GET /api/v3/account; omitZeroBalances=true drops rows whose free and locked are both zero. */
export function accountInfo(a: SpotAccount, p: Map<string, string>): unknown {
  const omit = p.get('omitZeroBalances');
  if (omit !== undefined && omit !== 'true' && omit !== 'false')
    throw bad(-1130, "Data sent for parameter 'omitZeroBalances' is not valid.");
  const assets = new Set<string>([
    ...a.balances.keys(),
    ...SYMBOLS.flatMap((s) => [s.base, s.quote]),
  ]);
  const balances = [...assets]
    .sort()
    .map((asset) => {
      const total = a.balances.get(asset) ?? 0n;
      // a tenth of the USDT sits in an open order: clients must count free + locked
      const locked = asset === 'USDT' ? total / 10n : 0n;
      return { asset, free: fmt8(total - locked), locked: fmt8(locked) };
    })
    .filter((b) => omit !== 'true' || b.free !== '0.00000000' || b.locked !== '0.00000000');
  return {
    makerCommission: 10,
    takerCommission: 10,
    buyerCommission: 0,
    sellerCommission: 0,
    commissionRates: {
      maker: '0.00100000',
      taker: '0.00100000',
      buyer: '0.00000000',
      seller: '0.00000000',
    },
    canTrade: a.spec.canTrade ?? true,
    canWithdraw: a.spec.canWithdraw ?? false,
    canDeposit: true,
    brokered: false,
    requireSelfTradePrevention: false,
    preventSor: false,
    updateTime: a.updateTime,
    accountType: 'SPOT',
    balances,
    permissions: ['SPOT'],
    uid: a.uid,
  };
}

/** GET /api/v3/myTrades semantics from "Account trade list" and "General API Information". */
export function myTrades(
  a: SpotAccount,
  p: Map<string, string>,
  pageEdgeDuplicates = false,
): SimTrade[] {
  const symbol = p.get('symbol');
  if (symbol === undefined || symbol === '') throw mandatory('symbol');
  if (!SYMBOLS.some((s) => s.symbol === symbol)) throw bad(-1121, 'Invalid symbol.');
  const orderId = intParam(p, 'orderId');
  const fromId = intParam(p, 'fromId');
  const start = intParam(p, 'startTime');
  const end = intParam(p, 'endTime');
  const lim = intParam(p, 'limit') ?? 500;
  // choice: the docs only say "Maximum: 1000"; we reject rather than clamp, so a client that
  // assumes bigger pages fails loudly instead of silently losing rows
  if (lim < 1 || lim > 1000) throw bad(-1130, "Data sent for parameter 'limit' is not valid.");
  const combo = ['orderId', 'startTime', 'endTime', 'fromId'].filter((k) => p.has(k)).join('+');
  if (
    ![
      '',
      'orderId',
      'startTime',
      'endTime',
      'fromId',
      'startTime+endTime',
      'orderId+fromId',
    ].includes(combo)
  ) {
    throw bad(-1128, 'Combination of optional parameters invalid.');
  }
  if (start !== undefined && end !== undefined && end - start > DAY)
    throw bad(-1127, 'More than 24 hours between startTime and endTime.');
  let rows = a.bySymbol.get(symbol) ?? [];
  if (orderId !== undefined) rows = rows.filter((t) => t.orderId === orderId);
  if (fromId !== undefined) {
    const page = rows.filter((t) => t.id >= fromId).slice(0, lim);
    // adversarial: a page that overlaps the previous one by a row (as an eventually consistent
    // replica might); only when the page has new rows, so an end of history stays empty
    const before = rows.filter((t) => t.id < fromId).at(-1);
    return pageEdgeDuplicates && before && page.length > 0
      ? [before, ...page.slice(0, lim - 1)]
      : page;
  }
  if (start !== undefined)
    return rows
      .filter((t) => t.time >= start && (end === undefined || t.time <= end))
      .slice(0, lim);
  if (end !== undefined) rows = rows.filter((t) => t.time <= end);
  return rows.slice(Math.max(0, rows.length - lim)); // most recent `limit`, still chronological
}
