/**
 * A byte pipe between two socket addresses, run by socat (docs/adr/0005-vsock-transport.md).
 * Node 20 cannot open AF_VSOCK sockets (`net.Socket({ fd })` refuses them with
 * ERR_INVALID_FD_TYPE), so in Nitro mode each side keeps speaking to a Unix socket and socat carries
 * the bytes over vsock:
 *
 *   host:    UNIX-LISTEN:<host sock>  ⇄  VSOCK-CONNECT:<enclave cid>:<port>
 *   enclave: VSOCK-LISTEN:<port>      ⇄  UNIX-CONNECT:<enclave sock>
 *
 * The RPC code above it is unchanged: it sees a stream socket, as in dev. socat only copies bytes;
 * the frames it carries are length-checked and validated at both ends as before.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CodedError } from '../common/errors.js';

export type BridgeEnd =
  | { kind: 'unix-listen'; path: string }
  | { kind: 'unix-connect'; path: string }
  | { kind: 'vsock-listen'; port: number }
  | { kind: 'vsock-connect'; cid: number; port: number }
  | { kind: 'tcp-listen'; host: string; port: number }
  | { kind: 'tcp-connect'; host: string; port: number };

export class BridgeError extends CodedError<'ERR_BRIDGE_ADDRESS' | 'ERR_BRIDGE_START'> {}

// socat splits addresses on ':' and ',' and treats '!!' specially: refuse anything beyond this set.
const SAFE_PATH = /^\/[A-Za-z0-9._/-]{1,106}$/;
const SAFE_HOST = /^[A-Za-z0-9.-]{1,253}$|^\[[0-9a-fA-F:]{2,39}\]$/;
const isPort = (n: number, max: number): boolean => Number.isInteger(n) && n >= 1 && n <= max;

function bad(what: string): never {
  throw new BridgeError('ERR_BRIDGE_ADDRESS', `invalid bridge address: ${what}`);
}

/**
 * The socat address for one end. Listening ends fork one child per connection, so a reconnecting
 * peer is served again; Unix listeners get mode 0600, like the enclave's own socket.
 *
 * @example
 * socatAddress({ kind: 'vsock-connect', cid: 16, port: 5005 }); // 'VSOCK-CONNECT:16:5005'
 */
export function socatAddress(end: BridgeEnd): string {
  switch (end.kind) {
    case 'unix-listen':
      if (!SAFE_PATH.test(end.path)) bad('unix path');
      return `UNIX-LISTEN:${end.path},fork,unlink-early,mode=600`;
    case 'unix-connect':
      if (!SAFE_PATH.test(end.path)) bad('unix path');
      return `UNIX-CONNECT:${end.path}`;
    case 'vsock-listen':
      // vsock ports are 32-bit; 0xFFFFFFFF is VMADDR_PORT_ANY
      if (!isPort(end.port, 0xfffffffe)) bad('vsock port');
      return `VSOCK-LISTEN:${end.port},fork,reuseaddr`;
    case 'vsock-connect':
      // CID 0 is the hypervisor, 0xFFFFFFFF VMADDR_CID_ANY
      if (!isPort(end.cid, 0xfffffffe) || !isPort(end.port, 0xfffffffe)) bad('vsock cid/port');
      return `VSOCK-CONNECT:${end.cid}:${end.port}`;
    case 'tcp-listen':
      if (!SAFE_HOST.test(end.host) || !isPort(end.port, 65535)) bad('tcp host/port');
      return `TCP-LISTEN:${end.port},bind=${end.host},fork,reuseaddr`;
    case 'tcp-connect':
      if (!SAFE_HOST.test(end.host) || !isPort(end.port, 65535)) bad('tcp host/port');
      return `TCP:${end.host}:${end.port}`;
    default:
      return bad('kind');
  }
}

export interface Bridge {
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export interface BridgeOptions {
  listen: BridgeEnd;
  connect: BridgeEnd;
  /** socat binary (default: `socat` on PATH). */
  socat?: string;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  /** Name in log lines, e.g. "rpc" or "egress". */
  name: string;
  /** How long to wait for the listener, ms (default 5000). */
  startTimeoutMs?: number;
}

/**
 * Starts socat and resolves once it is listening; restarts it (backoff up to 5 s) if it dies.
 *
 * @example
 * const b = await startBridge({ name: 'rpc', log,
 *   listen: { kind: 'unix-listen', path: '/run/pa/enclave.sock' },
 *   connect: { kind: 'vsock-connect', cid: 16, port: 5005 } });
 */
export function startBridge(o: BridgeOptions): Promise<Bridge> {
  const args = ['-d', '-d', socatAddress(o.listen), socatAddress(o.connect)];
  let child: ChildProcess | null = null;
  let stopping = false;
  let backoff = 100;
  let timer: NodeJS.Timeout | null = null;

  const launch = (onListening?: () => void, onFail?: (e: Error) => void): void => {
    const c = spawn(o.socat ?? 'socat', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    const startedAt = Date.now();
    createInterface({ input: c.stderr! }).on('line', (line) => {
      // socat -d -d: "... N listening on ...", then one notice per connection; E/W are problems.
      if (/ N listening on /.test(line)) onListening?.();
      // (unlink-early warns when there was no stale socket to remove: expected, not logged)
      else if (/ [EW] /.test(line) && !/ W unlink\(/.test(line))
        o.log.warn({ event: 'bridge_message', bridge: o.name, line: line.slice(0, 300) }, 'socat');
    });
    c.on('error', (e) => onFail?.(e));
    c.on('exit', (code, signal) => {
      child = null;
      if (!stopping) onFail?.(new Error(`socat exited (${code ?? signal}) before listening`));
      if (stopping) return; // also when that failure just stopped the bridge
      o.log.warn({ event: 'bridge_exit', bridge: o.name, code, signal }, 'bridge exited');
      backoff = Date.now() - startedAt > 10_000 ? 100 : Math.min(backoff * 2, 5000);
      timer = setTimeout(() => launch(), backoff);
    });
  };

  // socat outlives its parent otherwise, and would then hold the port a restarted process needs.
  const killOnExit = (): void => void child?.kill('SIGTERM');
  process.once('exit', killOnExit);

  return new Promise((resolve, reject) => {
    let settled = false;
    const deadline = setTimeout(
      () => fail(new Error('socat did not start listening in time')),
      o.startTimeoutMs ?? 5000,
    );
    const handle: Bridge = {
      get pid() {
        return child?.pid;
      },
      stop() {
        stopping = true;
        process.off('exit', killOnExit);
        if (timer) clearTimeout(timer);
        const c = child;
        if (!c) return Promise.resolve();
        return new Promise<void>((done) => {
          c.once('exit', () => done());
          c.kill('SIGTERM');
        });
      },
    };
    function fail(e: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      void handle.stop();
      reject(new BridgeError('ERR_BRIDGE_START', 'socket bridge did not start', { cause: e }));
    }
    launch(() => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      o.log.info({ event: 'bridge_listening', bridge: o.name }, 'bridge listening');
      resolve(handle);
    }, fail);
  });
}
