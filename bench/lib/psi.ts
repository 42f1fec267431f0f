/** Linux CPU pressure (PSI): how contended the shared machine was while a benchmark ran. */
import { readFileSync } from 'node:fs';

/** Total µs during which some runnable task waited for a CPU, or NaN without PSI. */
export function cpuStallUs(): number {
  try {
    return Number(/some .*total=(\d+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1]);
  } catch {
    return NaN;
  }
}

/** Starts a stopwatch; the function returns the % of the elapsed wall time spent stalled. */
export function stallMeter(): () => number {
  const s0 = cpuStallUs();
  const t0 = performance.now();
  return () => (cpuStallUs() - s0) / 10 / (performance.now() - t0);
}
