/**
 * The host end of the RPC. One stream connection, many concurrent requests matched by id, each with
 * its own timeout. If the connection drops, every pending call fails with ENCLAVE_UNAVAILABLE and
 * the next call reconnects.
 */
import net from 'node:net';
import { CodedError } from '../common/errors.js';
import { DEFAULT_MAX_FRAME, encodeFrame, FrameDecoder } from '../wire/frame.js';
import { turnWriter } from '../runtime/turn-writer.js';
import {
  decodeResponse,
  encodeMessage,
  type RpcMethod,
  type RpcProgress,
  type RpcRequestBody,
  type RpcResponseBody,
} from '../wire/messages.js';

export class EnclaveCallError extends CodedError<string> {
  constructor(
    code: string,
    message: string,
    readonly detail?: Record<string, number>,
  ) {
    super(code, message);
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  onProgress?: (p: RpcProgress) => void;
  timer: NodeJS.Timeout;
}

export interface EnclaveClient {
  call<M extends RpcMethod>(
    method: M,
    body: RpcRequestBody<M>,
    timeoutMs?: number,
    /** called for each progress message the enclave sends before its answer */
    onProgress?: (p: RpcProgress) => void,
  ): Promise<RpcResponseBody<M>>;
  close(): void;
}

export function createEnclaveClient(opts: {
  socketPath: string;
  defaultTimeoutMs: number;
  onCall?: (method: RpcMethod, seconds: number, outcome: string) => void;
}): EnclaveClient {
  /** The open connection and its writer. */
  interface Conn {
    s: net.Socket;
    send: (frame: Uint8Array) => void;
  }
  let socket: Conn | null = null;
  let connecting: Promise<Conn> | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const unavailable = (): EnclaveCallError =>
    new EnclaveCallError('ENCLAVE_UNAVAILABLE', 'the enclave is unavailable');

  const failAll = (): void => {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(unavailable());
    }
  };

  const connect = (): Promise<Conn> => {
    if (socket && !socket.s.destroyed) return Promise.resolve(socket);
    connecting ??= new Promise<Conn>((resolve, reject) => {
      const s = net.createConnection(opts.socketPath);
      const decoder = new FrameDecoder(DEFAULT_MAX_FRAME);
      s.once('connect', () => {
        const conn = { s, send: turnWriter(s) };
        socket = conn;
        connecting = null;
        resolve(conn);
      });
      s.on('error', () => {
        if (connecting) {
          connecting = null;
          reject(unavailable());
        }
        s.destroy();
      });
      s.on('close', () => {
        if (socket?.s === s) socket = null;
        failAll();
      });
      s.on('data', (chunk: Buffer) => {
        try {
          for (const frame of decoder.push(
            new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length),
          )) {
            const res = decodeResponse(frame);
            const p = pending.get(res.id);
            if (!p) continue;
            if ('progress' in res) {
              p.onProgress?.(res.progress);
              continue;
            }
            pending.delete(res.id);
            clearTimeout(p.timer);
            if (res.ok) p.resolve(res.body);
            else
              p.reject(new EnclaveCallError(res.error.code, res.error.message, res.error.detail));
          }
        } catch {
          s.destroy(); // an unsynchronised stream cannot be trusted further
        }
      });
    });
    return connecting;
  };

  return {
    async call(method, body, timeoutMs = opts.defaultTimeoutMs, onProgress) {
      const started = performance.now();
      const { send } = await connect().catch((e: Error) => {
        opts.onCall?.(method, (performance.now() - started) / 1000, 'unavailable');
        throw e;
      });
      const id = nextId++;
      const result = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new EnclaveCallError('ENCLAVE_TIMEOUT', 'the enclave did not answer in time'));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer, ...(onProgress && { onProgress }) });
      });
      send(encodeFrame(encodeMessage({ v: 1, id, method, body })));
      try {
        const out = await result;
        opts.onCall?.(method, (performance.now() - started) / 1000, 'ok');
        return out as RpcResponseBody<typeof method>;
      } catch (e) {
        opts.onCall?.(
          method,
          (performance.now() - started) / 1000,
          e instanceof CodedError ? e.code : 'error',
        );
        throw e;
      }
    },
    close() {
      socket?.s.destroy();
      failAll();
    },
  };
}
