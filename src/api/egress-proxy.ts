/**
 * The enclave's only way out (the equivalent of AWS's vsock-proxy): an HTTP CONNECT proxy on the
 * host that opens a tunnel only to `host:port` pairs on the host's own allow-list
 * (EGRESS_ALLOW_HOSTS), and only carries TLS. The enclave starts TLS to the exchange inside the
 * tunnel, so the host relays ciphertext: it can refuse or delay traffic but not read or alter it.
 *
 * Enforced here: CONNECT only (any other method is 405); the target must be an exact allow-list
 * entry (names compared lowercased, no wildcard, no IP unless listed); the first bytes the client
 * sends through the tunnel must be a TLS handshake record, otherwise the tunnel is closed and the
 * exchange is never contacted; bounded tunnels, connect and idle timeouts. Logs name the target
 * and the outcome, never the relayed bytes.
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';

export interface EgressProxyOptions {
  /** Lowercase `host:port` entries. */
  allow: readonly string[];
  host: string;
  /** 0 picks a free port. */
  port: number;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  maxTunnels?: number;
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
}

export interface EgressProxy {
  readonly port: number;
  close(): Promise<void>;
}

const AUTHORITY =
  /^(?:([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)|\[([0-9a-f:.]{2,45})\]):([1-9][0-9]{0,4})$/;
const TLS_HANDSHAKE = 0x16;
const TLS_MAJOR = 0x03;

function reply(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

/**
 * Parses a CONNECT target into a canonical `host:port` key and its parts, or null.
 *
 * @example
 * parseConnectTarget('API.Binance.com:443'); // { key: 'api.binance.com:443', host: 'api.binance.com', port: 443 }
 */
export function parseConnectTarget(
  target: string | undefined,
): { key: string; host: string; port: number } | null {
  const m = AUTHORITY.exec((target ?? '').toLowerCase());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  const host = m[1] ?? m[2]!;
  return { key: m[1] ? `${host}:${port}` : `[${host}]:${port}`, host, port };
}

/**
 * Starts the proxy; resolves when it listens.
 *
 * @example
 * const p = await startEgressProxy({ allow: ['api.binance.com:443'], host: '127.0.0.1', port: 3128, log });
 */
export function startEgressProxy(o: EgressProxyOptions): Promise<EgressProxy> {
  const allow = new Set(o.allow.map((a) => a.toLowerCase()));
  const maxTunnels = o.maxTunnels ?? 256;
  const connectTimeout = o.connectTimeoutMs ?? 10_000;
  const idleTimeout = o.idleTimeoutMs ?? 120_000;
  const open = new Set<Duplex>();

  const server = http.createServer((_req, res) => {
    // Plain HTTP through the proxy would put request bytes (headers, keys) in the host's hands.
    res.writeHead(405, { Allow: 'CONNECT', Connection: 'close' }).end();
  });

  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    const target = parseConnectTarget(req.url);
    client.on('error', () => client.destroy());
    if (!target || !allow.has(target.key)) {
      o.log.warn({ event: 'egress_denied', target: target?.key ?? 'unparseable' }, 'egress denied');
      return reply(client, '403 Forbidden');
    }
    if (open.size >= maxTunnels) {
      o.log.warn({ event: 'egress_busy', target: target.key }, 'egress tunnel limit reached');
      return reply(client, '503 Service Unavailable');
    }
    open.add(client);
    client.on('close', () => open.delete(client));
    // Answer first and look at what the client sends: only a TLS ClientHello opens a connection to
    // the exchange, so a plaintext request never reaches it (and a failed connect just closes).
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const firstBytesTimer = setTimeout(() => client.destroy(), connectTimeout);
    let first: Buffer = head ?? Buffer.alloc(0);
    const relay = (): void => {
      clearTimeout(firstBytesTimer);
      // A TLS record: content type 22 (handshake), protocol major version 3.
      if (first[0] !== TLS_HANDSHAKE || first[1] !== TLS_MAJOR) {
        o.log.warn({ event: 'egress_not_tls', target: target.key }, 'egress refused: not TLS');
        client.destroy();
        return;
      }
      const upstream = net.connect({ host: target.host, port: target.port });
      upstream.setTimeout(connectTimeout, () => upstream.destroy());
      upstream.on('error', () => {
        o.log.warn({ event: 'egress_unreachable', target: target.key }, 'egress target failed');
        client.destroy();
      });
      upstream.once('connect', () => {
        upstream.setTimeout(idleTimeout, () => upstream.destroy());
        o.log.info({ event: 'egress_tunnel', target: target.key }, 'egress tunnel open');
        upstream.write(first);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    };
    if (first.length >= 2) return relay();
    const onData = (chunk: Buffer): void => {
      first = Buffer.concat([first, chunk]);
      if (first.length < 2) return;
      client.off('data', onData);
      client.pause();
      relay();
    };
    client.on('data', onData);
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      const { port } = server.address() as net.AddressInfo;
      o.log.info({ event: 'egress_proxy_listening', port, allow: [...allow] }, 'egress proxy up');
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of open) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
