/** Rate limits counted over a rolling window, as Bybit and OKX count them. */

export interface Taken {
  /** requests left in the window, or -1 when this one is refused (and not counted) */
  left: number;
  /** when a refused caller may try again (the oldest counted request leaves); else now */
  reset: number;
}

/** `take(key, limit, span)` counts one request of `key` against `limit` per `span` ms. */
export function rollingWindow(now: () => number) {
  const windows = new Map<string, number[]>();
  return function take(key: string, limit: number, span: number): Taken {
    const t = now();
    const w = (windows.get(key) ?? []).filter((x) => x > t - span);
    windows.set(key, w);
    if (w.length >= limit) return { left: -1, reset: w[0]! + span };
    w.push(t);
    return { left: limit - w.length, reset: t };
  };
}
