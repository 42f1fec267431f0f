import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { loadApiConfig } from '../../../src/api/config.js';
import { loadEnclaveConfig } from '../../../src/enclave/config.js';
import { ConfigError } from '../../../src/runtime/config.js';
import {
  BridgeError,
  socatAddress,
  startBridge,
  type BridgeEnd,
} from '../../../src/runtime/socat-bridge.js';

describe('socatAddress', () => {
  it('builds the Nitro pair: host UNIX-LISTEN → VSOCK-CONNECT, enclave VSOCK-LISTEN → UNIX-CONNECT', () => {
    assert.equal(
      socatAddress({ kind: 'unix-listen', path: '/run/pa/enclave.sock' }),
      'UNIX-LISTEN:/run/pa/enclave.sock,fork,unlink-early,mode=600',
    );
    assert.equal(
      socatAddress({ kind: 'vsock-connect', cid: 16, port: 5005 }),
      'VSOCK-CONNECT:16:5005',
    );
    assert.equal(
      socatAddress({ kind: 'vsock-listen', port: 5005 }),
      'VSOCK-LISTEN:5005,fork,reuseaddr',
    );
    assert.equal(
      socatAddress({ kind: 'unix-connect', path: '/tmp/e.sock' }),
      'UNIX-CONNECT:/tmp/e.sock',
    );
    assert.equal(
      socatAddress({ kind: 'tcp-listen', host: '127.0.0.1', port: 3128 }),
      'TCP-LISTEN:3128,bind=127.0.0.1,fork,reuseaddr',
    );
    assert.equal(
      socatAddress({ kind: 'tcp-connect', host: '127.0.0.1', port: 1 }),
      'TCP:127.0.0.1:1',
    );
  });

  const bad: [string, BridgeEnd][] = [
    ['a relative path', { kind: 'unix-listen', path: 'e.sock' }],
    ['a path with socat option syntax', { kind: 'unix-connect', path: '/tmp/e.sock,fork' }],
    ['a path with a colon', { kind: 'unix-connect', path: '/tmp/a:b' }],
    ['a path too long for sun_path', { kind: 'unix-listen', path: `/${'a'.repeat(107)}` }],
    ['CID 0 (the hypervisor)', { kind: 'vsock-connect', cid: 0, port: 1 }],
    ['VMADDR_CID_ANY', { kind: 'vsock-connect', cid: 0xffffffff, port: 1 }],
    ['port 0', { kind: 'vsock-listen', port: 0 }],
    ['a fractional port', { kind: 'tcp-connect', host: 'h', port: 1.5 }],
    ['a TCP port over 65535', { kind: 'tcp-listen', host: '127.0.0.1', port: 65536 }],
    ['a host with option syntax', { kind: 'tcp-connect', host: 'h,fork', port: 1 }],
  ];
  for (const [what, end] of bad) {
    it(`refuses ${what} with ERR_BRIDGE_ADDRESS`, () => {
      assert.throws(
        () => socatAddress(end),
        (e: unknown) => e instanceof BridgeError && e.code === 'ERR_BRIDGE_ADDRESS',
      );
    });
  }
});

describe('startBridge', () => {
  const log = { info: () => undefined, warn: () => undefined };
  it('rejects ERR_BRIDGE_START when socat cannot be started', async () => {
    await assert.rejects(
      startBridge({
        name: 't',
        log,
        socat: '/nonexistent/socat',
        listen: { kind: 'tcp-listen', host: '127.0.0.1', port: 1 },
        connect: { kind: 'tcp-connect', host: '127.0.0.1', port: 2 },
      }),
      (e: unknown) => e instanceof BridgeError && e.code === 'ERR_BRIDGE_START',
    );
  });

  it('rejects ERR_BRIDGE_START when socat cannot listen (the port is taken)', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as { port: number };
    try {
      await assert.rejects(
        startBridge({
          name: 't',
          log,
          listen: { kind: 'tcp-listen', host: '127.0.0.1', port },
          connect: { kind: 'tcp-connect', host: '127.0.0.1', port: 2 },
        }),
        (e: unknown) => e instanceof BridgeError && e.code === 'ERR_BRIDGE_START',
      );
    } finally {
      taken.close();
    }
  });
});

describe('transport config', () => {
  it('host: vsock CID and port together, and only with ENCLAVE_SPAWN=false', () => {
    const c = loadApiConfig({
      TEE_MODE: 'nitro',
      ENCLAVE_VSOCK_CID: '16',
      ENCLAVE_VSOCK_PORT: '5005',
      ENCLAVE_SPAWN: 'false',
    });
    assert.equal(c.ENCLAVE_VSOCK_CID, 16);
    assert.equal(c.ENCLAVE_VSOCK_PORT, 5005);
    const names = (env: Record<string, string>): string[] => {
      try {
        loadApiConfig(env);
        return [];
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return e.variables;
      }
    };
    assert.deepEqual(names({ ENCLAVE_VSOCK_CID: '16', ENCLAVE_SPAWN: 'false' }), [
      'ENCLAVE_VSOCK_CID',
      'ENCLAVE_VSOCK_PORT',
    ]);
    assert.deepEqual(names({ ENCLAVE_VSOCK_CID: '16', ENCLAVE_VSOCK_PORT: '5005' }), [
      'ENCLAVE_SPAWN',
    ]);
    assert.deepEqual(
      names({ ENCLAVE_VSOCK_CID: '0', ENCLAVE_VSOCK_PORT: '5005', ENCLAVE_SPAWN: 'false' }),
      ['ENCLAVE_VSOCK_CID'],
    );
    assert.deepEqual(names({ TEE_MODE: 'sgx' }), ['TEE_MODE']);
    assert.deepEqual(names({ TEE_MODE: 'nitro' }), ['ENCLAVE_SPAWN'], 'nitro-cli runs the enclave');
    assert.deepEqual(names({ TEE_MODE: 'nitro', ENCLAVE_SPAWN: 'false' }), []);
  });

  it('enclave: TEE_MODE dev by default, nitro with the helper path and an optional vsock port', () => {
    const KMS_KEY_ID =
      'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000';
    const dev = loadEnclaveConfig({ ENCLAVE_SOCKET: '/tmp/e.sock', KMS_KEY_ID });
    assert.equal(dev.TEE_MODE, 'dev');
    assert.equal(dev.ENCLAVE_VSOCK_PORT, undefined);
    const nitro = loadEnclaveConfig({
      ENCLAVE_SOCKET: '/tmp/e.sock',
      KMS_KEY_ID,
      TEE_MODE: 'nitro',
      ENCLAVE_VSOCK_PORT: '5005',
    });
    assert.equal(nitro.NSM_HELPER, '/usr/local/bin/nsm-attest');
    assert.equal(nitro.NSM_DEVICE, '/dev/nsm');
    assert.equal(nitro.ENCLAVE_VSOCK_PORT, 5005);
    assert.throws(
      () => loadEnclaveConfig({ ENCLAVE_SOCKET: '/tmp/e.sock', NSM_HELPER: 'nsm-attest' }),
      ConfigError,
    );
  });
});
