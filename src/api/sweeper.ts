/** Periodic TTL cleanup: calls the store's SQL purge function, which does the work in the database. */
import type { Store } from '../store/types.js';
import type { ApiMetrics } from './metrics.js';

export function startSweeper(
  store: Pick<Store, 'purgeExpired'>,
  metrics: ApiMetrics,
  intervalMs: number,
  log: { warn(o: object, m: string): void },
) {
  let running = false;
  const run = async (): Promise<number> => {
    if (running) return 0;
    running = true;
    try {
      let total = 0;
      for (let n = await store.purgeExpired(1000); n > 0; n = await store.purgeExpired(1000))
        total += n;
      metrics.ttlCleanupRuns.inc({ outcome: 'ok' });
      metrics.ttlPurged.inc(total);
      return total;
    } catch (e) {
      metrics.ttlCleanupRuns.inc({ outcome: 'error' });
      log.warn(
        { event: 'ttl_sweep_failed', code: (e as { code?: string }).code },
        'TTL sweep failed',
      );
      return 0;
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), intervalMs);
  timer.unref();
  return { run, stop: () => clearInterval(timer) };
}
