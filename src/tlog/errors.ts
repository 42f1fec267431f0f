/**
 * Transparency-log failures. Each code names what was wrong; messages are fixed and detail-free,
 * so nothing from an (attacker-controlled) proof, note or path is echoed back.
 */
import { CodedError } from '../common/errors.js';

/** Every tlog error code (for docs/errors.md and tests). */
export const TLOG_CODES = [
  'ERR_TLOG_RANGE',
  'ERR_TLOG_PROOF',
  'ERR_TLOG_NODES',
  'ERR_TLOG_NOTE_MALFORMED',
  'ERR_TLOG_NOTE_SIGNATURE',
  'ERR_TLOG_NOTE_UNVERIFIED',
  'ERR_TLOG_KEY_MALFORMED',
  'ERR_TLOG_CHECKPOINT_MALFORMED',
  'ERR_TLOG_CHECKPOINT_ORIGIN',
  'ERR_TLOG_TILE_PATH',
] as const;

export type TlogCode = (typeof TLOG_CODES)[number];

const MESSAGES: Readonly<Record<TlogCode, string>> = {
  ERR_TLOG_RANGE: 'tree size, index or level is out of range',
  ERR_TLOG_PROOF: 'proof is malformed',
  ERR_TLOG_NODES: 'stored nodes do not match the proof plan',
  ERR_TLOG_NOTE_MALFORMED: 'signed note is malformed',
  ERR_TLOG_NOTE_SIGNATURE: 'signed note has an invalid signature from a known key',
  ERR_TLOG_NOTE_UNVERIFIED: 'signed note has no valid signature from a known key',
  ERR_TLOG_KEY_MALFORMED: 'note key is malformed',
  ERR_TLOG_CHECKPOINT_MALFORMED: 'checkpoint is malformed',
  ERR_TLOG_CHECKPOINT_ORIGIN: 'checkpoint is for another log',
  ERR_TLOG_TILE_PATH: 'tile path is malformed',
};

/**
 * A transparency-log error. `code` is stable; the message is fixed per code.
 *
 * @example
 * try { openNote(platform, text, verifiers); }
 * catch (e) { if (e instanceof TlogError && e.code === 'ERR_TLOG_NOTE_UNVERIFIED') reject(); }
 */
export class TlogError extends CodedError<TlogCode> {
  constructor(code: TlogCode, options?: { cause?: unknown }) {
    super(code, MESSAGES[code], options);
  }
}
