/**
 * A virtual clock for code that takes a `Clock` (src/exchanges/limiter.ts): `sleep` resolves only
 * when `advance` moves time past it, so tests of waiting logic run instantly and exactly.
 */
import type { Clock } from '../../src/exchanges/limiter.js';

export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, waking sleepers in time order and letting each react. */
  advance(ms: number): Promise<void>;
  /** sleepers not yet woken */
  pending(): number;
}

const settle = () => new Promise<void>((r) => setImmediate(r));

export function createManualClock(start = 0): ManualClock {
  let t = start;
  const timers: { at: number; seq: number; wake: () => void }[] = [];
  let seq = 0;
  return {
    now: () => t,
    sleep(ms, signal) {
      return new Promise<void>((wake) => {
        if (signal?.aborted) return wake();
        const timer = { at: t + Math.max(0, ms), seq: seq++, wake };
        timers.push(timer);
        signal?.addEventListener(
          'abort',
          () => {
            const i = timers.indexOf(timer);
            if (i >= 0) timers.splice(i, 1);
            wake();
          },
          { once: true },
        );
      });
    },
    async advance(ms) {
      const end = t + ms;
      await settle();
      for (;;) {
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        t = Math.max(t, next.at);
        next.wake();
        await settle();
      }
      t = end;
      await settle();
    },
    pending: () => timers.length,
  };
}
