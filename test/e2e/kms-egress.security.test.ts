/**
 * KMS through the egress path, as in a Nitro enclave where vsock is the only way out: the real
 * enclave process (dist/enclave/main.js) with EGRESS_PROXY_URL and an https KMS_ENDPOINT reaches
 * its key service only through the host's real CONNECT proxy (src/api/egress-proxy.ts), and TLS
 * ends inside the enclave. The "KMS" is the real local key service (dist/keyservice/main.js, the
 * KMS JSON API with SigV4 and the Recipient/PCR0 policy) behind a TLS terminator whose certificate
 * comes from a CA made here and trusted by the enclave through NODE_EXTRA_CA_CERTS. A recording tap
 * between proxy and terminator sees exactly what the proxy relays. Shown: GenerateDataKey and, in a
 * second enclave, Decrypt go through the tunnel; the relayed bytes are TLS and carry no SigV4
 * header, no access key id and no KMS operation name, while the KMS side (control) sees them all;
 * a KMS host that is not on the allow-list is refused and never contacted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createEnclaveClient } from '../../src/api/enclave-client.js';
import { startEgressProxy, type EgressProxy } from '../../src/api/egress-proxy.js';
import {
  startEnclaveProcess,
  startKeyServiceProcess,
  type EnclaveProcess,
  type KeyServiceProcess,
} from '../helpers/enclave-process.js';
import { makeTestPki } from '../helpers/test-pki.js';

const listen = (s: net.Server): Promise<number> =>
  new Promise((ok) => s.listen(0, '127.0.0.1', () => ok((s.address() as net.AddressInfo).port)));

const contains = (chunks: Buffer[], needle: string): boolean =>
  Buffer.concat(chunks).includes(Buffer.from(needle, 'latin1'));

describe(
  'KMS from the enclave goes through the egress proxy, TLS end to end',
  { timeout: 120_000 },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'pa-kms-egress-'));
    const dataDir = join(dir, 'data');
    let keyService: KeyServiceProcess;
    let kmsFront: tls.Server;
    let tap: net.Server;
    let evil: tls.Server;
    let proxy: EgressProxy;
    let tapPort: number;
    let evilPort: number;
    let caFile: string;
    let evilConnections = 0;
    const enclaves: EnclaveProcess[] = [];
    const relayed: Buffer[] = [];
    const kmsPlaintext: Buffer[] = [];
    const proxyLog: { event?: string; target?: string }[] = [];
    let sealed = '';

    const startEnclave = (endpoint: string, name: string): Promise<EnclaveProcess> =>
      startEnclaveProcess({
        dataDir,
        keyService,
        socketPath: join(mkdtempSync(join(tmpdir(), 'pa-kms-sock-')), `${name}.sock`),
        env: {
          KMS_ENDPOINT: endpoint,
          EGRESS_PROXY_URL: `http://127.0.0.1:${proxy.port}`,
          NODE_EXTRA_CA_CERTS: caFile,
        },
      }).then((e) => (enclaves.push(e), e));

    before(async () => {
      const pki = await makeTestPki(['localhost']);
      caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, pki.caPem);
      keyService = await startKeyServiceProcess({ dataDir });
      const ksPort = Number(new URL(keyService.url).port);

      // "KMS": TLS terminated here, then the key service. Requests and answers are plaintext here.
      kmsFront = tls.createServer({ key: pki.keyPem, cert: pki.certPem }, (s) => {
        const up = net.connect(ksPort, '127.0.0.1');
        s.on('data', (b: Buffer) => kmsPlaintext.push(Buffer.from(b)));
        up.on('data', (b: Buffer) => kmsPlaintext.push(Buffer.from(b)));
        s.pipe(up).pipe(s);
        s.on('error', () => up.destroy());
        up.on('error', () => s.destroy());
      });
      const frontPort = await listen(kmsFront);
      tap = net.createServer((down) => {
        const up = net.connect(frontPort, '127.0.0.1');
        down.on('data', (b: Buffer) => relayed.push(Buffer.from(b)));
        up.on('data', (b: Buffer) => relayed.push(Buffer.from(b)));
        down.pipe(up).pipe(down);
        down.on('error', () => up.destroy());
        up.on('error', () => down.destroy());
      });
      tapPort = await listen(tap);
      evil = tls.createServer({ key: pki.keyPem, cert: pki.certPem }, (s) => s.destroy());
      evil.on('connection', () => evilConnections++);
      evilPort = await listen(evil);

      proxy = await startEgressProxy({
        allow: [`localhost:${tapPort}`],
        host: '127.0.0.1',
        port: 0,
        log: {
          info: (o: object) => void proxyLog.push(o),
          warn: (o: object) => void proxyLog.push(o),
        },
      });
    });

    after(async () => {
      for (const e of enclaves) await e.stop();
      await keyService?.stop();
      await proxy?.close();
      for (const s of [kmsFront, tap, evil]) s?.close();
    });

    it('GenerateDataKey (first enclave) and Decrypt (second enclave) travel through the tunnel', async () => {
      const first = await startEnclave(`https://localhost:${tapPort}`, 'first');
      const c1 = createEnclaveClient({ socketPath: first.socketPath, defaultTimeoutMs: 20_000 });
      const r1 = await c1.call('init', {
        sealed_ring: null,
        kms_credentials: keyService.credentials,
      });
      c1.close();
      assert.equal(r1.changed, true);
      sealed = r1.sealed_ring;
      const afterFirst = relayed.length;
      assert.ok(afterFirst > 0, 'the proxy relayed the GenerateDataKey exchange');

      // A fresh process has no data key in memory: opening the stored ring needs KMS Decrypt.
      const second = await startEnclave(`https://localhost:${tapPort}`, 'second');
      const c2 = createEnclaveClient({ socketPath: second.socketPath, defaultTimeoutMs: 20_000 });
      const r2 = await c2.call('init', {
        sealed_ring: sealed,
        kms_credentials: keyService.credentials,
      });
      c2.close();
      assert.equal(r2.key_id, r1.key_id, 'the second enclave opened the same ring');
      assert.ok(relayed.length > afterFirst, 'the proxy relayed the Decrypt exchange');
      // one tunnel per enclave process at least (a direct connection would log none)
      assert.ok(
        proxyLog.filter((l) => l.event === 'egress_tunnel' && l.target === `localhost:${tapPort}`)
          .length >= 2,
      );
      // control: the KMS side saw both operations, signed
      assert.ok(contains(kmsPlaintext, 'TrentService.GenerateDataKey'));
      assert.ok(contains(kmsPlaintext, 'TrentService.Decrypt'));
    });

    it('the proxy relays only TLS: no SigV4 header, access key id or operation name', () => {
      assert.ok(relayed.length > 0);
      assert.equal(relayed[0]![0], 0x16, 'the first relayed byte opens a TLS handshake record');
      assert.equal(relayed[0]![1], 0x03);
      for (const needle of [
        'AWS4-HMAC-SHA256',
        keyService.credentials.access_key_id,
        'TrentService',
        'CiphertextForRecipient',
        'Recipient',
      ]) {
        assert.ok(contains(kmsPlaintext, needle), `control: KMS sees ${needle}`);
        assert.ok(!contains(relayed, needle), `the proxy never sees ${needle}`);
      }
    });

    it('refuses a KMS host that is not on the allow-list, and never contacts it', async () => {
      const before = proxyLog.length;
      const third = await startEnclave(`https://localhost:${evilPort}`, 'third');
      const c3 = createEnclaveClient({ socketPath: third.socketPath, defaultTimeoutMs: 60_000 });
      await assert.rejects(
        c3.call('init', { sealed_ring: sealed, kms_credentials: keyService.credentials }),
        (e: { code?: string }) => e.code === 'KEY_SERVICE_UNAVAILABLE',
      );
      c3.close();
      assert.ok(
        proxyLog
          .slice(before)
          .some((l) => l.event === 'egress_denied' && l.target === `localhost:${evilPort}`),
      );
      assert.equal(evilConnections, 0);
    });
  },
);
