/**
 * A session's stored history (issue #3, "History beyond the exchange's window"): the normalized
 * fills and account events downloaded so far, sealed by the enclave and kept by the host as an
 * opaque blob, so rows the exchange has since dropped (Binance USD-M keeps 6 months, OKX 3) still
 * count, and the next request downloads only what is new.
 *
 * Sealing: `key = HKDF-SHA256(ikm = the key ring's data key, salt = "", info = HISTORY_INFO)`. The
 * data key is the secret that unwraps the ring; it exists in plaintext only inside an attested
 * enclave (the key service hands it out only in `CiphertextForRecipient`), and every instance that
 * opens the ring derives the same key. Blob = base64(`0x01 ‖ nonce(12) ‖ AES-256-GCM(key, nonce,
 * deflateRaw(JSON), aad)`), aad = `"perf-aggregator/v1/history\n" ‖ session_id ‖ "\n" ‖ exchange ‖
 * "\n" ‖ version`. The AAD binds the blob to its session, venue and version: the host cannot hand
 * one session's blob to another, nor relabel an old blob with a newer version number.
 *
 * Compression is node:zlib (deflate-raw): trade rows are repetitive JSON and shrink about 5–10×,
 * which keeps a history of tens of thousands of fills within one RPC frame. Inflation is capped
 * (`MAX_PLAIN_BYTES`) so an authentic-but-huge blob cannot exhaust memory.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Fill } from '../aggregates/fill.js';
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from '../common/bytes.js';
import { CodedError } from '../common/errors.js';
import type { AccountEvent } from '../exchanges/types.js';
import type { Platform } from '../platform/types.js';
import { MAX_HISTORY_B64 } from '../wire/messages.js';

export type HistoryCode =
  /** the blob does not open under this enclave's key for this session, venue and version */
  | 'ERR_HISTORY_UNSEAL'
  /** an authentic blob older than the one this enclave process last returned for the session */
  | 'ERR_HISTORY_ROLLBACK'
  /** the sealed history would not fit the RPC message (wire MAX_HISTORY_B64) */
  | 'ERR_HISTORY_TOO_LARGE';
export class HistoryError extends CodedError<HistoryCode> {}

/** Inflated plaintext cap: far above what MAX_HISTORY_B64 holds at realistic ratios. */
const MAX_PLAIN_BYTES = 64 << 20;
const FORMAT = 1;
const HISTORY_INFO = 'perf-aggregator/v1/history-key';
const AAD_PREFIX = 'perf-aggregator/v1/history\n';

/** What the enclave remembers of a session's downloads. */
export interface History {
  /** The download is complete from here (ms): the exchange's horizon at the first full download. */
  completeFrom: number;
  /**
   * Set when the exchange could not serve its whole horizon yet (OKX archive files still being
   * generated): the next request downloads in full again to reach further back.
   */
  cutShort?: boolean;
  /** `now` of the last download: every row up to it was fetched. */
  fetchedTo: number;
  /** Flows were fetched from here on (the opening time of the first download). */
  flowsFrom: number;
  fills: Fill[];
  flows: AccountEvent[];
}

export interface HistoryBinding {
  sessionId: string;
  exchange: string;
  version: number;
}

export function historyKey(platform: Platform, dataKey: Uint8Array): Uint8Array {
  return platform.hkdfSha256(dataKey, new Uint8Array(0), utf8(HISTORY_INFO), 32);
}

const aad = (b: HistoryBinding): Uint8Array =>
  utf8(`${AAD_PREFIX}${b.sessionId}\n${b.exchange}\n${b.version}`);

const unseal = (): never => {
  throw new HistoryError('ERR_HISTORY_UNSEAL', 'stored history could not be opened');
};

/** Seals `h` for `binding`; throws ERR_HISTORY_TOO_LARGE when the blob would exceed `maxB64`. */
export function sealHistory(
  platform: Platform,
  key: Uint8Array,
  binding: HistoryBinding,
  h: History,
  maxB64 = MAX_HISTORY_B64,
): string {
  const plain = deflateRawSync(
    utf8(
      JSON.stringify({
        v: FORMAT,
        complete_from: h.completeFrom,
        ...(h.cutShort === true && { cut_short: true }),
        fetched_to: h.fetchedTo,
        flows_from: h.flowsFrom,
        fills: h.fills,
        flows: h.flows,
      }),
    ),
  );
  // base64 of 1 + 12 + plain + 16 bytes
  if (Math.ceil((plain.length + 29) / 3) * 4 > maxB64)
    throw new HistoryError('ERR_HISTORY_TOO_LARGE', 'history exceeds the message limit');
  const nonce = platform.randomBytes(12);
  const ct = platform.aesGcmSeal(key, nonce, new Uint8Array(plain), aad(binding));
  return toBase64(concatBytes(new Uint8Array([FORMAT]), nonce, ct));
}

const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isRecordArray = (v: unknown): v is Record<string, unknown>[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));

/** Opens a blob sealed for exactly `binding`; any mismatch or damage is ERR_HISTORY_UNSEAL. */
export function openHistory(
  platform: Platform,
  key: Uint8Array,
  binding: HistoryBinding,
  blob: string,
): History {
  let raw: Uint8Array;
  try {
    raw = fromBase64(blob);
  } catch {
    return unseal();
  }
  if (raw.length < 29 || raw[0] !== FORMAT) return unseal();
  const sealed = platform.aesGcmOpen(key, raw.subarray(1, 13), raw.subarray(13), aad(binding));
  if (!sealed) return unseal();
  try {
    const o = JSON.parse(
      fromUtf8(new Uint8Array(inflateRawSync(sealed, { maxOutputLength: MAX_PLAIN_BYTES }))),
    ) as Record<string, unknown>;
    // Authentic (we sealed it), but parse defensively anyway: a shape change between images.
    if (
      o['v'] !== FORMAT ||
      !isTime(o['complete_from']) ||
      !isTime(o['fetched_to']) ||
      !isTime(o['flows_from']) ||
      !isRecordArray(o['fills']) ||
      !isRecordArray(o['flows'])
    )
      return unseal();
    return {
      completeFrom: o['complete_from'],
      ...(o['cut_short'] === true && { cutShort: true }),
      fetchedTo: o['fetched_to'],
      flowsFrom: o['flows_from'],
      fills: o['fills'] as unknown as Fill[],
      flows: o['flows'] as unknown as AccountEvent[],
    };
  } catch (e) {
    if (e instanceof HistoryError) throw e;
    return unseal();
  }
}

/**
 * The highest history version this enclave process returned per session. A blob older than that
 * is a rollback. Memory only: it does not survive a restart (docs/threat-model.md), and it is
 * bounded (oldest entries forgotten first).
 */
export class HistoryWatermarks {
  private readonly seen = new Map<string, number>();
  constructor(private readonly max = 100_000) {}

  /** `version`: of the blob the host sent (no blob is no rollback: it only costs a full download). */
  check(sessionId: string, version: number): void {
    const last = this.seen.get(sessionId);
    if (last !== undefined && version < last)
      throw new HistoryError('ERR_HISTORY_ROLLBACK', 'stored history is older than the last one');
  }

  record(sessionId: string, version: number): void {
    this.seen.delete(sessionId);
    this.seen.set(sessionId, version);
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!);
  }

  forget(sessionId: string): void {
    this.seen.delete(sessionId);
  }
}
