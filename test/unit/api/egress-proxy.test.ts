/** The egress proxy against a recording upstream: what it relays, and when it refuses. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startEgressProxy, type EgressProxy } from '../../../src/api/egress-proxy.js';

const HELLO = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]); // a TLS record head + body

function listen(s: net.Server): Promise<number> {
  return new Promise((ok) =>
    s.listen(0, '127.0.0.1', () => ok((s.address() as net.AddressInfo).port)),
  );
}

/** Opens a tunnel and returns the socket once the proxy answered, with the status line. */
function tunnel(proxyPort: number, target: string): Promise<{ s: net.Socket; status: string }> {
  return new Promise((ok, fail) => {
    const s = net.connect(proxyPort, '127.0.0.1', () =>
      s.write(`CONNECT ${target} HTTP/1.1\r\n\r\n`),
    );
    s.once('data', (b) => ok({ s, status: b.toString('latin1').split('\r\n')[0]! }));
    s.on('error', fail);
  });
}

const closed = (s: net.Socket): Promise<void> =>
  new Promise((ok) => (s.destroyed ? ok() : s.once('close', () => ok())));

describe('startEgressProxy', () => {
  const events: string[] = [];
  const log = {
    info: (o: object) => void events.push((o as { event: string }).event),
    warn: (o: object) => void events.push((o as { event: string }).event),
  };
  let upstream: net.Server;
  let upstreamPort: number;
  let proxy: EgressProxy;
  let connections = 0;
  let received = Buffer.alloc(0);

  before(async () => {
    upstream = net.createServer((s) => {
      connections++;
      s.on('data', (b: Buffer) => {
        received = Buffer.concat([received, b]);
        s.write(Buffer.from([0x16, 0x03, 0x03, 0xaa])); // answers like a server hello would
      });
    });
    upstreamPort = await listen(upstream);
    proxy = await startEgressProxy({
      allow: [`localhost:${upstreamPort}`],
      host: '127.0.0.1',
      port: 0,
      log,
      maxTunnels: 1,
    });
  });
  after(async () => {
    await proxy.close();
    upstream.close();
  });

  it('relays a TLS stream byte for byte, in both directions', async () => {
    const { s, status } = await tunnel(proxy.port, `LOCALHOST:${upstreamPort}`);
    assert.equal(status, 'HTTP/1.1 200 Connection Established');
    const back = new Promise<Buffer>((ok) => s.once('data', ok));
    s.write(HELLO);
    assert.deepEqual([...(await back)], [0x16, 0x03, 0x03, 0xaa]);
    assert.deepEqual(received, HELLO);
    assert.equal(connections, 1);

    // maxTunnels = 1: a second tunnel while this one is open is refused
    const second = await tunnel(proxy.port, `localhost:${upstreamPort}`);
    assert.equal(second.status, 'HTTP/1.1 503 Service Unavailable');
    s.destroy();
    await closed(s);
  });

  it('closes a tunnel whose first bytes are not TLS without contacting the upstream', async () => {
    await new Promise((r) => setTimeout(r, 50));
    const before = connections;
    const { s, status } = await tunnel(proxy.port, `localhost:${upstreamPort}`);
    assert.equal(status, 'HTTP/1.1 200 Connection Established');
    s.write('GET / HTTP/1.1\r\n\r\n');
    await closed(s);
    assert.equal(connections, before);
    assert.ok(events.includes('egress_not_tls'));
  });

  it('refuses targets off the list (403) and plain HTTP requests (405)', async () => {
    for (const target of [
      `127.0.0.1:${upstreamPort}`,
      `localhost:${upstreamPort + 1}`,
      'nonsense',
    ]) {
      const { s, status } = await tunnel(proxy.port, target);
      assert.equal(status, 'HTTP/1.1 403 Forbidden', target);
      s.destroy();
    }
    const res = await fetch(`http://127.0.0.1:${proxy.port}/`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'CONNECT');
  });

  it('closes the tunnel when an allowed upstream is unreachable', async () => {
    const dead = net.createServer();
    const deadPort = await listen(dead);
    await new Promise<void>((r) => dead.close(() => r()));
    const p = await startEgressProxy({
      allow: [`localhost:${deadPort}`],
      host: '127.0.0.1',
      port: 0,
      log,
    });
    try {
      const { s } = await tunnel(p.port, `localhost:${deadPort}`);
      s.write(HELLO);
      await closed(s);
      assert.ok(events.includes('egress_unreachable'));
    } finally {
      await p.close();
    }
  });
});
