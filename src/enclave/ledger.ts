/**
 * Builds the engine's ledger from one exchange account: every fill, the external flows, and the
 * opening balances. Opening balances are reconstructed backwards from today's balances:
 *   opening(asset) = balance now − Σ every change recorded after the opening time
 * so capital that arrived before the recorded history (or through a channel the API does not
 * report) is present from the start instead of appearing later as fake performance; whatever the
 * records cannot explain shows up in the engine as a balance adjustment (an external flow).
 */
import { compareFills, type Fill } from '../aggregates/fill.js';
import { add, parseTicks, sub, toDecimal, type Tick } from '../aggregates/fixed.js';
import type { BalanceEvent, LedgerEvent, LedgerFill } from '../aggregates/ledger.js';
import type { AccountEvent, ExchangeClient } from '../exchanges/types.js';
import type { History } from './history.js';
import type { ProgressReporter } from './progress.js';

const HOUR = 3_600_000;
/**
 * An incremental download re-reads the last day before the stored high-water mark, so rows the
 * exchange publishes late (replica lag, settlement) are not missed; duplicates merge by row id.
 */
export const HISTORY_OVERLAP_MS = 24 * HOUR;

export interface AccountLedger {
  events: LedgerEvent[];
  fills: Fill[];
  /** Every asset the account touched or holds: what the price oracle must cover. */
  assets: string[];
  /** When the opening balances are stated (just before the first recorded activity). */
  openingAt: number;
  /** First fill or flow, or null for an account with no history. */
  firstActivity: number | null;
  /** What to store for the next request: everything above, up to `now`. */
  history: History;
  /**
   * How the stored history was used: `incremental` (merged, only new rows fetched), `none` (no
   * history: full download), `gap` (the stored history ends before the exchange's horizon, or
   * before where this download is complete from, so rows in between may be missing: discarded).
   */
  historyUse: 'incremental' | 'none' | 'gap';
}

const fillKey = (f: Fill): string => `${(f as LedgerFill).market ?? 'spot'}|${f.symbol}|${f.id}`;
// Rows without an exchange id are keyed by their whole content (equal rows are the same row).
const flowKey = (e: AccountEvent): string =>
  e.id === undefined ? `${e.type}|${JSON.stringify(e)}` : `${e.type}|${e.id}`;

/** Stored rows, then fetched ones: a re-fetched row replaces its stored copy (by key). */
function merge<T>(stored: readonly T[], fetched: readonly T[], key: (x: T) => string): T[] {
  const out = new Map<string, T>();
  for (const x of stored) out.set(key(x), x);
  for (const x of fetched) out.set(key(x), x);
  return [...out.values()];
}

/**
 * Per-symbol `fromId` resume points for adapters that page by trade id: the first stored trade
 * at or after `since` (so the overlap window is re-read), else the one after the last stored
 * trade. Symbols with non-numeric ids get none (read in full or by time).
 */
export function resumePoints(fills: readonly Fill[], since: number): Record<string, string> {
  const bySymbol = new Map<string, { max: bigint; firstRecent: bigint | null } | null>();
  for (const f of fills) {
    if (bySymbol.get(f.symbol) === null) continue;
    if (!/^\d{1,20}$/.test(f.id)) {
      bySymbol.set(f.symbol, null);
      continue;
    }
    const id = BigInt(f.id);
    const s = bySymbol.get(f.symbol) ?? { max: -1n, firstRecent: null };
    if (id > s.max) s.max = id;
    if (f.ts >= since && (s.firstRecent === null || id < s.firstRecent)) s.firstRecent = id;
    bySymbol.set(f.symbol, s);
  }
  const out: Record<string, string> = {};
  for (const [symbol, s] of bySymbol) if (s) out[symbol] = (s.firstRecent ?? s.max + 1n).toString();
  return out;
}

