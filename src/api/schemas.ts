/**
 * JSON Schemas for every route's input and output: the single source of truth at the edge.
 * Bounded strings, no extra properties. Finer checks (decoded lengths, ttl range) happen in the
 * handlers so each failure gets its own protocol code.
 */
const b64 = (maxLength: number) =>
  ({ type: 'string', maxLength, pattern: '^[A-Za-z0-9+/]*={0,2}$' }) as const;
const errorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;
const errorResponses = { '4xx': errorBody, '5xx': errorBody } as const;
export const SESSION_ID_PATTERN = '^[A-Za-z0-9_-]{43}$';
const sessionId = {
  type: 'string',
  minLength: 43,
  maxLength: 43,
  pattern: SESSION_ID_PATTERN,
} as const;
const time = { type: 'string', maxLength: 30 } as const;

export const quoteSchema = {
  querystring: { type: 'object', additionalProperties: false, properties: { nonce: b64(88) } },
  response: {
    200: {
      type: 'object',
      required: ['quote', 'enclave_pubkey', 'signing_pubkey', 'image_hash', 'format'],
      properties: {
        quote: { type: 'string' },
        enclave_pubkey: { type: 'string' },
        signing_pubkey: { type: 'string' },
        image_hash: { type: 'string' },
        format: { type: 'string', enum: ['aws-nitro', 'dev'] },
      },
    },
    ...errorResponses,
  },
} as const;

export const submitKeySchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['ephemeral_pub', 'nonce', 'ciphertext', 'tag', 'metadata'],
    properties: {
      ephemeral_pub: b64(44),
      nonce: b64(16),
      ciphertext: b64(10924),
      tag: b64(24),
      enclave_pubkey: b64(44),
      metadata: {
        type: 'object',
        additionalProperties: false,
        required: ['exchange', 'label', 'ttl'],
        properties: {
          exchange: { type: 'string', minLength: 1, maxLength: 32 },
          label: {
            type: 'string',
            minLength: 1,
            maxLength: 64,
            pattern: '^[A-Za-z0-9 _.-]{1,64}$',
          },
          ttl: { type: 'integer' },
        },
      },
    },
  },
  response: {
    201: {
      type: 'object',
      required: ['session_id', 'expires_at'],
      properties: { session_id: { type: 'string' }, expires_at: { type: 'string' } },
    },
    ...errorResponses,
  },
} as const;

const signedAggregates = {
  type: 'object',
  required: ['signature', 'payload'],
  properties: {
    signature: { type: 'string' },
    // The signed payload is passed through untouched: a schema that dropped or coerced a field
    // would break the signature. Known fields are typed; additive metrics pass as they are.
    payload: { type: 'object', additionalProperties: true },
  },
} as const;

const aggregatesResponse = {
  type: 'object',
  required: [
    'aggregates_signed',
    'merkle_root',
    'leaf_index',
    'tree_size',
    'inclusion_proof',
    'checkpoint',
    'logs_url',
  ],
  properties: {
    aggregates_signed: signedAggregates,
    merkle_root: { type: 'string' },
    leaf_index: { type: 'integer' },
    tree_size: { type: 'integer' },
    inclusion_proof: { type: 'array', items: { type: 'string' } },
    checkpoint: { type: 'string' },
    logs_url: { type: 'string' },
  },
} as const;

const jobProgress = {
  type: ['object', 'null'],
  properties: {
    phase: { type: 'string' },
    symbol: { type: ['string', 'null'] },
    pages: { type: 'integer' },
    fills: { type: 'integer' },
    rate_limit_waits: { type: 'integer' },
  },
} as const;

/** `GET /enclave/jobs/<id>` and the 202 of request_aggregates. */
const jobView = {
  type: 'object',
  required: ['job_id', 'status', 'progress', 'created_at', 'finished_at'],
  properties: {
    job_id: { type: 'string' },
    status: { type: 'string', enum: ['running', 'succeeded', 'failed'] },
    progress: jobProgress,
    created_at: { type: 'string' },
    finished_at: { type: ['string', 'null'] },
    result: aggregatesResponse,
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

export const jobSchema = {
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_-]{22}$' } },
  },
  response: { 200: jobView, ...errorResponses },
} as const;

export const requestAggregatesSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['session_id'],
    // `daily` (additive, docs/api-extensions.md): include the daily equity series in the payload
    properties: { session_id: sessionId, from: time, to: time, daily: { type: 'boolean' } },
  },
  response: {
    200: aggregatesResponse,
    202: jobView,
    ...errorResponses,
  },
} as const;

/** `{ "session_id": … }` and nothing else: the body of revoke, the params of the session log. */
const sessionIdOnly = {
  type: 'object',
  additionalProperties: false,
  required: ['session_id'],
  properties: { session_id: sessionId },
} as const;

export const revokeSchema = {
  body: sessionIdOnly,
  response: {
    200: {
      type: 'object',
      required: ['success', 'message'],
      properties: { success: { type: 'boolean' }, message: { type: 'string' } },
    },
    ...errorResponses,
  },
} as const;

export const sessionLogsSchema = {
  params: sessionIdOnly,
  response: {
    200: {
      type: 'object',
      required: ['session_id', 'status', 'entries', 'events'],
      properties: {
        session_id: { type: 'string' },
        status: { type: 'string' },
        // Each entry is a log leaf with its inclusion proof (see routes/log.ts publicLeaf).
        entries: { type: 'array', items: { type: 'object', additionalProperties: true } },
        events: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              event: { type: 'string' },
              at: { type: 'string' },
              detail: { type: 'object', additionalProperties: true },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;
