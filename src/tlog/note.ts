/**
 * C2SP signed notes (https://c2sp.org/signed-note, "Format" and "Signatures"), Ed25519 only:
 *
 *     <text ending in \n>\n— <key name> base64(uint32 key ID || signature)\n…
 *
 * The text is split from the signatures at the last blank line. The note is attacker-controlled:
 * it is parsed strictly, at most 100 signature lines are read (the spec asks for ≥ 16; Go stops
 * at 100), signatures by unknown keys are ignored, a bad signature by a known key rejects the
 * whole note, and a note with no valid signature by a known key is rejected.
 */
import { concatBytes, fromBase64, toBase64, utf8 } from '../common/bytes.js';
import type { Platform } from '../platform/types.js';
import { TlogError } from './errors.js';
import {
  isValidKeyName,
  keyIdBytes,
  LONE_SURROGATE,
  noteKeyId,
  type NoteSigner,
  type NoteVerifier,
} from './note-key.js';

/** Most signature lines read from one note. */
export const MAX_NOTE_SIGNATURES = 100;

const SIG_PREFIX = '\u2014 '; // em dash, space
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f]/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A signature line: who signed (name, key ID) and the raw signature bytes. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

/** An opened note: its text, the verified signatures, and those by keys we do not know. */
export interface OpenedNote {
  readonly text: string;
  readonly signatures: NoteSignature[];
  readonly unverified: NoteSignature[];
}

function malformed(cause?: unknown): TlogError {
  return new TlogError('ERR_TLOG_NOTE_MALFORMED', cause === undefined ? undefined : { cause });
}

function isValidText(text: string): boolean {
  return text.endsWith('\n') && !CONTROL.test(text) && !LONE_SURROGATE.test(text);
}

/**
 * Signs `text` (which must end in a newline, with no control characters but newlines) with one
 * or more Ed25519 keys and returns the signed note. Ed25519 is deterministic, so the same text
 * and key always give the same note. Throws ERR_TLOG_NOTE_MALFORMED for bad text or key names.
 *
 * @example
 * const note = signNote(nodePlatform, formatCheckpoint(cp), { name: 'example.com/log', privateKey: seed });
 */
export function signNote(
  platform: Platform,
  text: string,
  signer: NoteSigner | readonly NoteSigner[],
): string {
  const signers = Array.isArray(signer) ? signer : [signer as NoteSigner];
  if (typeof text !== 'string' || !isValidText(text) || signers.length === 0) throw malformed();
  const message = utf8(text);
  let out = `${text}\n`;
  for (const s of signers) {
    if (
      !isValidKeyName(s.name) ||
      !(s.privateKey instanceof Uint8Array) ||
      s.privateKey.length !== 32
    ) {
      throw malformed();
    }
    const keyId = noteKeyId(platform, s.name, platform.ed25519PublicKey(s.privateKey));
    const sig = platform.ed25519Sign(s.privateKey, message);
    out += `${SIG_PREFIX}${s.name} ${toBase64(concatBytes(keyIdBytes(keyId), sig))}\n`;
  }
  return out;
}

/**
 * Parses a signed note without verifying anything: text and signature lines.
 * Throws ERR_TLOG_NOTE_MALFORMED. Use {@link openNote} to trust the text.
 *
 * @example
 * const { text, signatures } = parseNote(noteText);
 */
export function parseNote(note: string | Uint8Array): {
  text: string;
  signatures: NoteSignature[];
} {
  let s: string;
  if (note instanceof Uint8Array) {
    try {
      s = strictUtf8.decode(note);
    } catch (cause) {
      throw malformed(cause);
    }
  } else if (typeof note === 'string') {
    if (LONE_SURROGATE.test(note)) throw malformed();
    s = note;
  } else {
    throw malformed();
  }
  if (CONTROL.test(s)) throw malformed();
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw malformed();
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) throw malformed();
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw malformed();
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIG_PREFIX)) throw malformed();
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    if (sp < 0) throw malformed();
    const name = rest.slice(0, sp);
    if (!isValidKeyName(name)) throw malformed();
    let raw: Uint8Array;
    try {
      raw = fromBase64(rest.slice(sp + 1));
    } catch (cause) {
      throw malformed(cause);
    }
    if (raw.length < 5) throw malformed();
    const keyId = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
    signatures.push({ name, keyId, signature: raw.slice(4) });
  }
  return { text, signatures };
}

/**
 * Opens a signed note: parses it, verifies every signature whose (name, key ID) matches a
 * verifier, ignores the others, and returns the text. Repeated signatures by one key count once.
 * Throws ERR_TLOG_NOTE_MALFORMED (syntax), ERR_TLOG_NOTE_SIGNATURE (a known key's signature is
 * invalid: the whole note is rejected) or ERR_TLOG_NOTE_UNVERIFIED (no known key signed it).
 *
 * @example
 * const log = parseVerifierKey(nodePlatform, 'example.com/log+1a2b3c4d+AR…');
 * const { text } = openNote(nodePlatform, body, [log]);
 * const cp = parseCheckpoint(text, 'example.com/log');
 */
export function openNote(
  platform: Platform,
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): OpenedNote {
  const { text, signatures: all } = parseNote(note);
  const message = utf8(text);
  const seen = new Set<string>();
  const signatures: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  for (const sig of all) {
    const id = `${sig.name} ${sig.keyId}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const v = verifiers.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!v) {
      unverified.push(sig);
      continue;
    }
    if (!platform.ed25519Verify(v.publicKey, message, sig.signature)) {
      throw new TlogError('ERR_TLOG_NOTE_SIGNATURE');
    }
    signatures.push(sig);
  }
  if (signatures.length === 0) throw new TlogError('ERR_TLOG_NOTE_UNVERIFIED');
  return { text, signatures, unverified };
}
