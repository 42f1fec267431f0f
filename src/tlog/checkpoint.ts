/**
 * C2SP tlog-checkpoint note bodies (https://c2sp.org/tlog-checkpoint, "Note text"):
 *
 *     <origin>\n<decimal tree size>\n<base64 root hash>\n[<extension line>\n…]
 *
 * Parsed strictly, because a checkpoint is attacker-controlled until its note verified: a
 * non-empty origin, a size in ASCII decimal without leading zeros, a canonical base64 root of
 * exactly 32 bytes (RFC 6962 SHA-256), non-empty extension lines, and a final newline. Sizes above
 * 2^53 - 1 are rejected: this implementation keeps sizes in JavaScript numbers.
 */
import { fromBase64, toBase64 } from '../common/bytes.js';
import type { Platform } from '../platform/types.js';
import { isIndex } from './bits.js';
import { TlogError } from './errors.js';
import { HASH_SIZE } from './hash.js';
import { openNote, type OpenedNote } from './note.js';
import type { NoteVerifier } from './note-key.js';

/** A parsed checkpoint. `extensions` are the optional extra lines, without their newlines. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly extensions: readonly string[];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f]/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,15})$/;

function malformed(cause?: unknown): TlogError {
  return new TlogError(
    'ERR_TLOG_CHECKPOINT_MALFORMED',
    cause === undefined ? undefined : { cause },
  );
}

function isLine(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && !CONTROL.test(s);
}

/**
 * Formats the checkpoint body (the note text to sign). Throws ERR_TLOG_CHECKPOINT_MALFORMED for
 * an empty origin or extension line, a size that is not a safe integer, or a root that is not
 * 32 bytes.
 *
 * @example
 * const body = formatCheckpoint({ origin: 'example.com/log', size: range.size, rootHash: range.root(nodePlatform), extensions: [] });
 * const note = signNote(nodePlatform, body, logSigner);
 */
export function formatCheckpoint(cp: Checkpoint): string {
  const extensions = cp.extensions ?? [];
  if (
    !isLine(cp.origin) ||
    !isIndex(cp.size) ||
    !(cp.rootHash instanceof Uint8Array) ||
    cp.rootHash.length !== HASH_SIZE ||
    !extensions.every(isLine)
  ) {
    throw malformed();
  }
  return [cp.origin, String(cp.size), toBase64(cp.rootHash), ...extensions].join('\n') + '\n';
}

/**
 * Parses a checkpoint body. With `expectedOrigin`, a different origin throws
 * ERR_TLOG_CHECKPOINT_ORIGIN; anything malformed throws ERR_TLOG_CHECKPOINT_MALFORMED.
 *
 * @example
 * parseCheckpoint('example.com/log\n8\n…base64…=\n', 'example.com/log').size; // 8
 */
export function parseCheckpoint(text: string, expectedOrigin?: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw malformed();
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed();
  const [origin, sizeLine, rootLine, ...extensions] = lines as [
    string,
    string,
    string,
    ...string[],
  ];
  if (!isLine(origin) || !DECIMAL.test(sizeLine) || !extensions.every(isLine)) throw malformed();
  const size = Number(sizeLine);
  if (!isIndex(size)) throw malformed();
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(rootLine);
  } catch (cause) {
    throw malformed(cause);
  }
  if (rootHash.length !== HASH_SIZE) throw malformed();
  if (expectedOrigin !== undefined && origin !== expectedOrigin) {
    throw new TlogError('ERR_TLOG_CHECKPOINT_ORIGIN');
  }
  return { origin, size, rootHash, extensions };
}

/**
 * Opens a signed checkpoint: {@link openNote} with the log's verifiers, then
 * {@link parseCheckpoint} with the expected origin. Throws the TlogError of either step.
 *
 * @example
 * const { checkpoint } = openCheckpoint(nodePlatform, await (await fetch(url)).text(), [logKey], 'example.com/log');
 */
export function openCheckpoint(
  platform: Platform,
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  expectedOrigin: string,
): { checkpoint: Checkpoint; note: OpenedNote } {
  const opened = openNote(platform, note, verifiers);
  return { checkpoint: parseCheckpoint(opened.text, expectedOrigin), note: opened };
}
