/**
 * Coinbase external flows. The Advanced Trade API has no deposit or withdrawal history, so they
 * come from the Coinbase App v2 API, which a CDP key with the "view" permission may read:
 * GET /v2/accounts/:account_id/transactions, one wallet at a time (the wallet uuids of
 * GET /api/v3/brokerage/accounts are the v2 account ids).
 *
 * v2 pagination ("Pagination", docs.cdp.coinbase.com/coinbase-app): newest first, `limit` ≤ 100,
 * the next page starts after `pagination.next_starting_after`; it is null on the last page. We
 * page until it is null or a page is EMPTY, and key rows by id, so a transaction arriving
 * mid-walk (which shifts a newest-first list) counts once.
 *
 * Counted, `status: "completed"` only:
 *   fiat_deposit, receive, send with a positive amount        → deposit
 *   fiat_withdrawal, send with a negative amount             → withdrawal of |amount| + network fee
 * Every other type (buy, sell, trade, advanced_trade_fill, staking and other rewards, …) is not an
 * external flow here: fills come from the fill history, the rest is not covered
 * (docs/exchanges.md) and shows up as a balance adjustment.
 */
import { compareEvents } from '../aggregates/ledger.js';
import { isRecord, malformed } from './binance-common.js';
import { parseRfc3339 } from './coinbase-fills.js';
import { UDEC, addDecimals, isPositive } from './decimal.js';
import type { FetchFlowsOptions, FlowEvent } from './types.js';

/** One GET through the client's retry and rate-limit path; resolves to the parsed JSON body. */
export type CoinbaseGet = (
  endpoint: 'transactions',
  params: Record<string, string>,
) => Promise<unknown>;

export interface CoinbaseWallet {
  uuid: string;
  currency: string;
}

const PAGE = 100;
/** a server that never ends a walk must not keep us paging forever */
const MAX_ROWS_PER_WALLET = 1_000_000;
const ID = /^[A-Za-z0-9-]{1,64}$/;
const SIGNED = /^-?\d{1,30}(\.\d{1,30})?$/;

export async function fetchCoinbaseFlows(
  get: CoinbaseGet,
  wallets: readonly CoinbaseWallet[],
  o: FetchFlowsOptions,
  now: number = Date.now(),
): Promise<FlowEvent[]> {
  const until = o.until ?? now;
  const out = new Map<string, FlowEvent>();
  for (const w of wallets) {
    let after: string | undefined;
    for (let seen = 0; ;) {
      const params: Record<string, string> = { account_id: w.uuid, limit: String(PAGE) };
      if (after !== undefined) params['starting_after'] = after;
      const r = await get('transactions', params);
      if (!isRecord(r) || !Array.isArray(r['data']) || !isRecord(r['pagination']))
        throw malformed('transactions');
      const rows = r['data'];
      if (rows.length === 0) break;
      for (const row of rows) {
        const ev = toFlow(row, w.currency);
        if (ev && ev.ts >= o.since && ev.ts <= until) out.set(ev.id!, ev);
      }
      const next = r['pagination']['next_starting_after'];
      if (next === null || next === undefined) break;
      if (typeof next !== 'string' || !ID.test(next) || next === after)
        throw malformed('transactions cursor');
      after = next;
      seen += rows.length;
      if (seen > MAX_ROWS_PER_WALLET) throw malformed('transactions do not end');
    }
  }
  return [...out.values()].sort(compareEvents);
}

/** Validates one v2 transaction (untrusted); undefined when it is not a completed external flow. */
export function toFlow(r: unknown, walletCurrency: string): FlowEvent | undefined {
  if (!isRecord(r)) throw malformed('transaction row');
  const { id, type, status, amount } = r;
  if (typeof id !== 'string' || !ID.test(id)) throw malformed('transaction id');
  if (typeof type !== 'string' || typeof status !== 'string') throw malformed('transaction type');
  if (!isRecord(amount) || typeof amount['amount'] !== 'string' || !SIGNED.test(amount['amount']))
    throw malformed('transaction amount');
  if (amount['currency'] !== walletCurrency) throw malformed('transaction currency');
  const ts = parseRfc3339(r['created_at']);
  if (ts === undefined) throw malformed('transaction time');
  if (status !== 'completed') return undefined;
  const value = amount['amount'];
  const negative = value.startsWith('-');
  const abs = negative ? value.slice(1) : value;
  if (!isPositive(abs)) return undefined;
  const deposit =
    ((type === 'fiat_deposit' || type === 'receive') && !negative) ||
    (type === 'send' && !negative);
  const withdrawal = (type === 'fiat_withdrawal' || type === 'send') && negative;
  if (deposit) return { type: 'deposit', ts, asset: walletCurrency, amount: abs, id };
  if (!withdrawal) return undefined;
  // assumption: the network fee is debited on top of the amount sent, as on Binance
  let total = abs;
  const network = r['network'];
  if (isRecord(network) && isRecord(network['transaction_fee'])) {
    const fee = network['transaction_fee'];
    if (typeof fee['amount'] !== 'string' || !UDEC.test(fee['amount']))
      throw malformed('transaction fee');
    if (fee['currency'] === walletCurrency) total = addDecimals(abs, fee['amount']);
  }
  return { type: 'withdrawal', ts, asset: walletCurrency, amount: total, id };
}