export async function loadAccountLedger(
  client: Pick<ExchangeClient, 'fetchFills' | 'fetchFlows' | 'balances' | 'historySince'>,
  opts: {
    from: number | null;
    now: number;
    progress?: ProgressReporter;
    /** what the last request stored (opened and checked by the caller), or null */
    history?: History | null;
  },
): Promise<AccountLedger> {
  const horizon = Math.min(client.historySince(opts.now), opts.now);
  const given = opts.history ?? null;
  // A history that ends before the exchange's horizon cannot be bridged: rows in the hole may be
  // gone for good. Start over rather than sign a span with a silent gap.
  const usable = given !== null && given.fetchedTo - HISTORY_OVERLAP_MS >= horizon ? given : null;
  // A stored history that starts after the horizon was cut short by the exchange (OKX archive
  // files still being generated): download in full again, so this request retries the older part.
  const retry = usable?.cutShort === true && usable.completeFrom > horizon;
  const since = usable === null || retry ? undefined : usable.fetchedTo - HISTORY_OVERLAP_MS;
  let covered = -Infinity;
  // The whole fill history: fills before `from` build the opening positions and cost basis.
  const fetched = await client.fetchFills({
    ...(opts.progress && { onProgress: (p) => opts.progress!.download(p) }),
    ...(since !== undefined && { since, fromIds: resumePoints(usable!.fills, since) }),
    onCoverage: (t) => {
      covered = Math.max(covered, t);
    },
  });
  // The fetched fills are complete from `reach`; the stored ones up to their `fetchedTo`. Merged
  // only when the two meet, else the fetched span stands alone (a gap is never signed over).
  const reach = Math.max(horizon, covered, since ?? -Infinity);
  const stored = usable !== null && usable.fetchedTo >= reach ? usable : null;
  const fills =
    stored === null ? fetched : merge(stored.fills, fetched, fillKey).sort(compareFills);
  const firstFill = fills.reduce((m, f) => Math.min(m, f.ts), Infinity);
  const openingAt = Math.min(firstFill, opts.from ?? Infinity, opts.now) - HOUR;
  opts.progress?.phase('flows');
  let flows: AccountEvent[];
  let flowsFrom = openingAt + 1;
  if (stored === null) {
    flows = await client.fetchFlows({ since: flowsFrom, until: opts.now });
  } else {
    const fresh = await client.fetchFlows({ since: since ?? flowsFrom, until: opts.now });
    // a request reaching further back than the stored flows: fetch the part before them too
    const older =
      flowsFrom < stored.flowsFrom && since !== undefined
        ? await client.fetchFlows({ since: flowsFrom, until: stored.flowsFrom - 1 })
        : [];
    flowsFrom = Math.min(flowsFrom, stored.flowsFrom);
    flows = merge([...older, ...stored.flows], fresh, flowKey).sort((a, b) => a.ts - b.ts);
  }
  opts.progress?.phase('balances');
  const current = await client.balances();

  const delta = new Map<string, Tick>();
  const move = (asset: string, amount: string, sign: 1 | -1): void => {
    const t = parseTicks(amount);
    if (t === undefined) return; // unparseable amounts are the engine's to count, not ours to guess
    delta.set(asset, sign > 0 ? add(delta.get(asset) ?? 0, t) : sub(delta.get(asset) ?? 0, t));
  };
  // valued by the oracle without moving a holding: futures bases (their unrealized PnL)
  const marked = new Set<string>();
  for (const f of fills as LedgerFill[]) {
    if (f.market === 'futures') {
      // a futures fill moves no holding of base or quote; its realized PnL (in the settle
      // asset) and its commission move the futures wallet (docs/methodology.md §4.4)
      if (f.realizedPnl !== undefined) move(f.settleAsset ?? f.quote, f.realizedPnl, 1);
      move(f.feeAsset, f.fee, -1);
      marked.add(f.base);
      continue;
    }
    move(f.base, f.qty, f.side === 'buy' ? 1 : -1);
    move(f.quote, f.quoteQty, f.side === 'buy' ? -1 : 1);
    move(f.feeAsset, f.fee, -1);
  }
  for (const e of flows) {
    // deposits and withdrawals are unsigned; transfers and funding carry their sign; a fee > 0 is paid
    const sign = e.type === 'withdrawal' || e.type === 'fee' ? -1 : 1;
    move(e.asset, e.amount, sign);
  }

  const assets = new Set<string>([...Object.keys(current), ...delta.keys(), ...marked]);
  const opening: BalanceEvent[] = [];
  for (const asset of assets) {
    const now = parseTicks(current[asset] ?? '0') ?? 0;
    const open = sub(now, delta.get(asset) ?? 0);
    if (open !== 0 && open !== 0n)
      opening.push({ type: 'balance', ts: openingAt, asset, amount: toDecimal(open) });
  }
  const completeFrom = stored === null ? reach : Math.min(stored.completeFrom, reach);
  const firstFlow = flows.reduce((m, e) => Math.min(m, e.ts), Infinity);
  const first = Math.min(firstFill, firstFlow);
  return {
    events: [...opening, ...fills, ...flows],
    fills,
    assets: [...assets].sort(),
    openingAt,
    firstActivity: Number.isFinite(first) ? first : null,
    history: {
      completeFrom,
      ...(covered > -Infinity && completeFrom > horizon && { cutShort: true }),
      fetchedTo: opts.now,
      flowsFrom,
      fills,
      flows,
    },
    historyUse: stored !== null ? 'incremental' : given !== null ? 'gap' : 'none',
  };
}
