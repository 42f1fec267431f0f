/**
 * PEM (RFC 7468 §2, strict form) ⇄ DER, browser-safe. A PEM may arrive from the untrusted host
 * (`GET /attestation/dev-root`): attacker-controlled, parse defensively.
 */
import { fromBase64, toBase64 } from '../common/bytes.js';
import { malformed } from './errors.js';

const LABEL_RE = /^[A-Z0-9 ]{1,64}$/;
const MAX_PEM_CHARS = 64 * 1024;

function checkLabel(label: string): void {
  if (!LABEL_RE.test(label)) throw malformed();
}

/**
 * Decodes exactly one PEM block with the given label (default CERTIFICATE). Surrounding whitespace
 * and line breaks inside the base64 are allowed; anything else throws ERR_ATTESTATION_MALFORMED.
 *
 * @example
 * const rootDer = pemToDer(await (await fetch('/attestation/dev-root')).text());
 */
export function pemToDer(pem: string, label = 'CERTIFICATE'): Uint8Array {
  checkLabel(label);
  if (typeof pem !== 'string' || pem.length > MAX_PEM_CHARS) throw malformed();
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const text = pem.trim();
  if (!text.startsWith(begin) || !text.endsWith(end)) throw malformed();
  const body = text.slice(begin.length, text.length - end.length).replace(/[\r\n\t ]+/g, '');
  if (body.length === 0 || body.includes('-')) throw malformed();
  try {
    return fromBase64(body);
  } catch (cause) {
    throw malformed(cause);
  }
}

/**
 * Encodes DER as PEM with 64-character lines and a trailing newline.
 *
 * @example
 * derToPem(AWS_NITRO_ROOT_G1_DER); // '-----BEGIN CERTIFICATE-----\nMIIC...'
 */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  checkLabel(label);
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
