/**
 * Binance spot external flows: GET /sapi/v1/capital/deposit/hisrec and
 * GET /sapi/v1/capital/withdraw/history (developers.binance.com/docs/wallet/capital/…).
 *
 * Both answer at most a 90-day window ("time between startTime and endTime must be less than 90
 * days") and page by offset with limit ≤ 1000. We walk 89-day windows: Binance support advised
 * 89 days for a sibling 90-day endpoint whose exact bound is off by one (rotki/rotki#10051).
 * Inside a window we page until an EMPTY page, as for trades: a short page proves nothing.
 */
import { compareEvents, type DepositEvent, type WithdrawalEvent } from '../aggregates/ledger.js';
import { ASSET, isRecord, malformed, safeInt, type BinanceGet } from './binance-common.js';
import { UDEC, addDecimals, isPositive } from './decimal.js';
import type { FetchFlowsOptions, FlowEvent } from './types.js';

const DAY = 86_400_000;
export const FLOW_WINDOW_MS = 89 * DAY;
/** Binance opened in July 2017: no account has flows before, so windows start no earlier. */
export const BINANCE_LAUNCH_MS = Date.UTC(2017, 6, 1);
const PAGE = 1000;
/** a server that never sends an empty page must not keep us paging forever */
const MAX_ROWS_PER_WINDOW = 1_000_000;

/**
 * Deposit statuses whose amount is in the balance: 1 success, 6 "credited but cannot withdraw".
 * 0 pending, 7 wrong deposit, 8 waiting user confirm and 2 rejected never credited anything.
 */
const CREDITED = new Set([1, 6]);
/**
 * Withdrawal status 6 "completed" only. 1 cancelled, 3 rejected, 5 failure gave the funds back;
 * 0/2/4 are in flight: Binance has already debited them, so until they complete the balance
 * snapshot (BalanceEvent) is what accounts for them.
 */
const COMPLETED = 6;
/** walletType 0 is the spot wallet; 1 (funding) is outside the measured account. */
const SPOT_WALLET = 0;

export async function fetchBinanceFlows(
  get: BinanceGet,
  currencyCode: (id: string) => string,
  o: FetchFlowsOptions,
  now: number = Date.now(),
): Promise<FlowEvent[]> {
  const since = Math.max(o.since, BINANCE_LAUNCH_MS);
  const until = o.until ?? now;
  if (!Number.isSafeInteger(since) || !Number.isSafeInteger(until))
    throw new RangeError('since/until must be integer milliseconds');
  // windows never overlap, but offset paging over a newest-first list can repeat a row when a
  // new flow lands mid-walk: key by id so it counts once
  const out = new Map<string, FlowEvent>();
  for (let start = since; start <= until; start += FLOW_WINDOW_MS) {
    const end = Math.min(start + FLOW_WINDOW_MS - 1, until);
    for (const kind of ['deposit', 'withdrawal'] as const) {
      for (let offset = 0; ;) {
        const rows = await get(kind === 'deposit' ? 'depositHistory' : 'withdrawHistory', {
          startTime: String(start),
          endTime: String(end),
          offset: String(offset),
          limit: String(PAGE),
        });
        if (!Array.isArray(rows)) throw malformed(`${kind} history`);
        if (rows.length === 0) break;
        for (const r of rows) {
          const ev =
            kind === 'deposit' ? toDeposit(r, currencyCode) : toWithdrawal(r, currencyCode);
          if (ev && ev.ts >= since && ev.ts <= until) out.set(`${kind}:${ev.id}`, ev);
        }
        offset += rows.length;
        if (offset > MAX_ROWS_PER_WINDOW) throw malformed(`${kind} history does not end`);
      }
    }
  }
  return [...out.values()].sort(compareEvents);
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

function rowId(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return typeof v === 'string' && ID.test(v) ? v : undefined;
}

/** Validates one deposit row (untrusted); undefined when it did not credit the spot wallet. */
export function toDeposit(r: unknown, code: (id: string) => string): DepositEvent | undefined {
  if (!isRecord(r)) throw malformed('deposit row');
  const id = rowId(r['id']);
  const { amount, coin } = r;
  const status = safeInt(r['status']);
  const ts = safeInt(r['insertTime']);
  const wallet = r['walletType'] === undefined ? SPOT_WALLET : safeInt(r['walletType']);
  if (id === undefined || status === undefined || ts === undefined || wallet === undefined)
    throw malformed('deposit id, status, time or wallet');
  if (typeof amount !== 'string' || !UDEC.test(amount)) throw malformed('deposit amount');
  if (typeof coin !== 'string' || !ASSET.test(coin)) throw malformed('deposit coin');
  if (!CREDITED.has(status) || wallet !== SPOT_WALLET || !isPositive(amount)) return undefined;
  return { type: 'deposit', ts, asset: code(coin), amount, id };
}

/**
 * Validates one withdrawal row; undefined unless it completed from the spot wallet. The flow out
 * is amount + transactionFee: the docs call `amount` the withdrawal amount and list the network
 * fee beside it, and both leave the account.
 */
export function toWithdrawal(
  r: unknown,
  code: (id: string) => string,
): WithdrawalEvent | undefined {
  if (!isRecord(r)) throw malformed('withdrawal row');
  const id = rowId(r['id']);
  const { amount, coin } = r;
  const fee = r['transactionFee'] ?? '0';
  const status = safeInt(r['status']);
  const ts = applyTime(r['applyTime']);
  const wallet = r['walletType'] === undefined ? SPOT_WALLET : safeInt(r['walletType']);
  if (id === undefined || status === undefined || ts === undefined || wallet === undefined)
    throw malformed('withdrawal id, status, time or wallet');
  if (
    typeof amount !== 'string' ||
    !UDEC.test(amount) ||
    typeof fee !== 'string' ||
    !UDEC.test(fee)
  )
    throw malformed('withdrawal amount');
  if (typeof coin !== 'string' || !ASSET.test(coin)) throw malformed('withdrawal coin');
  const total = addDecimals(amount, fee);
  if (status !== COMPLETED || wallet !== SPOT_WALLET || !isPositive(total)) return undefined;
  return { type: 'withdrawal', ts, asset: code(coin), amount: total, id };
}

/** applyTime is "YYYY-MM-DD HH:mm:ss" in UTC (docs: "UTC time"). */
function applyTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const t = Date.UTC(y, mo - 1, d, h, mi, s);
  // reject what Date.UTC would silently roll over, e.g. "2025-02-30"
  return new Date(t).toISOString().slice(0, 19) === `${v.slice(0, 10)}T${v.slice(11)}`
    ? t
    : undefined;
}
