/**
 * Byte helpers for the browser-safe core: Uint8Array only, never Buffer.
 * Decoders are strict (canonical padding, no whitespace) because their input is attacker-controlled.
 */
import { CodedError } from './errors.js';

export type BytesCode = 'ERR_BYTES_BASE64' | 'ERR_BYTES_HEX' | 'ERR_BYTES_UTF8';
export class BytesError extends CodedError<BytesCode> {}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const B64URL_RE = /^[A-Za-z0-9_-]*$/;
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[B64.charCodeAt(i)] = i;
DECODE['-'.charCodeAt(0)] = 62;
DECODE['_'.charCodeAt(0)] = 63;

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + '=';
  }
  return out;
}

function decodeChars(s: string, len: number): Uint8Array {
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < len; i++) {
    acc = (acc << 6) | DECODE[s.charCodeAt(i)]!;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Canonical form: the unused low bits of the last character must be zero.
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) {
    throw new BytesError('ERR_BYTES_BASE64', 'value is not canonical base64');
  }
  return out.subarray(0, o);
}

/** Decodes standard, padded, canonical base64; throws ERR_BYTES_BASE64 otherwise. */
export function fromBase64(s: string): Uint8Array {
  if (typeof s !== 'string' || !B64_RE.test(s)) {
    throw new BytesError('ERR_BYTES_BASE64', 'value is not canonical base64');
  }
  let len = s.length;
  while (len > 0 && s[len - 1] === '=') len--;
  return decodeChars(s, len);
}

/** base64url without padding (RFC 4648 §5). */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(s: string): Uint8Array {
  if (typeof s !== 'string' || !B64URL_RE.test(s) || s.length % 4 === 1) {
    throw new BytesError('ERR_BYTES_BASE64', 'value is not canonical base64url');
  }
  return decodeChars(s, s.length);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]!;
  return out;
}

/** Decodes hex (either case, even length); throws ERR_BYTES_HEX otherwise. */
export function fromHex(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) {
    throw new BytesError('ERR_BYTES_HEX', 'value is not hex');
  }
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8, rejecting invalid sequences with ERR_BYTES_UTF8. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch (cause) {
    throw new BytesError('ERR_BYTES_UTF8', 'value is not valid UTF-8', { cause });
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-time for equal lengths; lengths are not secret here. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
