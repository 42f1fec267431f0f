/**
 * Faults the simulator can be told to show, through its admin API (`POST /__sim/faults`), so that
 * reliability tests meet a misbehaving exchange over real HTTP rather than a mocked client:
 *   latency  answer after `ms` milliseconds (a slow exchange)
 *   status   answer `status` (500–599) with Binance's -1001 body (a 5xx storm)
 *   hang     never answer (the client's timeout fires)
 *   reset    send the status line, headers and half of the body, then destroy the socket
 *            (a connection reset mid-page)
 * A rule applies to requests whose path starts with `path` (default: every API path), lets the
 * first `after` of them through, then hits the next `count` (default: all, until cleared).
 */

export type FaultKind = 'latency' | 'status' | 'hang' | 'reset';

export interface FaultRule {
  kind: FaultKind;
  path?: string;
  after?: number;
  count?: number;
  ms?: number;
  status?: number;
}

interface ActiveRule extends FaultRule {
  seen: number;
  hits: number;
}

const KINDS = new Set<FaultKind>(['latency', 'status', 'hang', 'reset']);
const MAX_RULES = 32;

function isCount(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
}

/** Strict: unknown fields, wrong types or out-of-range values throw (the admin API answers 400). */
export function parseFaultRules(input: unknown): FaultRule[] {
  const fail = (): never => {
    throw new Error('sim: invalid fault rules');
  };
  const rules = (input as { rules?: unknown })?.rules;
  if (!Array.isArray(rules) || rules.length > MAX_RULES) return fail();
  return rules.map((r: unknown): FaultRule => {
    if (typeof r !== 'object' || r === null || Array.isArray(r)) return fail();
    const o = r as Record<string, unknown>;
    const allowed = new Set(['kind', 'path', 'after', 'count', 'ms', 'status']);
    if (Object.keys(o).some((k) => !allowed.has(k))) return fail();
    if (!KINDS.has(o['kind'] as FaultKind)) return fail();
    const kind = o['kind'] as FaultKind;
    const out: FaultRule = { kind };
    if (o['path'] !== undefined) {
      if (typeof o['path'] !== 'string' || !/^\/[\x21-\x7e]{0,200}$/.test(o['path'])) fail();
      out.path = o['path'] as string;
    }
    if (o['after'] !== undefined) out.after = isCount(o['after'], 1e9) ? o['after'] : fail();
    if (o['count'] !== undefined) out.count = isCount(o['count'], 1e9) ? o['count'] : fail();
    if (kind === 'latency') out.ms = isCount(o['ms'], 600_000) ? o['ms'] : fail();
    else if (o['ms'] !== undefined) fail();
    if (kind === 'status') {
      const s = o['status'];
      out.status = isCount(s, 599) && s >= 500 ? s : fail();
    } else if (o['status'] !== undefined) fail();
    return out;
  });
}

export class FaultPlan {
  private rules: ActiveRule[] = [];

  set(rules: FaultRule[]): void {
    this.rules = rules.map((r) => ({ ...r, seen: 0, hits: 0 }));
  }

  /** The rules with how many requests each has seen and hit. */
  view(): (FaultRule & { seen: number; hits: number })[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** The fault for this request, if any (the first rule that fires); counts it. */
  pick(path: string): FaultRule | undefined {
    for (const r of this.rules) {
      if (r.path !== undefined && !path.startsWith(r.path)) continue;
      r.seen++;
      if (r.seen <= (r.after ?? 0)) continue;
      if (r.count !== undefined && r.hits >= r.count) continue;
      r.hits++;
      return r;
    }
    return undefined;
  }
}
