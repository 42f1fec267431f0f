/** turnWriter: the frames of one event-loop turn leave in one corked write, in order. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { turnWriter } from '../../../src/runtime/turn-writer.js';
import { encodeFrame, FrameDecoder } from '../../../src/wire/frame.js';

const turn = () => new Promise((r) => setImmediate(r));

test('one cork per turn, uncorked on the next check phase, writes in order', async () => {
  const events: string[] = [];
  const socket = {
    destroyed: false,
    cork: () => events.push('cork'),
    uncork: () => events.push('uncork'),
    write: (b: Uint8Array) => events.push(`write ${b[0]}`) > 0,
  };
  const write = turnWriter(socket);
  write(Uint8Array.of(1));
  write(Uint8Array.of(2));
  write(Uint8Array.of(3));
  assert.deepEqual(events, ['cork', 'write 1', 'write 2', 'write 3']);
  await turn();
  write(Uint8Array.of(4));
  await turn();
  assert.deepEqual(events.slice(4), ['uncork', 'cork', 'write 4', 'uncork']);
  socket.destroyed = true;
  write(Uint8Array.of(5));
  await turn();
  assert.equal(events.length, 8); // nothing written to a destroyed socket
});

test('a burst of frames over a real socket arrives whole and in order, in few reads', async (t) => {
  const got: number[] = [];
  let reads = 0;
  const server = net.createServer((s) => {
    const d = new FrameDecoder();
    s.on('data', (c: Buffer) => {
      reads++;
      for (const f of d.push(new Uint8Array(c))) got.push(new DataView(f.buffer).getUint32(0));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  const client = net.createConnection(port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  t.after(() => client.destroy());
  const write = turnWriter(client);
  for (let i = 0; i < 500; i++) {
    const body = new Uint8Array(4);
    new DataView(body.buffer).setUint32(0, i);
    write(encodeFrame(body));
  }
  const deadline = Date.now() + 5_000;
  while (got.length < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(
    got,
    Array.from({ length: 500 }, (_, i) => i),
  );
  assert.ok(reads < 10, `${reads} reads for one turn's 500 frames`);
});
