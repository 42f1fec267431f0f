/** Prometheus metrics for operators (prom-client), on a registry of their own per app instance. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ApiMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(activeSessions: () => Promise<number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pa_' });
  return {
    registry,
    activeSessions: new Gauge({
      name: 'pa_active_sessions',
      help: 'Sessions that are active and unexpired',
      registers: [registry],
      async collect() {
        this.set(await activeSessions());
      },
    }),
    enclaveLatency: new Histogram({
      name: 'pa_enclave_operation_seconds',
      help: 'Latency of host→enclave RPC calls',
      labelNames: ['method', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: [registry],
    }),
    cryptoOps: new Counter({
      name: 'pa_envelope_operations_total',
      help: 'Envelope openings in the enclave, by outcome (ok | decryption_failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    ttlCleanupRuns: new Counter({
      name: 'pa_ttl_cleanup_runs_total',
      help: 'TTL sweeper runs',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    ttlPurged: new Counter({
      name: 'pa_ttl_purged_credentials_total',
      help: 'Credentials purged by the TTL sweeper',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'pa_rejected_requests_total',
      help: 'Requests answered with an error, by protocol code (includes RATE_LIMITED and unauthorized ones)',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}
