/**
 * ConnectTunnelAgent against the real egress proxy (src/api/egress-proxy.ts) and a local TLS
 * origin with a test CA: requests arrive through CONNECT, the certificate is checked against the
 * origin's name (not the proxy's), and a refusal by the proxy surfaces as a coded error.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startEgressProxy, type EgressProxy } from '../../../src/api/egress-proxy.js';
import { ConnectTunnelAgent } from '../../../src/enclave/connect-tunnel-agent.js';
import { makeTestPki, type TestPki } from '../../helpers/test-pki.js';

function get(
  url: string,
  agent: https.Agent,
  ca: string,
): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = https.get(url, { agent, ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode!, body }));
    });
    req.on('error', fail);
  });
}

describe('ConnectTunnelAgent', () => {
  let pki: TestPki;
  let origin: https.Server;
  let originPort: number;
  let proxy: EgressProxy;
  const proxyLog: { event?: string; target?: string }[] = [];
  const seen: { host?: string; servername?: string }[] = [];

  before(async () => {
    pki = await makeTestPki(['localhost']);
    origin = https.createServer({ key: pki.keyPem, cert: pki.certPem }, (req, res) => {
      seen.push({
        host: req.headers.host,
        servername: (req.socket as import('node:tls').TLSSocket).servername || undefined,
      });
      res.end('origin says hi');
    });
    await new Promise<void>((ok) => origin.listen(0, '127.0.0.1', ok));
    originPort = (origin.address() as AddressInfo).port;
    const log = {
      info: (o: object) => void proxyLog.push(o),
      warn: (o: object) => void proxyLog.push(o),
    };
    proxy = await startEgressProxy({
      // 127.0.0.1 is allowed too, so the name check below is TLS's refusal, not the proxy's.
      allow: [`localhost:${originPort}`, `127.0.0.1:${originPort}`],
      host: '127.0.0.1',
      port: 0,
      log,
    });
  });

  after(async () => {
    await proxy.close();
    origin.close();
  });

  it('tunnels through CONNECT and verifies the origin by its own name (SNI too)', async () => {
    const agent = new ConnectTunnelAgent({ proxy: `http://127.0.0.1:${proxy.port}` });
    const r = await get(`https://localhost:${originPort}/x`, agent, pki.caPem);
    assert.deepEqual(r, { status: 200, body: 'origin says hi' });
    assert.deepEqual(seen.at(-1), { host: `localhost:${originPort}`, servername: 'localhost' });
    assert.ok(
      proxyLog.some((l) => l.event === 'egress_tunnel' && l.target === `localhost:${originPort}`),
    );
    agent.destroy();
  });

  it('refuses an origin whose certificate does not name it, though the proxy let it through', async () => {
    const agent = new ConnectTunnelAgent({ proxy: `http://127.0.0.1:${proxy.port}` });
    await assert.rejects(get(`https://127.0.0.1:${originPort}/`, agent, pki.caPem), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    agent.destroy();
  });

  it('refuses an origin signed by a CA the caller does not trust', async () => {
    const other = await makeTestPki(['localhost']);
    const agent = new ConnectTunnelAgent({ proxy: `http://127.0.0.1:${proxy.port}` });
    await assert.rejects(get(`https://localhost:${originPort}/`, agent, other.caPem), {
      // same issuer name, other key: the chain's signature does not verify
      code: 'CERT_SIGNATURE_FAILURE',
    });
    agent.destroy();
  });

  it('surfaces the proxy refusing a target that is not allow-listed as ERR_TUNNEL_REFUSED', async () => {
    const agent = new ConnectTunnelAgent({ proxy: `http://127.0.0.1:${proxy.port}` });
    await assert.rejects(get('https://localhost:1/', agent, pki.caPem), {
      code: 'ERR_TUNNEL_REFUSED',
      message: /\(403\)/,
    });
    assert.ok(proxyLog.some((l) => l.event === 'egress_denied' && l.target === 'localhost:1'));
    agent.destroy();
  });

  it('fails, instead of hanging, when the proxy hangs up before answering CONNECT', async () => {
    const mute = net.createServer((s) => s.once('data', () => s.destroy()));
    await new Promise<void>((ok) => mute.listen(0, '127.0.0.1', ok));
    const agent = new ConnectTunnelAgent({
      proxy: `http://127.0.0.1:${(mute.address() as AddressInfo).port}`,
    });
    await assert.rejects(get(`https://localhost:${originPort}/`, agent, pki.caPem), {
      code: 'ERR_TUNNEL_PROTOCOL',
    });
    agent.destroy();
    mute.close();
  });

  it('refuses a proxy URL that is not http://host:port', () => {
    assert.throws(() => new ConnectTunnelAgent({ proxy: 'https://127.0.0.1:3128' }), {
      code: 'ERR_TUNNEL_PROTOCOL',
    });
  });
});
