/**
 * Deposits and withdrawals of a simulated account: row shapes as the wallet docs print them
 * (developers.binance.com/docs/wallet/capital/deposite-history and …/withdraw-history), the
 * generator's helpers, and the history endpoints' query rules.
 */
import { DAY, fmt8, fmtTrim, hex } from './binance-prim.js';
import { bad, intParam } from './binance-http.js';

/** One row of GET /sapi/v1/capital/deposit/hisrec. */
export interface SimDeposit {
  id: string;
  amount: string;
  coin: string;
  network: string;
  /** 0 pending, 6 credited but cannot withdraw, 7 wrong deposit, 8 waiting user confirm, 1 success */
  status: number;
  address: string;
  addressTag: string;
  txId: string;
  insertTime: number;
  transferType: number;
  confirmTimes: string;
  unlockConfirm: number;
  /** 0 spot wallet, 1 funding wallet */
  walletType: number;
}

/** One row of GET /sapi/v1/capital/withdraw/history. */
export interface SimWithdrawal {
  id: string;
  amount: string;
  transactionFee: string;
  coin: string;
  /** 0 email sent, 1 cancelled, 2 awaiting approval, 3 rejected, 4 processing, 5 failure, 6 completed */
  status: number;
  address: string;
  txId: string;
  /** "YYYY-MM-DD HH:mm:ss", UTC */
  applyTime: string;
  network: string;
  transferType: number;
  info?: string;
  confirmNo: number;
  walletType: number;
  txKey: string;
  completeTime?: string;
}

/** Assets that move in and out (each has a <ASSET>USDT market, so every flow can be priced). */
export const FLOW_ASSETS = ['USDT', 'BTC', 'ETH', 'BNB', 'SOL'] as const;
const NETWORK: Record<string, string> = {
  USDT: 'TRX',
  BTC: 'BTC',
  ETH: 'ETH',
  BNB: 'BSC',
  SOL: 'SOL',
};
/** network fee per withdrawal, e8 */
export const WITHDRAW_FEE_E8: Record<string, bigint> = {
  USDT: 100_000_000n,
  BTC: 20_000n,
  ETH: 200_000n,
  BNB: 50_000n,
  SOL: 1_000_000n,
};
/** [min, max, unit] of a deposit, in e8: amounts are whole multiples of `unit` */
const DEPOSIT_RANGE_E8: Record<string, [number, number, bigint]> = {
  USDT: [1_000, 50_000, 100_000_000n],
  BTC: [100, 5_000, 10_000n],
  ETH: [1_000, 50_000, 10_000n],
  BNB: [1_000, 20_000, 100_000n],
  SOL: [100, 10_000, 1_000_000n],
};

/** "deposit credited": the statuses whose amount is in the spot balance (1 success, 6 credited) */
export const creditsSpot = (d: SimDeposit) =>
  (d.status === 1 || d.status === 6) && d.walletType === 0;
export const debitsSpot = (w: SimWithdrawal) => w.status === 6 && w.walletType === 0;

export function depositAmountE8(rnd: () => number, asset: string): bigint {
  const [lo, hi, unit] = DEPOSIT_RANGE_E8[asset]!;
  return BigInt(lo + Math.floor(rnd() * (hi - lo))) * unit;
}

export function depositRow(
  rnd: () => number,
  seq: number,
  coin: string,
  amountE8: bigint,
  time: number,
  status: number,
  walletType = 0,
): SimDeposit {
  return {
    // numeric string like the docs' "769800519366885376"; seq keeps ids unique per account
    id: String(
      760_000_000_000_000_000n + BigInt(seq) * 1_000_000_000n + BigInt(Math.floor(rnd() * 1e9)),
    ),
    amount: fmtTrim(amountE8),
    coin,
    network: NETWORK[coin] ?? coin,
    status,
    address: `sim${hex(rnd, 37)}`,
    addressTag: '',
    txId: `0x${hex(rnd, 64)}`,
    insertTime: time,
    transferType: 0,
    confirmTimes: status === 0 ? '0/12' : '12/12',
    unlockConfirm: 0,
    walletType,
  };
}

const utc = (t: number) => new Date(t).toISOString().slice(0, 19).replace('T', ' ');

export function withdrawalRow(
  rnd: () => number,
  seq: number,
  coin: string,
  amountE8: bigint,
  time: number,
  status: number,
): SimWithdrawal {
  const row: SimWithdrawal = {
    id: `${seq.toString(16).padStart(4, '0')}${hex(rnd, 28)}`,
    amount: fmt8(amountE8),
    transactionFee: fmtTrim(WITHDRAW_FEE_E8[coin]!),
    coin,
    status,
    address: `sim${hex(rnd, 37)}`,
    txId: status === 6 ? `0x${hex(rnd, 64)}` : '',
    applyTime: utc(time),
    network: NETWORK[coin] ?? coin,
    transferType: 0,
    confirmNo: status === 6 ? 12 : 0,
    walletType: 0,
    txKey: '',
  };
  if (status === 6) row.completeTime = utc(time + 60_000 * (1 + Math.floor(rnd() * 30)));
  else row.info = 'The address is not valid. Please confirm with the recipient';
  return row;
}

/** Withdrawal time in ms from its UTC applyTime string (second resolution). */
export const withdrawalTime = (w: SimWithdrawal) => Date.parse(`${w.applyTime.replace(' ', 'T')}Z`);

/**
 * The rules both history endpoints share: startTime defaults to 90 days before now and endTime
 * to now; more than 90 days between them is rejected (docs: "must be less than 90 days";
 * choice: -1127 MORE_THAN_XX_HOURS, the documented code for a too-large lookup interval, since
 * the wallet docs name none; exactly 90 days passes, as the defaults span exactly 90 days);
 * limit 1..1000 (default 1000), offset ≥ 0; rows newest first (choice: as observed on Binance).
 */
export function queryHistory<T extends { coin: string; status: number }>(
  rows: readonly T[],
  timeOf: (r: T) => number,
  p: Map<string, string>,
  now: number,
): T[] {
  const end = intParam(p, 'endTime') ?? now;
  const start = intParam(p, 'startTime') ?? now - 90 * DAY;
  if (end - start > 90 * DAY)
    throw bad(-1127, 'More than 2160 hours between startTime and endTime.');
  const limit = intParam(p, 'limit') ?? 1000;
  if (limit < 1 || limit > 1000) throw bad(-1130, "Data sent for parameter 'limit' is not valid.");
  const offset = intParam(p, 'offset') ?? 0;
  const coin = p.get('coin');
  const status = intParam(p, 'status');
  return rows
    .filter((r) => {
      const t = timeOf(r);
      return (
        t >= start &&
        t <= end &&
        (coin === undefined || r.coin === coin) &&
        (status === undefined || r.status === status)
      );
    })
    .sort((a, b) => timeOf(b) - timeOf(a))
    .slice(offset, offset + limit);
}
