/**
 * The untrusted HTTP host. It validates, rate-limits, stores what protocol §1–5 permit and relays
 * ciphertext to the enclave. It never decrypts and never holds a private key.
 */
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CodedError } from '../common/errors.js';
import type { LogStore } from '../store/log-store.js';
import type { Store } from '../store/types.js';
import type { ApiConfig } from './config.js';
import type { EnclaveLink } from './enclave-link.js';
import { ApiError, isApiErrorCode, type ApiErrorCode } from './errors.js';
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
    | 'TRUST_PROXY'
  >;
  store: Store;
  logStore: Pick<LogStore, 'leafAt' | 'leavesOfAccount' | 'leavesOfSession' | 'nodes'>;
  tlog: TransparencyLog;
  enclave: Pick<EnclaveLink, 'identity' | 'call'>;
  metrics: ApiMetrics;
  logger: Logger;
  /** The dev root CA in PEM, or null outside dev mode (the route then answers 404). */
  devRootPem: () => string | null;
  now: () => number;
}

const BODY_LIMIT = 16 * 1024;

/** Maps any error to the protocol's error body. Driver and library messages never reach the client. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as FastifyError & { validation?: unknown[] };
  if (e?.validation)
    return new ApiError('INVALID_REQUEST', `request failed validation: ${e.message}`);
  switch (e?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('INVALID_REQUEST', 'the body is not valid JSON');
  }
  if (e?.statusCode === 400 && typeof e.code === 'string' && e.code.startsWith('FST_'))
    return new ApiError('INVALID_REQUEST');
  if (err instanceof CodedError) {
    const code: string = err.code;
    if (code === 'ENCLAVE_TIMEOUT' || code === 'ENCLAVE_BUSY' || code === 'ENCLAVE_NOT_READY')
      return new ApiError('ENCLAVE_UNAVAILABLE');
    if (code.startsWith('STORE_'))
      return code === 'STORE_CONSTRAINT'
        ? new ApiError('INVALID_REQUEST')
        : new ApiError('STORE_UNAVAILABLE');
    if (isApiErrorCode(code)) return new ApiError(code as ApiErrorCode);
  }
  return new ApiError('INTERNAL');
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    trustProxy: deps.config.TRUST_PROXY,
    return503OnClosing: true,
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
      },
    },
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
    deps.metrics.rejected.inc({ code: api.code });
    if (api.retryAfter !== undefined) reply.header('retry-after', String(api.retryAfter));
    return reply.code(api.status).send({ error: { code: api.code, message: api.message } });
  });
  app.setNotFoundHandler((_req, reply) => {
    deps.metrics.rejected.inc({ code: 'NOT_FOUND' });
    return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such resource' } });
  });

  app.addHook('onSend', async (req, reply) => {
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
