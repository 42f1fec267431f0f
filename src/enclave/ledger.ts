/**
 * Builds the engine's ledger from one exchange account: every fill, the external flows, and the
 * opening balances. Opening balances are reconstructed backwards from today's balances:
 *   opening(asset) = balance now − Σ every change recorded after the opening time
 * so capital that arrived before the recorded history (or through a channel the API does not
 * report) is present from the start instead of appearing later as fake performance; whatever the
 * records cannot explain shows up in the engine as a balance adjustment (an external flow).
 */
import type { Fill } from '../aggregates/fill.js';
import { add, parseTicks, sub, toDecimal, type Tick } from '../aggregates/fixed.js';
import type { BalanceEvent, LedgerEvent } from '../aggregates/ledger.js';
import type { ExchangeClient } from '../exchanges/types.js';

const HOUR = 3_600_000;

export interface AccountLedger {
  events: LedgerEvent[];
  fills: Fill[];
  /** Every asset the account touched or holds: what the price oracle must cover. */
  assets: string[];
  /** When the opening balances are stated (just before the first recorded activity). */
  openingAt: number;
  /** First fill or flow, or null for an account with no history. */
  firstActivity: number | null;
}

export async function loadAccountLedger(
  client: Pick<ExchangeClient, 'fetchFills' | 'fetchFlows' | 'balances'>,
  opts: { from: number | null; now: number },
): Promise<AccountLedger> {
  // The whole fill history: fills before `from` build the opening positions and cost basis.
  const fills = await client.fetchFills({});
  const firstFill = fills.reduce((m, f) => Math.min(m, f.ts), Infinity);
  const openingAt = Math.min(firstFill, opts.from ?? Infinity, opts.now) - HOUR;
  const flows = await client.fetchFlows({ since: openingAt + 1, until: opts.now });
  const current = await client.balances();

  const delta = new Map<string, Tick>();
  const move = (asset: string, amount: string, sign: 1 | -1): void => {
    const t = parseTicks(amount);
    if (t === undefined) return; // unparseable amounts are the engine's to count, not ours to guess
    delta.set(asset, sign > 0 ? add(delta.get(asset) ?? 0, t) : sub(delta.get(asset) ?? 0, t));
  };
  for (const f of fills) {
    move(f.base, f.qty, f.side === 'buy' ? 1 : -1);
    move(f.quote, f.quoteQty, f.side === 'buy' ? -1 : 1);
    move(f.feeAsset, f.fee, -1);
  }
  for (const e of flows) move(e.asset, e.amount, e.type === 'deposit' ? 1 : -1);

  const assets = new Set<string>([...Object.keys(current), ...delta.keys()]);
  const opening: BalanceEvent[] = [];
  for (const asset of assets) {
    const now = parseTicks(current[asset] ?? '0') ?? 0;
    const open = sub(now, delta.get(asset) ?? 0);
    if (open !== 0 && open !== 0n)
      opening.push({ type: 'balance', ts: openingAt, asset, amount: toDecimal(open) });
  }
  const firstFlow = flows.reduce((m, e) => Math.min(m, e.ts), Infinity);
  const first = Math.min(firstFill, firstFlow);
  return {
    events: [...opening, ...fills, ...flows],
    fills,
    assets: [...assets].sort(),
    openingAt,
    firstActivity: Number.isFinite(first) ? first : null,
  };
}
