/**
 * Host ↔ enclave framing: a 4-byte big-endian length, then that many bytes of UTF-8 JSON.
 * The length is checked against the maximum before any buffer for the body is allocated, so a
 * hostile peer cannot make the other side allocate more than `maxFrame` bytes.
 */
import { CodedError } from '../common/errors.js';

export type WireCode = 'ERR_WIRE_FRAME_TOO_LARGE' | 'ERR_WIRE_MALFORMED' | 'ERR_WIRE_VERSION';
export class WireError extends CodedError<WireCode> {}

/**
 * 32 MiB: room for a sealed history of ≈ 450,000 fills (MAX_HISTORY_B64) beside the signed payload.
 * Each side reads one frame at a time per connection, so this bounds one allocation, not one per
 * request in flight.
 */
export const DEFAULT_MAX_FRAME = 32 << 20;

export function encodeFrame(body: Uint8Array, maxFrame = DEFAULT_MAX_FRAME): Uint8Array {
  if (body.length > maxFrame)
    throw new WireError('ERR_WIRE_FRAME_TOO_LARGE', 'frame exceeds the maximum size');
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Incremental decoder: push arbitrary chunks, get whole frames back. */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private need = -1;
  constructor(private readonly maxFrame = DEFAULT_MAX_FRAME) {}

  push(chunk: Uint8Array): Uint8Array[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        const header = this.take(4);
        const len = new DataView(header.buffer, header.byteOffset, 4).getUint32(0);
        if (len > this.maxFrame)
          throw new WireError('ERR_WIRE_FRAME_TOO_LARGE', 'frame exceeds the maximum size');
        this.need = len;
      }
      if (this.buffered < this.need) break;
      frames.push(this.take(this.need));
      this.need = -1;
    }
    return frames;
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const head = this.chunks[0]!;
      const k = Math.min(n - o, head.length);
      out.set(head.subarray(0, k), o);
      o += k;
      if (k === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}
