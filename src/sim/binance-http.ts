/**
 * Request parsing and Binance-style errors shared by the simulator's endpoints. Every request is
 * attacker-controlled input: parsed strictly, answered with `{code,msg}`.
 */

export class Reject extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly msg: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(msg);
  }
}

export const bad = (code: number, msg: string) => new Reject(400, code, msg);
export const mandatory = (p: string) =>
  bad(-1102, `Mandatory parameter '${p}' was not sent, was empty/null, or malformed.`);

/** Timestamps may be sent in microseconds ("General API Information"). */
export function toMs(t: number): number {
  return t >= 1e14 ? Math.floor(t / 1000) : t;
}

/** An optional non-negative integer parameter (-1100 when it is not one). */
export function intParam(p: Map<string, string>, k: string): number | undefined {
  const v = p.get(k);
  if (v === undefined) return undefined;
  if (!/^\d{1,19}$/.test(v))
    throw bad(
      -1100,
      `Illegal characters found in parameter '${k}'; legal range is '^[0-9]{1,20}$'.`,
    );
  const n = Number(v);
  return k === 'startTime' || k === 'endTime' ? toMs(n) : n;
}

/** Strict query parser: printable ASCII only (-1100), each name once (-1101). */
export function parseQuery(raw: string): Map<string, string> {
  if (/[^\x21-\x7e]/.test(raw)) throw bad(-1100, 'Illegal characters found in a parameter.');
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(raw)) {
    if (out.has(k)) throw bad(-1101, 'Duplicate values for a parameter detected.');
    out.set(k, v);
  }
  return out;
}
