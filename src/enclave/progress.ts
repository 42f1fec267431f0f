/**
 * Turns an adapter's per-symbol page callbacks into the RPC's progress messages: running totals,
 * the current phase and symbol, at most one message per interval (phase changes always go out), so
 * a download of thousands of pages does not flood the host link.
 */
import { PROGRESS_SYMBOL, type RpcProgress } from '../wire/messages.js';

export interface ProgressReporter {
  /** after each page of fills: that symbol's cumulative pages and fills so far */
  download(p: { symbol: string; pages: number; fills: number; rateLimitWaits?: number }): void;
  phase(phase: RpcProgress['phase']): void;
}

export function progressReporter(
  sink: { progress(p: RpcProgress): void },
  minIntervalMs = 250,
  now: () => number = Date.now,
): ProgressReporter {
  const state: RpcProgress = {
    phase: 'fills',
    symbol: null,
    pages: 0,
    fills: 0,
    rate_limit_waits: 0,
  };
  const perSymbol = new Map<string, { pages: number; fills: number; waits: number }>();
  let last = -Infinity;
  const emit = (force: boolean): void => {
    const t = now();
    if (!force && t - last < minIntervalMs) return;
    last = t;
    sink.progress({ ...state });
  };
  return {
    download(p) {
      perSymbol.set(p.symbol, { pages: p.pages, fills: p.fills, waits: p.rateLimitWaits ?? 0 });
      state.pages = state.fills = state.rate_limit_waits = 0;
      for (const s of perSymbol.values()) {
        state.pages += s.pages;
        state.fills += s.fills;
        state.rate_limit_waits += s.waits;
      }
      // A symbol the wire would refuse is reported as none rather than break the link.
      state.symbol = PROGRESS_SYMBOL.test(p.symbol) ? p.symbol : null;
      emit(false);
    },
    phase(phase) {
      state.phase = phase;
      state.symbol = null;
      emit(true);
    },
  };
}
