/**
 * A strict well-formedness scan (RFC 8949 §3, §5.6) run before cbor-x sees attacker-controlled bytes,
 * so the decoded value has no ambiguity that cbor-x would resolve silently:
 * exactly one item and no trailing bytes; nesting at most MAX_DEPTH; no tags; no floats, `undefined`
 * or other simple values (only false/true/null); no indefinite-length strings (indefinite-length
 * arrays and maps are accepted); text is valid UTF-8; map keys are integers or text, never repeated.
 */
import { malformed } from './errors.js';

const MAX_DEPTH = 16;
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface Head {
  major: number;
  /** Argument, or -1 for indefinite length. Values past 2^53 are kept exact as a bigint. */
  arg: number | bigint;
  end: number;
}

function readHead(b: Uint8Array, pos: number): Head {
  if (pos >= b.length) throw malformed();
  const first = b[pos]!;
  const major = first >> 5;
  const ai = first & 0x1f;
  if (ai < 24) return { major, arg: ai, end: pos + 1 };
  if (ai === 31) return { major, arg: -1, end: pos + 1 };
  if (ai > 27) throw malformed();
  const n = 1 << (ai - 24);
  if (pos + 1 + n > b.length) throw malformed();
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[pos + 1 + i]!);
  return { major, arg: v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v, end: pos + 1 + n };
}

function length(h: Head, b: Uint8Array): number {
  // Every content byte or item needs at least one byte of input, so this bounds all loops below.
  if (typeof h.arg !== 'number' || h.arg > b.length - h.end) throw malformed();
  return h.arg;
}

/** Returns the end of the item at `pos` and, for a map key, an identity string for duplicates. */
function skip(b: Uint8Array, pos: number, depth: number): { end: number; key: string | null } {
  if (depth > MAX_DEPTH) throw malformed();
  const h = readHead(b, pos);
  switch (h.major) {
    case 0:
    case 1:
      if (h.arg === -1) throw malformed();
      return { end: h.end, key: `${h.major}:${h.arg}` };
    case 2:
    case 3: {
      if (h.arg === -1) throw malformed();
      const end = h.end + length(h, b);
      if (h.major === 2) return { end, key: null };
      try {
        utf8.decode(b.subarray(h.end, end));
      } catch (cause) {
        throw malformed(cause);
      }
      return { end, key: `3:${Array.from(b.subarray(h.end, end)).join(',')}` };
    }
    case 4:
    case 5: {
      const isMap = h.major === 5;
      const keys = new Set<string>();
      let p = h.end;
      const count = h.arg === -1 ? Infinity : length(h, b);
      for (let i = 0; i < count; i++) {
        if (h.arg === -1) {
          if (p >= b.length) throw malformed();
          if (b[p] === 0xff) return { end: p + 1, key: null };
        }
        const item = skip(b, p, depth + 1);
        p = item.end;
        if (isMap) {
          if (item.key === null || keys.has(item.key)) throw malformed();
          keys.add(item.key);
          p = skip(b, p, depth + 1).end;
        }
      }
      return { end: p, key: null };
    }
    case 7:
      // false, true, null
      if (h.end === pos + 1 && (h.arg === 20 || h.arg === 21 || h.arg === 22))
        return { end: h.end, key: null };
      throw malformed();
    default:
      // major 6: tags are not part of any structure this module accepts
      throw malformed();
  }
}

/**
 * Throws ERR_ATTESTATION_MALFORMED unless `bytes` is exactly one well-formed item within the rules above.
 * Attacker-controlled, parse defensively.
 *
 * @example
 * assertStrictCbor(payload); // then decode with cbor-x
 */
export function assertStrictCbor(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) throw malformed();
  const { end } = skip(bytes, 0, 0);
  if (end !== bytes.length) throw malformed();
}
