/** Operator endpoints: liveness/readiness and Prometheus metrics. */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app.js';

export function opsRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/healthz', { config: { rateLimit: false } }, async (_req, reply) => {
    const [db, enclave] = await Promise.all([
      deps.store.ping().then(
        () => 'up',
        () => 'down',
      ),
      deps.enclave.identity().then(
        () => 'up',
        () => 'down',
      ),
    ]);
    const ok = db === 'up' && enclave === 'up';
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', db, enclave });
  });

  app.get('/metrics', { config: { rateLimit: false } }, async (_req, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
