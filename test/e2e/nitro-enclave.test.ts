/**
 * The built enclave process in TEE_MODE=nitro. Only the kernel's nsm driver is replaced: the real
 * nsm-attest helper runs under test/fixtures/fake-nsm.c (via a wrapper script given as NSM_HELPER),
 * which answers with a genuine AWS document and records every request. Shown: at init the enclave
 * asks the NSM to bind an ephemeral RSA key for the key service (KMS Recipient), and fails closed
 * when the key service refuses that document. (How `attest` binds the X25519 key, the Ed25519 key
 * and the nonce is tested on the dev path and in test/unit/enclave/attestation-provider.test.ts.)
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnclaveClient, type EnclaveClient } from '../../src/api/enclave-client.js';
import { decodeCbor } from '../../src/attestation/cbor.js';
import { startEnclaveProcess, type EnclaveProcess } from '../helpers/enclave-process.js';
import { buildNsmBinaries } from '../helpers/nsm-helper.js';

/** A genuine AWS document, which the fake driver answers every request with. */
const DOCUMENT = new URL('../vectors/nitro/base_nitro_validator_2024.cbor', import.meta.url);

function loggedRequests(file: string): Map<string, Map<string, Uint8Array | null>>[] {
  const b = new Uint8Array(readFileSync(file));
  const out = [];
  for (let i = 0; i < b.length;) {
    const n = (b[i]! << 8) | b[i + 1]!;
    out.push(
      decodeCbor(b.subarray(i + 2, i + 2 + n)) as Map<string, Map<string, Uint8Array | null>>,
    );
    i += 2 + n;
  }
  return out;
}

describe('enclave in TEE_MODE=nitro (fake nsm driver, real helper)', { timeout: 60_000 }, () => {
  let enclave: EnclaveProcess;
  let client: EnclaveClient;
  const dir = mkdtempSync(join(tmpdir(), 'pa-nitro-'));
  const log = join(dir, 'nsm-requests.bin');

  before(async () => {
    const bin = buildNsmBinaries();
    // LD_PRELOAD for the helper only: the Node process itself keeps the real ioctl.
    const wrapper = join(dir, 'nsm-attest');
    writeFileSync(wrapper, `#!/bin/sh\nLD_PRELOAD='${bin.fakeDriver}' exec '${bin.helper}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    enclave = await startEnclaveProcess({
      socketPath: join(dir, 'enclave.sock'),
      env: {
        TEE_MODE: 'nitro',
        NSM_HELPER: wrapper,
        NSM_DEVICE: '/dev/null',
        FAKE_NSM_DOCUMENT: DOCUMENT.pathname,
        FAKE_NSM_LOG: log,
        // Nitro accepts only https to KMS (TLS ends inside the enclave); nothing listens here.
        KMS_ENDPOINT: 'https://127.0.0.1:9',
      },
    });
    client = createEnclaveClient({ socketPath: enclave.socketPath, defaultTimeoutMs: 10_000 });
  });
  after(async () => {
    client?.close();
    await enclave?.stop();
  });

  it('fails closed when KMS cannot be reached: no ring, nothing attested', async () => {
    await assert.rejects(
      client.call('init', {
        sealed_ring: null,
        kms_credentials: enclave.keyService.credentials,
      }),
      (e: { code?: string }) => /^KEY_SERVICE_/.test(e.code ?? ''),
    );
    assert.ok(!existsDevRoot(enclave.dataDir), 'no development root is created in nitro mode');
    await assert.rejects(
      client.call('attest', { nonce: null, key_id: '0'.repeat(16) }),
      (e: { code?: string }) => e.code === 'ENCLAVE_NOT_READY',
      'without a ring the enclave attests nothing',
    );
  });

  it('asks the NSM for a document binding only an ephemeral RSA key for the key service', () => {
    const requests = loggedRequests(log);
    assert.ok(requests.length >= 2, 'the start-up measurement request and the key-service one');
    const first = requests[0]!.get('Attestation')!;
    assert.deepEqual([...first.values()], [null, null, null], 'start-up request binds nothing');
    const last = requests.at(-1)!.get('Attestation')!;
    assert.deepEqual([...last.keys()], ['user_data', 'nonce', 'public_key']);
    assert.equal(last.get('user_data'), null);
    assert.equal(last.get('nonce'), null);
    // RSA-2048 SubjectPublicKeyInfo, DER: what KMS's Recipient takes.
    assert.equal(last.get('public_key')!.length, 294);
  });
});

function existsDevRoot(dataDir: string): boolean {
  try {
    readFileSync(join(dataDir, 'dev-root', 'root.pem'));
    return true;
  } catch {
    return false;
  }
}
