/**
 * The enclave end of the RPC: length-prefixed JSON frames over a stream socket (a Unix socket in
 * dev, vsock in Nitro). Every frame is size-checked before allocation and re-validated; a peer that
 * sends a malformed frame is disconnected, because a framing error leaves the stream unsynchronised.
 */
import net from 'node:net';
import { CodedError } from '../common/errors.js';
import { DEFAULT_MAX_FRAME, encodeFrame, FrameDecoder } from '../wire/frame.js';
import { turnWriter } from '../runtime/turn-writer.js';
import {
  decodeRequest,
  encodeMessage,
  validateRequestBody,
  type RpcMethod,
  type RpcProgress,
  type RpcProgressMessage,
  type RpcResponse,
} from '../wire/messages.js';
import type { createEnclaveService } from './service.js';

export interface RpcServerOptions {
  service: ReturnType<typeof createEnclaveService>;
  maxInflight: number;
  log: { warn(o: object, msg: string): void; error(o: object, msg: string): void };
}

const PUBLIC_CODES = new Set([
  'DECRYPTION_FAILED',
  'EXCHANGE_MISMATCH',
  'UNKNOWN_EXCHANGE',
  'EXCHANGE_AUTH_FAILED',
  'KEY_NOT_READ_ONLY',
  'EXCHANGE_UNAVAILABLE',
  'SESSION_REVOKED',
  'ENCLAVE_NOT_READY',
  'INVALID_REQUEST',
  'LOG_HEAD_INVALID',
  'LOG_INCONSISTENT',
  'LOG_CONSISTENCY_REQUIRED',
  // Key ring (src/enclave/keyring.ts, kms-key-service.ts): the host acts on these.
  'UNKNOWN_ENCLAVE_KEY',
  'KEY_SERVICE_DENIED',
  'KEY_SERVICE_UNAVAILABLE',
  'KEYRING_UNSEAL',
]);

export function createRpcServer(opts: RpcServerOptions): net.Server {
  let inflight = 0;
  return net.createServer((socket) => {
    const decoder = new FrameDecoder(DEFAULT_MAX_FRAME);
    const write = turnWriter(socket);
    const send = (msg: RpcResponse | RpcProgressMessage): void =>
      write(encodeFrame(encodeMessage(msg)));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      let frames: Uint8Array[];
      try {
        frames = decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      } catch {
        opts.log.warn({ event: 'rpc_frame_rejected' }, 'oversized frame; disconnecting');
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        let id: number;
        let method: RpcMethod;
        let body: unknown;
        try {
          const req = decodeRequest(frame);
          id = req.id;
          method = req.method;
          body = validateRequestBody(req.method, req.body);
        } catch {
          opts.log.warn({ event: 'rpc_message_rejected' }, 'malformed message; disconnecting');
          socket.destroy();
          return;
        }
        if (inflight >= opts.maxInflight) {
          send({
            v: 1,
            id,
            ok: false,
            error: { code: 'ENCLAVE_BUSY', message: 'enclave is at capacity' },
          });
          continue;
        }
        inflight++;
        const progress = (p: RpcProgress): void => send({ v: 1, id, progress: p });
        opts.service
          .handle(method, body as never, { progress })
          .then(
            (result) => send({ v: 1, id, ok: true, body: result }),
            (err: unknown) => {
              if (err instanceof CodedError && PUBLIC_CODES.has(err.code)) {
                const detail = (err as { detail?: Record<string, number> }).detail;
                send({
                  v: 1,
                  id,
                  ok: false,
                  error: { code: err.code, message: err.message, ...(detail && { detail }) },
                });
              } else {
                // Never forward a foreign error's message: it may quote a request URL or a header.
                opts.log.error(
                  {
                    event: 'rpc_internal_error',
                    method,
                    kind: err instanceof Error ? err.name : typeof err,
                  },
                  'internal error',
                );
                send({
                  v: 1,
                  id,
                  ok: false,
                  error: { code: 'INTERNAL', message: 'internal enclave error' },
                });
              }
            },
          )
          .finally(() => inflight--);
      }
    });
  });
}
