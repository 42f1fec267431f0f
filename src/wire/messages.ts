/**
 * RPC messages between host and enclave, version 1. They carry ciphertext, public keys and signed
 * results, never a plaintext credential. The enclave re-validates every message it decodes: the host
 * is untrusted, so these parsers treat their input as attacker-controlled.
 */
import { fromUtf8, utf8 } from '../common/bytes.js';
import { WireError } from './frame.js';

export const WIRE_VERSION = 1;

/** An envelope exactly as the client sealed it (protocol §3), plus the key id it was sealed to. */
export interface WireEnvelope {
  ephemeral_pub: string;
  nonce: string;
  ciphertext: string;
  tag: string;
  key_id: string;
}

export interface SignedAggregates {
  signature: string;
  payload: Record<string, unknown> & { account: string; session_id: string };
}

/** Method → [request body, response body]. */
export interface RpcMethods {
  /**
   * Loads (or creates) the key ring and applies the rotation policy. `sealed_ring` is what the
   * host stored (null: none yet); `kms_credentials` sign the enclave's own key service requests
   * (the host owns them; they authorise nothing without the enclave's attestation). `changed`
   * says the returned ring differs from the one sent and must be stored (compare-and-swap).
   */
  init: [
    { sealed_ring: string | null; kms_credentials: WireAwsCredentials },
    {
      sealed_ring: string;
      changed: boolean;
      image_hash: string;
      format: 'dev' | 'aws-nitro';
      /** The current credential key (protocol §2's `enclave_pubkey`). */
      enclave_pubkey: string;
      signing_pubkey: string;
      key_id: string;
      signing_key_id: string;
      /** Every credential key still held, oldest first; the last is the current one. */
      credential_keys: WireCredentialKey[];
    },
  ];
  /** Attests the credential key `key_id` (the host's current key), so quote and key agree. */
  attest: [{ nonce: string | null; key_id: string }, { document: string }];
  open_envelope: [{ envelope: WireEnvelope; exchange: string }, { key_id: string }];
  compute_aggregates: [
    {
      session_id: string;
      exchange: string;
      label: string;
      envelope: WireEnvelope;
      from: string | null;
      to: string | null;
      /** include the daily equity series (`daily`, docs/methodology.md §5) in the payload */
      daily: boolean;
      /** the session's stored history as the host keeps it (null: none yet) */
      history: WireHistory | null;
    },
    {
      signed: SignedAggregates;
      /**
       * The history to store for the next request, at `version` = the sent version + 1 (1 when none
       * was sent); null when there is nothing to keep (it would not fit a message): the host then
       * deletes what it stored, and the next request downloads in full.
       */
      history: WireHistory | null;
    },
  ];
  drop_session: [{ session_id: string }, { dropped: boolean }];
  /**
   * Extends the transparency log by `entry` (or, with no entry, signs the current head). `prev` is
   * the host's stored head: its signed checkpoint and the frontier hashes (perfect subtrees, left to
   * right). The enclave checks both against what it signed before; when it last signed a smaller
   * tree it answers LOG_CONSISTENCY_REQUIRED and the host retries with a consistency proof.
   */
  log_append: [
    {
      prev: { checkpoint: string | null; frontier: string[] };
      consistency: { from_size: number; proof: string[] } | null;
      entry: SignedAggregates | null;
    },
    {
      leaf_index: number | null;
      leaf_hash: string | null;
      nodes: WireNode[];
      size: number;
      root: string;
      checkpoint: string;
    },
  ];
}

/**
 * A session's history sealed by the enclave (src/enclave/history.ts): opaque to the host, bound by
 * AES-GCM associated data to the session, exchange and `version`.
 */
export interface WireHistory {
  version: number;
  blob: string;
}

export interface WireAwsCredentials {
  access_key_id: string;
  secret_access_key: string;
  session_token: string | null;
}

export interface WireCredentialKey {
  key_id: string;
  /** b64 of the raw X25519 public key. */
  public_key: string;
  created_at: string;
  /** Until when new sessions may be sealed to it; null for the current key. */
  accepts_until: string | null;
  /** When it is destroyed (the last session sealed to it has expired); null for the current key. */
  destroy_at: string | null;
}

/** A perfect-subtree hash: leaves [index·2^level, (index+1)·2^level). */
export interface WireNode {
  level: number;
  index: number;
  hash: string;
}
export type RpcMethod = keyof RpcMethods;
export type RpcRequestBody<M extends RpcMethod> = RpcMethods[M][0];
export type RpcResponseBody<M extends RpcMethod> = RpcMethods[M][1];

export interface RpcRequest {
  v: 1;
  id: number;
  method: RpcMethod;
  body: unknown;
}
export interface RpcError {
  code: string;
  message: string;
  /** Machine-readable numbers the caller needs to act on the error (e.g. LOG_CONSISTENCY_REQUIRED's from_size). */
  detail?: Record<string, number>;
}
/**
 * Non-sensitive progress of a long request (compute_aggregates): counts, the phase and the symbol
 * being fetched, never an amount, a key or an account id. Zero or more precede the final response.
 */
