/**
 * Egress through the host's proxy (src/api/egress-proxy.ts), with real processes: the enclave
 * (dist/enclave/main.js) reaches a TLS exchange endpoint (the Binance simulator behind a TLS
 * terminator whose certificate comes from a CA made here, trusted by the enclave through
 * NODE_EXTRA_CA_CERTS, Node's standard setting), and the host (dist/api/main.js) runs the proxy from
 * its own EGRESS_ALLOW_HOSTS. A recording tap between proxy and exchange sees exactly what the proxy
 * relays. Shown: (a) a host that is not allow-listed is refused and never contacted; (b) an allowed
 * one works end to end; (c) the relayed bytes are TLS and never contain the API key or secret,
 * while the exchange side (control) does see the key in plaintext.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { CryptoHelper } from '../../src/client/crypto-helper.js';
import { nodePlatform } from '../../src/platform/node.js';
import { startEnclaveProcess, type EnclaveProcess } from '../helpers/enclave-process.js';
import { freePort, startProcess, startSimProcess, type Proc } from '../helpers/processes.js';
import { makeTestPki } from '../helpers/test-pki.js';

const CANARY_KEY = `canary-key-${randomBytes(12).toString('hex')}`;
const CANARY_SECRET = `canary-secret-${randomBytes(12).toString('hex')}`;
const listen = (s: net.Server): Promise<number> =>
  new Promise((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as net.AddressInfo).port)));

/** Sends a raw CONNECT and returns the proxy's status line. */
function rawConnect(proxyPort: number, target: string): Promise<string> {
  return new Promise((ok, fail) => {
    const s = net.connect(proxyPort, '127.0.0.1', () =>
      s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`),
    );
    let got = '';
    s.on('data', (b) => {
      got += b.toString('latin1');
      if (got.includes('\r\n')) {
        s.destroy();
        ok(got.split('\r\n')[0]!);
      }
    });
    s.on('error', fail);
  });
}

describe(
  'egress: the enclave reaches exchanges only through the host proxy, over TLS',
  { timeout: 180_000 },
  () => {
    let sim: Proc & { url: string };
    let enclave: EnclaveProcess;
    let host: Proc;
    let exchange: tls.Server;
    let evil: tls.Server;
    let tap: net.Server;
    let tapPort: number;
    let evilPort: number;
    let proxyPort: number;
    let base: string;
    let evilConnections = 0;
    let tapConnections = 0;
    const relayed: Buffer[] = [];
    const exchangePlaintext: Buffer[] = [];

    before(async () => {
      const pki = await makeTestPki();
      const dir = mkdtempSync(join(tmpdir(), 'pa-egress-'));
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, pki.caPem);

      sim = await startSimProcess();
      const reg = await fetch(`${sim.url}/__sim/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ apiKey: CANARY_KEY, apiSecret: CANARY_SECRET, fills: 30, uid: 778 }),
      });
      assert.equal(reg.status, 201);
      const simPort = Number(new URL(sim.url).port);

      // The exchange: TLS terminated here, then the simulator. It sees requests in plaintext.
      exchange = tls.createServer({ key: pki.keyPem, cert: pki.certPem }, (s) => {
        const up = net.connect(simPort, '127.0.0.1');
        s.on('data', (b: Buffer) => exchangePlaintext.push(Buffer.from(b)));
        s.pipe(up).pipe(s);
        s.on('error', () => up.destroy());
        up.on('error', () => s.destroy());
      });
      const exchangePort = await listen(exchange);
      // What the proxy relays towards the exchange and back, byte for byte.
      tap = net.createServer((down) => {
        tapConnections++;
        const up = net.connect(exchangePort, '127.0.0.1');
        down.on('data', (b: Buffer) => relayed.push(Buffer.from(b)));
        up.on('data', (b: Buffer) => relayed.push(Buffer.from(b)));
        down.pipe(up).pipe(down);
        down.on('error', () => up.destroy());
        up.on('error', () => down.destroy());
      });
      tapPort = await listen(tap);
      evil = tls.createServer({ key: pki.keyPem, cert: pki.certPem }, (s) => {
        evilConnections++;
        s.destroy();
      });
      evil.on('connection', () => evilConnections++);
      evilPort = await listen(evil);

      proxyPort = await freePort();
      const sockDir = mkdtempSync(join(tmpdir(), 'pa-egress-sock-'));
      enclave = await startEnclaveProcess({
        dataDir: join(dir, 'data'),
        socketPath: join(sockDir, 'enclave.sock'),
        env: {
          EXCHANGE_BASE_URL_BINANCE: `https://localhost:${tapPort}`,
          EGRESS_PROXY_URL: `http://127.0.0.1:${proxyPort}`,
          NODE_EXTRA_CA_CERTS: caFile,
        },
      });
      const apiPort = await freePort();
      host = await startProcess(
        ['dist/api/main.js'],
        {
          DATA_DIR: join(dir, 'data'),
          ENCLAVE_SPAWN: 'false',
          ENCLAVE_SOCKET: enclave.socketPath,
          ENCLAVE_PORT: String(apiPort),
          EGRESS_ALLOW_HOSTS: `localhost:${tapPort}`,
          EGRESS_PROXY_PORT: String(proxyPort),
          LOG_LEVEL: 'debug',
        },
        /Server listening at/,
      );
      base = `http://127.0.0.1:${apiPort}`;
    });

    after(async () => {
      await host?.stop();
      await enclave?.stop();
      await sim?.stop();
      for (const s of [exchange, evil, tap]) s?.close();
    });

    it('(a) refuses a host that is not on the allow-list, and never contacts it', async () => {
      assert.equal(await rawConnect(proxyPort, `localhost:${evilPort}`), 'HTTP/1.1 403 Forbidden');
      assert.equal(await rawConnect(proxyPort, `127.0.0.1:${tapPort}`), 'HTTP/1.1 403 Forbidden');
      assert.equal(await rawConnect(proxyPort, 'api.binance.com:443'), 'HTTP/1.1 403 Forbidden');
      assert.equal(evilConnections, 0);
      assert.ok(host.lines.some((l) => l.includes('"event":"egress_denied"')));
      const plain = await fetch(`http://127.0.0.1:${proxyPort}/`);
      assert.equal(plain.status, 405, 'plain HTTP through the proxy is refused');
    });

    it('(a) an allowed tunnel that does not start with TLS is closed; the exchange is never contacted', async () => {
      const before = relayed.length;
      const connectionsBefore = tapConnections;
      await new Promise<void>((ok, fail) => {
        const s = net.connect(proxyPort, '127.0.0.1', () =>
          s.write(`CONNECT localhost:${tapPort} HTTP/1.1\r\nHost: x\r\n\r\n`),
        );
        let sent = false;
        s.on('data', (b) => {
          if (!sent && b.toString('latin1').startsWith('HTTP/1.1 200')) {
            sent = true;
            s.write(`GET / HTTP/1.1\r\nX-MBX-APIKEY: ${CANARY_KEY}\r\n\r\n`);
          }
        });
        s.on('close', () => (sent ? ok() : fail(new Error('tunnel was not opened'))));
        s.on('error', () => undefined);
      });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(Buffer.concat(relayed.slice(before)).length, 0);
      assert.equal(tapConnections, connectionsBefore);
      assert.ok(host.lines.some((l) => l.includes('"event":"egress_not_tls"')));
    });

    it('(b) an allowed exchange works end to end, and (c) the proxy relays only TLS, never the key or secret', async () => {
      const api = CryptoHelper.connect(base);
      const nonce = randomBytes(32).toString('base64');
      const attestation = await api.quote(nonce);
      const sealed = CryptoHelper.encryptCredentials(
        { exchange: 'binance', apiKey: CANARY_KEY, apiSecret: CANARY_SECRET },
        attestation.enclave_pubkey,
        nodePlatform,
      );
      const { session_id } = await api.submitKey(sealed, {
        exchange: 'binance',
        label: 'egress',
        ttl: 600,
      });
      const result = await api.requestAggregates(session_id);
      const truth = (await (
        await fetch(`${sim.url}/__sim/truth?apiKey=${CANARY_KEY}`)
      ).json()) as unknown[];
      assert.ok(truth.length > 0);
      assert.equal(result.aggregates_signed.payload['trades'], truth.length);

      // Control: the exchange received the key in a request header, in plaintext, after TLS.
      const plaintext = Buffer.concat(exchangePlaintext).toString('latin1');
      assert.ok(plaintext.toLowerCase().includes(`x-mbx-apikey: ${CANARY_KEY}`.toLowerCase()));
      // What the proxy relayed: TLS records only, with neither canary in them.
      const wire = Buffer.concat(relayed);
      assert.ok(wire.length > 4096, 'control: the tap saw the traffic');
      assert.equal(wire[0], 0x16, 'the first relayed byte opens a TLS handshake record');
      for (const canary of [CANARY_KEY, CANARY_SECRET]) {
        assert.equal(wire.includes(Buffer.from(canary, 'latin1')), false);
        assert.equal(wire.includes(Buffer.from(canary, 'utf16le')), false);
      }
      assert.equal(plaintext.includes('/api/v3/myTrades'), true, 'control: trades were fetched');
      assert.equal(
        wire.includes(Buffer.from('/api/v3/myTrades')),
        false,
        'paths are encrypted too',
      );
      // Every connection that reached the exchange came through a proxy tunnel (none direct).
      const tunnels = host.lines.filter((l) => l.includes('"event":"egress_tunnel"')).length;
      assert.ok(tunnels > 0);
      assert.equal(tapConnections, tunnels);
      assert.ok(!host.lines.join('\n').includes(CANARY_KEY), 'canary in host logs');
    });
  },
);
