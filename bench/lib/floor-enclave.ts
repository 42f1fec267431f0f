/**
 * The floor of bench/api.ts, enclave half: the least any enclave must do for one submit_key. It
 * reads a framed request, makes the one X25519 agreement with the envelope's ephemeral key
 * (imported from its 32 raw bytes, as the real enclave does) and answers. Nothing else: no HKDF,
 * no AES-GCM, no credential parsing, no key check. Listens on the Unix socket given as argv[2]
 * and prints one JSON line with it once listening.
 */
import { createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import net from 'node:net';
import { exitWithParent } from '../../src/runtime/lifeline.js';
import { encodeFrame, FrameDecoder } from '../../src/wire/frame.js';

const socketPath = process.argv[2]!;
const { privateKey } = generateKeyPairSync('x25519');
const utf8 = new TextEncoder();
const server = net.createServer((socket) => {
  const decoder = new FrameDecoder();
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const { id, ephemeral_pub } = JSON.parse(Buffer.from(frame).toString()) as {
        id: number;
        ephemeral_pub: string;
      };
      const x = Buffer.from(ephemeral_pub, 'base64').toString('base64url');
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
      diffieHellman({ privateKey, publicKey });
      socket.write(encodeFrame(utf8.encode(JSON.stringify({ id, ok: true }))));
    }
  });
});
server.listen(socketPath, () =>
  process.stdout.write(`${JSON.stringify({ socket: socketPath })}\n`),
);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
exitWithParent(stop);