export interface RpcProgress {
  phase: 'fills' | 'flows' | 'balances' | 'prices' | 'compute' | 'sign';
  symbol: string | null;
  pages: number;
  fills: number;
  rate_limit_waits: number;
}
export type RpcResponse =
  { v: 1; id: number; ok: true; body: unknown } | { v: 1; id: number; ok: false; error: RpcError };
/** Progress for request `id`: the request is still running. */
export interface RpcProgressMessage {
  v: 1;
  id: number;
  progress: RpcProgress;
}

// A record keyed by every method, so adding a method to RpcMethods without listing it fails to compile.
const METHOD_SET: Record<RpcMethod, true> = {
  init: true,
  attest: true,
  open_envelope: true,
  compute_aggregates: true,
  drop_session: true,
  log_append: true,
};
const METHODS = Object.keys(METHOD_SET) as RpcMethod[];
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
const EXCHANGE = /^[a-z0-9]{2,32}$/;
const LABEL = /^[A-Za-z0-9 _.-]{1,64}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const SECRET_KEY = /^[A-Za-z0-9+/=]{16,128}$/;
const SESSION_TOKEN = /^[A-Za-z0-9+/=]{1,4096}$/;
/**
 * A sealed history: at most 24,000,000 base64 chars (≈ 18 MB sealed, ≈ 450,000 compressed fills),
 * so a request or response carrying one still fits the 32 MiB frame beside the signed payload.
 * The database holds the same bound (migration 0007).
 */
export const MAX_HISTORY_B64 = 24_000_000;
/** A ring holds at most 1000 credential keys (src/enclave/keyring.ts): about 180 KB sealed. */
export const MAX_SEALED_RING = 400_000;

function bad(what: string): never {
  throw new WireError('ERR_WIRE_MALFORMED', `malformed message: ${what}`);
}
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function exactKeys(o: Record<string, unknown>, keys: string[], what: string): void {
  const k = Object.keys(o);
  if (k.length !== keys.length || !keys.every((x) => Object.prototype.hasOwnProperty.call(o, x)))
    bad(what);
}
function str(o: Record<string, unknown>, key: string, re: RegExp, max: number): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > max || !re.test(v)) bad(key);
  return v;
}
function nullable(o: Record<string, unknown>, key: string, re: RegExp, max: number): string | null {
  return o[key] === null ? null : str(o, key, re, max);
}

const NOTE = /^[\x20-\x7e\n\u2014]*$/;
function hashList(v: unknown): string[] {
  if (!Array.isArray(v) || v.length > 64) bad('hash list');
  return v.map((h) => {
    if (typeof h !== 'string' || h.length !== 44 || !B64.test(h)) bad('hash');
    return h;
  });
}
function size(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad('size');
  return v;
}
function signedEntry(v: unknown): SignedAggregates {
  if (!isObject(v)) bad('entry');
  exactKeys(v, ['payload', 'signature'], 'entry');
  if (!isObject(v['payload'])) bad('payload');
  return {
    payload: v['payload'] as SignedAggregates['payload'],
    signature: str(v, 'signature', B64, 88),
  };
}

/** A stored history as the host sends it, or null. */
export function wireHistory(v: unknown): WireHistory | null {
  if (v === null) return null;
  if (!isObject(v)) bad('history');
  exactKeys(v, ['version', 'blob'], 'history');
  const version = size(v['version']);
  if (version < 1) bad('history version');
  return { version, blob: str(v, 'blob', B64, MAX_HISTORY_B64) };
}

function envelope(v: unknown): WireEnvelope {
  if (!isObject(v)) bad('envelope');
  exactKeys(v, ['ephemeral_pub', 'nonce', 'ciphertext', 'tag', 'key_id'], 'envelope');
  return {
    ephemeral_pub: str(v, 'ephemeral_pub', B64, 44),
    nonce: str(v, 'nonce', B64, 16),
    ciphertext: str(v, 'ciphertext', B64, 10924),
    tag: str(v, 'tag', B64, 24),
    key_id: str(v, 'key_id', KEY_ID, 16),
  };
}

