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
  /** Loads (or creates) the key ring. `sealed_ring` is what an earlier `init` returned. */
  init: [
    { sealed_ring: string | null },
    {
      sealed_ring: string;
      image_hash: string;
      format: 'dev' | 'aws-nitro';
      enclave_pubkey: string;
      signing_pubkey: string;
      key_id: string;
      signing_key_id: string;
    },
  ];
  attest: [{ nonce: string | null }, { document: string }];
  open_envelope: [{ envelope: WireEnvelope; exchange: string }, { key_id: string }];
  compute_aggregates: [
    {
      session_id: string;
      exchange: string;
      label: string;
      envelope: WireEnvelope;
      from: string | null;
      to: string | null;
    },
    { signed: SignedAggregates },
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
export type RpcResponse =
  { v: 1; id: number; ok: true; body: unknown } | { v: 1; id: number; ok: false; error: RpcError };

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
    case 'init':
      exactKeys(body, ['sealed_ring'], 'init');
      return { sealed_ring: nullable(body, 'sealed_ring', B64, 4096) } as RpcRequestBody<M>;
    case 'attest':
      exactKeys(body, ['nonce'], 'attest');
      return { nonce: nullable(body, 'nonce', B64, 88) } as RpcRequestBody<M>;
    case 'open_envelope':
      exactKeys(body, ['envelope', 'exchange'], 'open_envelope');
      return {
        envelope: envelope(body['envelope']),
        exchange: str(body, 'exchange', EXCHANGE, 32),
      } as RpcRequestBody<M>;
    case 'compute_aggregates':
      exactKeys(
        body,
        ['session_id', 'exchange', 'label', 'envelope', 'from', 'to'],
        'compute_aggregates',
      );
      return {
        session_id: str(body, 'session_id', SESSION_ID, 43),
        exchange: str(body, 'exchange', EXCHANGE, 32),
        label: str(body, 'label', LABEL, 64),
        envelope: envelope(body['envelope']),
        from: nullable(body, 'from', TIME, 24),
        to: nullable(body, 'to', TIME, 24),
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

export function decodeResponse(frame: Uint8Array): RpcResponse {
  const v = parseJson(frame);
  const id = v['id'] as number;
  if (v['ok'] === true) return { v: 1, id, ok: true, body: v['body'] };
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

export function encodeMessage(msg: RpcRequest | RpcResponse): Uint8Array {
  return utf8(JSON.stringify(msg));
}
