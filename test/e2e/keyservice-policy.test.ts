/**
 * The key policy on PCR0 with real processes: the built enclave bundle and a copy of it with one
 * byte changed (so a different dev PCR0), against one local key service process that allows only
 * the genuine bundle. The changed bundle can neither unwrap the stored ring nor make a new one;
 * a restarted genuine enclave opens the ring and gets the same keys.
 */
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEnclaveClient, type EnclaveClient } from '../../src/api/enclave-client.js';
import {
  bundlePcr0,
  ENCLAVE_BUNDLE,
  startEnclaveProcess,
  startKeyServiceProcess,
  type EnclaveProcess,
  type KeyServiceProcess,
} from '../helpers/enclave-process.js';

const codeOf = (e: unknown): string | undefined => (e as { code?: string }).code;

describe('key service policy on PCR0 (processes)', { timeout: 60_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pa-policy-'));
  // Inside the repository, so the copy resolves node_modules and package-lock.json like the original.
  const changedDir = resolve(import.meta.dirname, '../../.cache', `enclave-changed-${process.pid}`);
  const changedBundle = join(changedDir, 'main.js');
  let keyService: KeyServiceProcess;
  const running: EnclaveProcess[] = [];
  const clients: EnclaveClient[] = [];

  const connect = (e: EnclaveProcess): EnclaveClient => {
    const c = createEnclaveClient({ socketPath: e.socketPath, defaultTimeoutMs: 20_000 });
    clients.push(c);
    return c;
  };
  const start = async (bundle = ENCLAVE_BUNDLE): Promise<EnclaveProcess> => {
    const e = await startEnclaveProcess({ dataDir, keyService, bundle });
    running.push(e);
    return e;
  };

  before(async () => {
    mkdirSync(changedDir, { recursive: true });
    copyFileSync(ENCLAVE_BUNDLE, changedBundle);
    appendFileSync(changedBundle, '\n// one changed byte is a different image\n');
    assert.notEqual(bundlePcr0(changedBundle), bundlePcr0());
    keyService = await startKeyServiceProcess({ dataDir, allowedPcr0: [bundlePcr0()] });
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const e of running) await e.stop();
    await keyService?.stop();
    rmSync(changedDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the changed bundle is refused with KEY_SERVICE_DENIED; the genuine one reopens its ring', async () => {
    const genuine = await start();
    const first = await connect(genuine).call('init', {
      sealed_ring: null,
      kms_credentials: keyService.credentials,
    });
    assert.equal(first.image_hash, bundlePcr0());

    const changed = await start(changedBundle);
    const c = connect(changed);
    for (const sealed_ring of [first.sealed_ring, null]) {
      await assert.rejects(
        c.call('init', { sealed_ring, kms_credentials: keyService.credentials }),
        (e) => codeOf(e) === 'KEY_SERVICE_DENIED',
      );
    }
    assert.ok(
      keyService.lines.some(
        (l) => l.includes('"event":"kms_refused"') && l.includes('image_sha384_not_allowed'),
      ),
      'the key service logged why',
    );
    // Until it has a ring, the changed enclave answers nothing that needs a key.
    await assert.rejects(
      c.call('attest', { nonce: null, key_id: first.key_id }),
      (e) => codeOf(e) === 'ENCLAVE_NOT_READY',
    );

    await genuine.stop();
    const restarted = await start();
    const again = await connect(restarted).call('init', {
      sealed_ring: first.sealed_ring,
      kms_credentials: keyService.credentials,
    });
    assert.equal(again.key_id, first.key_id);
    assert.equal(again.signing_key_id, first.signing_key_id);
    assert.equal(again.changed, false);
  });
});
