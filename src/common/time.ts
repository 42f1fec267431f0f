/** Protocol times: RFC 3339 UTC with `Z`; milliseconds only when non-zero. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Parses a protocol time; returns null for anything else (including impossible dates). */
export function parseTime(s: string): number | null {
  if (!RFC3339_UTC.test(s)) return null;
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) return null;
  // Date.parse rolls 2024-02-30 over to March; reject instead.
  return new Date(ms).toISOString().slice(0, 19) === s.slice(0, 19) ? ms : null;
}
