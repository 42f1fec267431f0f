/**
 * The `Prefer` request header (RFC 7240) as far as the host honours it: `respond-async`, with an
 * optional `wait=<seconds>` (RFC 7240 §4.1, §4.3). Unknown preferences are ignored, as the RFC asks.
 */
export interface Preferences {
  respondAsync: boolean;
  /** seconds the client is willing to wait for a synchronous answer, or null */
  waitSeconds: number | null;
}

export function parsePrefer(header: string | string[] | undefined): Preferences {
  const out: Preferences = { respondAsync: false, waitSeconds: null };
  const values = Array.isArray(header) ? header : header ? [header] : [];
  for (const pref of values.flatMap((v) => v.split(','))) {
    // A preference is token[=value] followed by parameters after ';', which these two do not take.
    const [name = '', value] = (pref.split(';')[0] ?? '').split('=').map((x) => x.trim());
    const lower = name.toLowerCase();
    if (lower === 'respond-async' && value === undefined) out.respondAsync = true;
    if (lower === 'wait' && value !== undefined && /^\d{1,6}$/.test(value))
      out.waitSeconds = Number(value);
  }
  return out;
}
