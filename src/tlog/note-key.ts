/**
 * C2SP signed-note Ed25519 keys (https://c2sp.org/signed-note, "Signatures" and "Ed25519
 * signatures"): key IDs, and the verifier key string `<name>+<hex key ID>+<base64(0x01 || key)>`
 * used to distribute a log's public key (golang.org/x/mod/sumdb/note `NewVerifier` format).
 */
import { concatBytes, fromBase64, toBase64, utf8 } from '../common/bytes.js';
import type { Platform } from '../platform/types.js';
import { TlogError } from './errors.js';

/** Signature type byte of Ed25519 note signatures. */
export const ED25519_SIG_TYPE = 0x01;

/** A trusted Ed25519 note key. `keyId` is the uint32 key ID. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
}

/** An Ed25519 note signing key: `privateKey` is the 32-byte RFC 8032 seed. */
export interface NoteSigner {
  readonly name: string;
  readonly privateKey: Uint8Array;
}

// Key names MUST be non-empty and contain no Unicode space and no '+'.
const BAD_NAME = /[\p{White_Space}+]/u;
/** A UTF-16 surrogate without its pair: such a string has no UTF-8 encoding. */
export const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * True for a valid key name: non-empty, no Unicode white space, no '+', no control character.
 *
 * @example
 * isValidKeyName('example.com/log'); // true
 * isValidKeyName('bad name');        // false
 */
export function isValidKeyName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    !BAD_NAME.test(name) &&
    // eslint-disable-next-line no-control-regex
    !/[\x00-\x1f]/.test(name) &&
    !LONE_SURROGATE.test(name)
  );
}

/**
 * The Ed25519 key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4] as a big-endian uint32.
 *
 * @example
 * noteKeyId(nodePlatform, 'PeterNeumann', publicKey).toString(16); // 'c74f20a3'
 */
export function noteKeyId(platform: Platform, name: string, publicKey: Uint8Array): number {
  const h = platform.sha256(
    concatBytes(utf8(name), Uint8Array.of(0x0a, ED25519_SIG_TYPE), publicKey),
  );
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

/** The key ID as 8 lowercase hex digits. */
export function keyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

function malformed(cause?: unknown): TlogError {
  return new TlogError('ERR_TLOG_KEY_MALFORMED', cause === undefined ? undefined : { cause });
}

/**
 * Formats an Ed25519 verifier key `<name>+<hex key ID>+<base64(0x01 || public key)>`.
 * Throws ERR_TLOG_KEY_MALFORMED for an invalid name or a public key that is not 32 bytes.
 *
 * @example
 * formatVerifierKey(nodePlatform, 'example.com/log', publicKey); // 'example.com/log+1a2b3c4d+AR…'
 */
export function formatVerifierKey(platform: Platform, name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name) || !(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw malformed();
  }
  const id = keyIdHex(noteKeyId(platform, name, publicKey));
  return `${name}+${id}+${toBase64(concatBytes(Uint8Array.of(ED25519_SIG_TYPE), publicKey))}`;
}

/**
 * Parses an Ed25519 verifier key string and checks that its key ID matches name and key.
 * Splits on the first two '+' only (base64 may contain '+'). Throws ERR_TLOG_KEY_MALFORMED for
 * any other algorithm, a bad name, non-canonical base64, a wrong length or a wrong key ID.
 *
 * @example
 * const v = parseVerifierKey(nodePlatform, 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW');
 * openNote(nodePlatform, note, [v]);
 */
export function parseVerifierKey(platform: Platform, vkey: string): NoteVerifier {
  if (typeof vkey !== 'string') throw malformed();
  const a = vkey.indexOf('+');
  const b = a < 0 ? -1 : vkey.indexOf('+', a + 1);
  if (b < 0) throw malformed();
  const name = vkey.slice(0, a);
  const idHex = vkey.slice(a + 1, b);
  if (!isValidKeyName(name) || !/^[0-9a-fA-F]{8}$/.test(idHex)) throw malformed();
  let key: Uint8Array;
  try {
    key = fromBase64(vkey.slice(b + 1));
  } catch (cause) {
    throw malformed(cause);
  }
  if (key.length !== 33 || key[0] !== ED25519_SIG_TYPE) throw malformed();
  const publicKey = key.slice(1);
  const keyId = noteKeyId(platform, name, publicKey);
  if (keyId !== parseInt(idHex, 16)) throw malformed();
  return { name, keyId, publicKey };
}

/**
 * Parses a Go-style Ed25519 signer key `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`
 * (golang.org/x/mod/sumdb/note `NewSigner`) and checks its key ID. Throws ERR_TLOG_KEY_MALFORMED.
 * For tests and tooling: the service keeps its key in its key ring, not as a string.
 *
 * @example
 * const { signer, verifier } = parseSignerKey(nodePlatform, skey);
 */
export function parseSignerKey(
  platform: Platform,
  skey: string,
): { signer: NoteSigner; verifier: NoteVerifier } {
  const prefix = 'PRIVATE+KEY+';
  if (typeof skey !== 'string' || !skey.startsWith(prefix)) throw malformed();
  const rest = skey.slice(prefix.length);
  const a = rest.indexOf('+');
  const b = a < 0 ? -1 : rest.indexOf('+', a + 1);
  if (b < 0) throw malformed();
  const name = rest.slice(0, a);
  const idHex = rest.slice(a + 1, b);
  if (!isValidKeyName(name) || !/^[0-9a-fA-F]{8}$/.test(idHex)) throw malformed();
  let key: Uint8Array;
  try {
    key = fromBase64(rest.slice(b + 1));
  } catch (cause) {
    throw malformed(cause);
  }
  if (key.length !== 33 || key[0] !== ED25519_SIG_TYPE) throw malformed();
  const privateKey = key.slice(1);
  const publicKey = platform.ed25519PublicKey(privateKey);
  const keyId = noteKeyId(platform, name, publicKey);
  if (keyId !== parseInt(idHex, 16)) throw malformed();
  return { signer: { name, privateKey }, verifier: { name, keyId, publicKey } };
}

/**
 * The verifier matching a signer (derives the public key).
 *
 * @example
 * const verifier = verifierFromSigner(nodePlatform, signer);
 */
export function verifierFromSigner(platform: Platform, signer: NoteSigner): NoteVerifier {
  if (!isValidKeyName(signer.name) || signer.privateKey?.length !== 32) throw malformed();
  const publicKey = platform.ed25519PublicKey(signer.privateKey);
  return { name: signer.name, keyId: noteKeyId(platform, signer.name, publicKey), publicKey };
}

/** The key ID as 4 big-endian bytes (internal). */
export function keyIdBytes(keyId: number): Uint8Array {
  return Uint8Array.of(keyId >>> 24, (keyId >>> 16) & 0xff, (keyId >>> 8) & 0xff, keyId & 0xff);
}
