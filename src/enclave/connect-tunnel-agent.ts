/**
 * An `https.Agent` that reaches every origin through an HTTP CONNECT proxy and starts TLS inside
 * the tunnel, checked against the origin's own host name. In a Nitro enclave this is how the AWS
 * SDK's KMS client gets out: the only route is the host's egress proxy (src/api/egress-proxy.ts)
 * over vsock, and TLS must end in here so the host relays ciphertext it can neither read nor forge.
 *
 * Written by hand because nothing installed fits: the AWS SDK's NodeHttpHandler takes a
 * node:https Agent, not an undici dispatcher (the exchanges' ccxt uses undici's ProxyAgent), and no
 * proxy-agent package is a dependency. It is small: one CONNECT request, its status line, then
 * `tls.connect` over that socket with the caller's TLS options (servername, CA, verification).
 */
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { CodedError } from '../common/errors.js';

export class TunnelError extends CodedError<
  'ERR_TUNNEL_REFUSED' | 'ERR_TUNNEL_PROTOCOL' | 'ERR_TUNNEL_TIMEOUT'
> {}

export interface ConnectTunnelAgentOptions extends https.AgentOptions {
  /** The proxy, `http://127.0.0.1:<port>` (the enclave end of the egress bridge). */
  proxy: string;
  /** How long to wait for the proxy's answer to CONNECT, ms (default 10 000). */
  connectTimeoutMs?: number;
}

/** The longest CONNECT answer read before giving up: a status line and a few headers. */
const MAX_ANSWER = 8 * 1024;

type Callback = (err: Error | null, socket?: Duplex) => void;

export class ConnectTunnelAgent extends https.Agent {
  private readonly proxyHost: string;
  private readonly proxyPort: number;
  private readonly connectTimeoutMs: number;

  constructor(opts: ConnectTunnelAgentOptions) {
    const { proxy, connectTimeoutMs, ...agent } = opts;
    super({ keepAlive: true, ...agent });
    const url = new URL(proxy);
    if (url.protocol !== 'http:' || !url.port)
      throw new TunnelError('ERR_TUNNEL_PROTOCOL', 'the proxy must be http://host:port');
    this.proxyHost = url.hostname;
    this.proxyPort = Number(url.port);
    this.connectTimeoutMs = connectTimeoutMs ?? 10_000;
  }

  /**
   * Node's Agent accepts the socket through the callback (returning nothing), which lets the
   * CONNECT exchange finish first. `options` are the request's TLS options (host, port,
   * servername, ca, rejectUnauthorized, ...), passed on to tls.connect unchanged.
   */
  override createConnection(options: tls.ConnectionOptions, callback: Callback): undefined {
    const host = options.host ?? 'localhost';
    const port = options.port ?? 443;
    const authority = net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
    const raw = net.connect({ host: this.proxyHost, port: this.proxyPort });
    let answer = Buffer.alloc(0);
    let done = false;
    const fail = (e: Error): void => {
      if (done) return;
      done = true;
      raw.destroy();
      callback(e);
    };
    raw.setTimeout(this.connectTimeoutMs, () =>
      fail(new TunnelError('ERR_TUNNEL_TIMEOUT', 'the egress proxy did not answer CONNECT')),
    );
    raw.once('error', fail);
    // A proxy that hangs up before answering (no error event) must not leave the request waiting.
    raw.once('close', () =>
      fail(new TunnelError('ERR_TUNNEL_PROTOCOL', 'the egress proxy closed before answering')),
    );
    raw.once('connect', () =>
      raw.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`),
    );
    const onData = (chunk: Buffer): void => {
      answer = Buffer.concat([answer, chunk]);
      const end = answer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (answer.length > MAX_ANSWER)
          fail(new TunnelError('ERR_TUNNEL_PROTOCOL', 'oversized CONNECT answer'));
        return;
      }
      raw.off('data', onData);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(answer.subarray(0, end).toString('latin1'));
      if (!status || status[1] !== '200')
        return fail(
          new TunnelError(
            'ERR_TUNNEL_REFUSED',
            `egress proxy refused ${authority} (${status ? status[1] : 'no status line'})`,
          ),
        );
      // The origin speaks only after our ClientHello: bytes here are the proxy's, never TLS.
      if (answer.length > end + 4)
        return fail(new TunnelError('ERR_TUNNEL_PROTOCOL', 'data after the CONNECT answer'));
      raw.setTimeout(0);
      raw.off('error', fail);
      done = true;
      const secure = tls.connect({
        ...options,
        socket: raw,
        // Certificate and SNI name the origin, never the proxy.
        servername: options.servername ?? (net.isIP(host) ? undefined : host),
      } as tls.ConnectionOptions);
      callback(null, secure);
    };
    raw.on('data', onData);
    return undefined;
  }
}