/** Validates a request body for `method`; returns a fresh object holding only the known fields. */
export function validateRequestBody<M extends RpcMethod>(
  method: M,
  body: unknown,
): RpcRequestBody<M> {
  if (!isObject(body)) bad('body');
  switch (method) {
    case 'init': {
      exactKeys(body, ['sealed_ring', 'kms_credentials'], 'init');
      const c = body['kms_credentials'];
      if (!isObject(c)) bad('kms_credentials');
      exactKeys(c, ['access_key_id', 'secret_access_key', 'session_token'], 'kms_credentials');
      return {
        sealed_ring: nullable(body, 'sealed_ring', B64, MAX_SEALED_RING),
        kms_credentials: {
          access_key_id: str(c, 'access_key_id', ACCESS_KEY_ID, 128),
          secret_access_key: str(c, 'secret_access_key', SECRET_KEY, 128),
          session_token: nullable(c, 'session_token', SESSION_TOKEN, 4096),
        },
      } as RpcRequestBody<M>;
    }
    case 'attest':
      exactKeys(body, ['nonce', 'key_id'], 'attest');
      return {
        nonce: nullable(body, 'nonce', B64, 88),
        key_id: str(body, 'key_id', KEY_ID, 16),
      } as RpcRequestBody<M>;
    case 'open_envelope':
      exactKeys(body, ['envelope', 'exchange'], 'open_envelope');
      return {
        envelope: envelope(body['envelope']),
        exchange: str(body, 'exchange', EXCHANGE, 32),
      } as RpcRequestBody<M>;
    case 'compute_aggregates':
      exactKeys(
        body,
        ['session_id', 'exchange', 'label', 'envelope', 'from', 'to', 'daily', 'history'],
        'compute_aggregates',
      );
      if (typeof body['daily'] !== 'boolean') bad('daily');
      return {
        session_id: str(body, 'session_id', SESSION_ID, 43),
        exchange: str(body, 'exchange', EXCHANGE, 32),
        label: str(body, 'label', LABEL, 64),
        envelope: envelope(body['envelope']),
        from: nullable(body, 'from', TIME, 24),
        to: nullable(body, 'to', TIME, 24),
        daily: body['daily'],
        history: wireHistory(body['history']),
      } as RpcRequestBody<M>;
    case 'log_append': {
      exactKeys(body, ['prev', 'consistency', 'entry'], 'log_append');
      const prev = body['prev'];
      if (!isObject(prev)) bad('prev');
      exactKeys(prev, ['checkpoint', 'frontier'], 'prev');
      const c = body['consistency'];
      if (c !== null && !isObject(c)) bad('consistency');
      if (c !== null) exactKeys(c, ['from_size', 'proof'], 'consistency');
      return {
        prev: {
          checkpoint: nullable(prev, 'checkpoint', NOTE, 8192),
          frontier: hashList(prev['frontier']),
        },
        consistency:
          c === null ? null : { from_size: size(c['from_size']), proof: hashList(c['proof']) },
        entry: body['entry'] === null ? null : signedEntry(body['entry']),
      } as RpcRequestBody<M>;
    }
    case 'drop_session':
      exactKeys(body, ['session_id'], 'drop_session');
      return { session_id: str(body, 'session_id', SESSION_ID, 43) } as RpcRequestBody<M>;
  }
  return bad('method');
}

function parseJson(frame: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(fromUtf8(frame));
  } catch {
    bad('json');
  }
  if (!isObject(v)) bad('frame');
  if (v['v'] !== WIRE_VERSION) throw new WireError('ERR_WIRE_VERSION', 'unsupported wire version');
  if (typeof v['id'] !== 'number' || !Number.isSafeInteger(v['id']) || v['id'] < 0) bad('id');
  return v;
}

export function decodeRequest(frame: Uint8Array): RpcRequest {
  const v = parseJson(frame);
  const method = v['method'];
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) bad('method');
  return { v: 1, id: v['id'] as number, method: method as RpcMethod, body: v['body'] };
}

const PHASES: readonly RpcProgress['phase'][] = [
  'fills',
  'flows',
  'balances',
  'prices',
  'compute',
  'sign',
];
/** A symbol as progress may name it (exchange ids such as BTCUSDT or BTC-USDT-SWAP). */
export const PROGRESS_SYMBOL = /^[A-Za-z0-9_./:-]{1,40}$/;

function progress(p: unknown): RpcProgress {
  if (!isObject(p)) bad('progress');
  exactKeys(p, ['phase', 'symbol', 'pages', 'fills', 'rate_limit_waits'], 'progress');
  if (!(PHASES as readonly unknown[]).includes(p['phase'])) bad('phase');
  return {
    phase: p['phase'] as RpcProgress['phase'],
    symbol: nullable(p, 'symbol', PROGRESS_SYMBOL, 40),
    pages: size(p['pages']),
    fills: size(p['fills']),
    rate_limit_waits: size(p['rate_limit_waits']),
  };
}

export function decodeResponse(frame: Uint8Array): RpcResponse | RpcProgressMessage {
  const v = parseJson(frame);
  const id = v['id'] as number;
  if (v['ok'] === true) return { v: 1, id, ok: true, body: v['body'] };
  if (v['ok'] === undefined && v['progress'] !== undefined)
    return { v: 1, id, progress: progress(v['progress']) };
  const e = v['error'];
  if (
    v['ok'] !== false ||
    !isObject(e) ||
    typeof e['code'] !== 'string' ||
    typeof e['message'] !== 'string'
  )
    bad('response');
  const d = e['detail'];
  if (
    d !== undefined &&
    (!isObject(d) || !Object.values(d).every((x) => typeof x === 'number' && Number.isFinite(x)))
  )
    bad('detail');
  return {
    v: 1,
    id,
    ok: false,
    error: {
      code: e['code'],
      message: e['message'],
      ...(d !== undefined && { detail: d as Record<string, number> }),
    },
  };
}

export function encodeMessage(msg: RpcRequest | RpcResponse | RpcProgressMessage): Uint8Array {
  return utf8(JSON.stringify(msg));
}
