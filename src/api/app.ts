/**
 * The untrusted HTTP host. It validates, rate-limits, stores what protocol §1–5 permit and relays
 * ciphertext to the enclave. It never decrypts and never holds a private key.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LogStore } from '../store/log-store.js';
import type { Store } from '../store/types.js';
import type { ApiConfig } from './config.js';
import type { EnclaveLink } from './enclave-link.js';
import { ApiError, toApiError } from './errors.js';
import type { ApiMetrics } from './metrics.js';
import { attestationRoutes } from './routes/attestation.js';
import { enclaveRoutes } from './routes/enclave.js';
import { logRoutes } from './routes/log.js';
import { sessionLogRoutes } from './routes/logs.js';
import { opsRoutes } from './routes/ops.js';
import { webRoutes } from './routes/web.js';
import type { TransparencyLog } from './transparency-log.js';

export interface AppDeps {
  config: Pick<
    ApiConfig,
    | 'MAX_TTL_SECONDS'
    | 'RATE_LIMIT_MAX'
    | 'RATE_LIMIT_WINDOW'
    | 'ALLOWED_ORIGINS'
    | 'REQUEST_TIMEOUT_MS'
    | 'JOB_TIMEOUT_MS'
    | 'TRUST_PROXY'
  > &
    Partial<Pick<ApiConfig, 'SHUTDOWN_GRACE_MS'>>;
  store: Store;
  logStore: Pick<LogStore, 'leafAt' | 'leavesOfAccount' | 'leavesOfSession' | 'nodes'>;
  tlog: TransparencyLog;
  enclave: Pick<EnclaveLink, 'identity' | 'call' | 'sync'>;
  metrics: ApiMetrics;
  logger: Logger;
  /** The dev root CA in PEM, or null outside dev mode (the route then answers 404). */
  devRootPem: () => string | null;
  /** Public demo credentials of the dev exchange simulator per exchange, or null without one. */
  demoAccounts?: () => Record<
    string,
    { apiKey: string; apiSecret: string; passphrase?: string }
  > | null;
  now: () => number;
  /**
   * Shared rate-limit counters (REDIS_URL): every host instance counts against the same key per
   * client address, atomically (the plugin's Lua INCR+PEXPIRE). Absent: this process's memory.
   */
  rateLimitRedis?: { client: Redis; nameSpace: string };
}

const BODY_LIMIT = 16 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: deps.config.TRUST_PROXY,
    // A malformed percent-encoding or an over-long path parameter is rejected by the router before
    // any hook runs; Fastify's default answer has no protocol body and echoes the URL.
    frameworkErrors: (_err, _req, reply) => {
      deps.metrics.rejected.inc({ code: 'INVALID_REQUEST' });
      // not routed yet, so no route schema types this reply
      void (reply as FastifyReply)
        .code(400)
        .header('x-content-type-options', 'nosniff')
        .send({ error: { code: 'INVALID_REQUEST', message: 'the request URL is not valid' } });
    },
    // Our own 503 while closing (below): Fastify's built-in one has no protocol error body.
    return503OnClosing: false,
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
      },
    },
  });

  // Graceful shutdown stops intake: requests on connections still open get a protocol 503 and
  // `Connection: close`; the listener itself is already closed, so no new connection arrives.
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onRequest', async (_req, reply) => {
    if (!draining) return;
    reply.header('connection', 'close');
    throw new ApiError('ENCLAVE_UNAVAILABLE', 'the service is shutting down; retry later');
  });

  // JSON only: dropping the text/plain parser makes a CORS "simple request" body a 415, not a request.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err, req, reply) => {
    const api = toApiError(err);
    if (api.code === 'INTERNAL')
      req.log.error(
        {
          event: 'internal_error',
          kind: (err as Error)?.name,
          code: (err as { code?: string })?.code,
        },
        'internal error',
      );
    else if (api.status === 503)
      // which dependency failed, by its code only: driver messages may quote data
      req.log.warn(
        { event: 'unavailable', code: api.code, cause: (err as { code?: string })?.code },
        'dependency unavailable',
      );
    deps.metrics.rejected.inc({ code: api.code });
    if (api.retryAfter !== undefined) reply.header('retry-after', String(api.retryAfter));
    return reply.code(api.status).send({ error: { code: api.code, message: api.message } });
  });
  app.setNotFoundHandler((_req, reply) => {
    deps.metrics.rejected.inc({ code: 'NOT_FOUND' });
    return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such resource' } });
  });

  app.addHook('onSend', async (req, reply) => {
    // a request that was in flight at shutdown: its keep-alive connection must not hold the close
    if (draining) reply.header('connection', 'close');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (req.url.startsWith('/enclave/') || req.url.startsWith('/attestation/'))
      reply.header('cache-control', 'no-store');
  });

  const origins = deps.config.ALLOWED_ORIGINS;
  await app.register(cors, {
    origin: origins.length > 0 ? origins : false,
    methods: ['GET', 'POST'],
    credentials: false,
  });
  await app.register(rateLimit, {
    max: deps.config.RATE_LIMIT_MAX,
    timeWindow: deps.config.RATE_LIMIT_WINDOW,
    // The key is req.ip: the socket peer, or with TRUST_PROXY the nearest untrusted X-Forwarded-For
    // hop, so a client cannot pick its own key by sending the header (docs/reliability.md).
    ...(deps.rateLimitRedis && {
      redis: deps.rateLimitRedis.client,
      nameSpace: deps.rateLimitRedis.nameSpace,
      // Redis down must not take the API down: requests pass unlimited (and the client logs it)
      // until it is back. The per-request cost of failing closed would be a 500 on every call.
      skipOnError: true,
    }),
    errorResponseBuilder: (_req, ctx) =>
      new ApiError('RATE_LIMITED', 'too many requests', Math.ceil(ctx.ttl / 1000)),
  });

  attestationRoutes(app, deps);
  enclaveRoutes(app, deps);
  sessionLogRoutes(app, deps);
  logRoutes(app, deps);
  opsRoutes(app, deps);
  await app.register(webRoutes(deps)); // the web client, with its own CSP (docs/web.md)
  return app;
}
