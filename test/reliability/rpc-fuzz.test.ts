/**
 * Hostile input on the host↔enclave socket, against the real enclave process: truncated frames,
 * oversized length headers, wrong versions, unknown methods, wrong body types and garbage. The
 * enclave disconnects the peer on each (a framing error desynchronises the stream), allocates
 * nothing for an oversized frame (it disconnects after the 4-byte header), and stays up: a fresh
 * connection is served afterwards and its memory is flat. Extends test/unit/wire/frame.test.ts
 * (the codec in-process) to the process boundary.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { utf8 } from '../../src/common/bytes.js';
import { DEFAULT_MAX_FRAME, encodeFrame, FrameDecoder } from '../../src/wire/frame.js';
import { decodeResponse, encodeMessage } from '../../src/wire/messages.js';
import { startEnclaveProcess, type EnclaveProcess } from '../helpers/enclave-process.js';
import { FUZZ_RUNS, rssBytes } from './harness.js';

/** Writes `bytes` (then optionally ends), resolves how the enclave answered: frames and close. */
function exchange(
  socketPath: string,
  bytes: Uint8Array,
  end: boolean,
  waitMs = 300,
): Promise<{ closed: boolean; frames: Uint8Array[]; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const s = net.createConnection(socketPath);
    const dec = new FrameDecoder(DEFAULT_MAX_FRAME);
    const frames: Uint8Array[] = [];
    const t0 = performance.now();
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ closed, frames, closedAfterMs: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    s.on('data', (c: Buffer) => frames.push(...dec.push(new Uint8Array(c))));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', () => {
      s.write(bytes);
      if (end) s.end();
    });
  });
}

const frameOf = (obj: unknown) => encodeFrame(utf8(JSON.stringify(obj)));
const header = (n: number) => {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, n);
  return h;
};

describe(
  `RPC frames against the enclave process (${FUZZ_RUNS} cases)`,
  { timeout: 600_000 },
  () => {
    let enclave: EnclaveProcess;
    before(async () => {
      enclave = await startEnclaveProcess();
    });
    after(() => enclave?.stop());

    async function assertServes(): Promise<void> {
      const r = await exchange(
        enclave.socketPath,
        encodeFrame(
          encodeMessage({
            v: 1,
            id: 7,
            method: 'init',
            body: { sealed_ring: null, kms_credentials: enclave.keyService.credentials },
          }),
        ),
        false,
        5000,
      );
      const answers = r.frames.map((f) => decodeResponse(f));
      assert.ok(
        answers.some((a) => a.id === 7 && 'ok' in a && a.ok),
        'init answered',
      );
      assert.equal(enclave.proc.exitCode, null, 'the enclave is up');
    }

    it('an oversized length header is refused after 4 bytes, before any allocation', async () => {
      const rss0 = rssBytes(enclave.proc.pid!);
      for (let i = 0; i < 50; i++) {
        const r = await exchange(
          enclave.socketPath,
          header(DEFAULT_MAX_FRAME + 1 + i * 1_000_003),
          false,
          2000,
        );
        assert.ok(r.closed, 'disconnected without waiting for the announced body');
        assert.equal(r.frames.length, 0);
      }
      const grew = rssBytes(enclave.proc.pid!) - rss0;
      assert.ok(grew < 8 << 20, `RSS grew ${grew >> 20} MiB`);
      await assertServes();
    });

    it('wrong version, unknown method, wrong body types, prototype keys: disconnected, still up', async () => {
      const cases = [
        { v: 2, id: 1, method: 'init', body: { sealed_ring: null } },
        { v: 1, id: 1, method: 'exec', body: {} },
        { v: 1, id: 1, method: 'init', body: { sealed_ring: 5 } },
        { v: 1, id: 1, method: 'init', body: { sealed_ring: null, extra: 1 } },
        { v: 1, id: -1, method: 'init', body: { sealed_ring: null } },
        { v: 1, id: 1.5, method: 'init', body: { sealed_ring: null } },
        { v: 1, id: 1, method: '__proto__', body: {} },
        { v: 1, id: 1, method: 'open_envelope', body: { __proto__: { x: 1 } } },
        { v: 1, id: 1, method: 'open_envelope', body: JSON.parse('{"__proto__":{"polluted":1}}') },
        [1, 2, 3],
        'init',
        null,
      ];
      for (const c of cases) {
        const r = await exchange(enclave.socketPath, frameOf(c), false, 2000);
        assert.ok(r.closed, JSON.stringify(c));
        // a rejected message is answered by nothing: no error frame to parse either
        assert.equal(r.frames.length, 0, JSON.stringify(c));
      }
      await assertServes();
    });

    it(`random garbage, truncated frames and bit-flipped valid frames (${FUZZ_RUNS})`, async () => {
      const valid = encodeFrame(
        encodeMessage({
          v: 1,
          id: 9,
          method: 'init',
          body: { sealed_ring: null, kms_credentials: enclave.keyService.credentials },
        }),
      );
      const input = fc.oneof(
        fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((b) => ({ bytes: b, end: true })),
        // a truncated frame: the header promises more than arrives before the peer hangs up
        fc
          .integer({ min: 1, max: valid.length - 1 })
          .map((n) => ({ bytes: valid.subarray(0, n), end: true })),
        // a valid frame with one byte changed (a bit flip in the header or the JSON)
        fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
          const b = Uint8Array.from(valid);
          b[i] = b[i]! ^ x;
          return { bytes: b, end: true };
        }),
        // JSON of any shape in a well-formed frame
        fc.json().map((j) => ({ bytes: encodeFrame(utf8(j)), end: false })),
      );
      let disconnected = 0;
      await fc.assert(
        fc.asyncProperty(input, async ({ bytes, end }) => {
          const r = await exchange(enclave.socketPath, bytes, end, 150);
          if (r.closed) disconnected++;
          // any frame it does send is a well-formed response (e.g. to a flip that kept a valid request)
          for (const f of r.frames) decodeResponse(f);
          assert.equal(enclave.proc.exitCode, null, 'the enclave is up');
        }),
        { numRuns: FUZZ_RUNS },
      );
      process.stdout.write(
        `# rpc fuzz: ${FUZZ_RUNS} cases, ${disconnected} disconnected by the enclave\n`,
      );
      await assertServes();
    });
  },
);
