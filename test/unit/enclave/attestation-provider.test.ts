/**
 * The attestation providers. The nitro provider runs the real helper binary (compiled here) through
 * its real ioctl path; only the kernel driver is replaced, by an LD_PRELOAD fake that checks the
 * driver's request code and buffer sizes (test/fixtures/fake-nsm.c).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyAttestationDocument } from '../../../src/attestation/nitro-verify.js';
import { AWS_NITRO_ROOT_G1_DER } from '../../../src/attestation/aws-root.js';
import {
  decodeAttestationResponse,
  encodeAttestationRequest,
  NsmError,
} from '../../../src/attestation/nsm-codec.js';
import { pemToDer } from '../../../src/attestation/pem.js';
import { fromHex, toHex } from '../../../src/common/bytes.js';
import {
  createDevAttestationProvider,
  createNitroAttestationProvider,
  nsmRoundTrip,
} from '../../../src/enclave/attestation-provider.js';
import { measureDev } from '../../../src/enclave/measure.js';
import { buildNsmBinaries, type NsmBinaries } from '../../helpers/nsm-helper.js';

const VECTORS = new URL('../../vectors/nitro/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', VECTORS), 'utf8')) as {
  docs: { file: string; verify_at_ms: number; pcrs: Record<string, string> }[];
};

let bin: NsmBinaries;
const savedPreload = process.env['LD_PRELOAD'];
const savedDoc = process.env['FAKE_NSM_DOCUMENT'];

function withFakeDriver(documentFile?: string): void {
  process.env['LD_PRELOAD'] = bin.fakeDriver;
  if (documentFile) process.env['FAKE_NSM_DOCUMENT'] = documentFile;
  else delete process.env['FAKE_NSM_DOCUMENT'];
}
function restoreEnv(): void {
  for (const [k, v] of [
    ['LD_PRELOAD', savedPreload],
    ['FAKE_NSM_DOCUMENT', savedDoc],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

before(() => {
  bin = buildNsmBinaries();
});
after(restoreEnv);

describe('nsm-attest helper › argument and I/O contract', () => {
  const run = (args: string[], input: Uint8Array | string) =>
    spawnSync(bin.helper, args, { input, env: { PATH: process.env['PATH'] ?? '' } });

  it('without an NSM device › exits 69 and names the device and errno, writing nothing', () => {
    const r = run(['/nonexistent/nsm'], 'x');
    assert.equal(r.status, 69);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr.toString(), /\/nonexistent\/nsm: No such file or directory/);
  });

  it('on a device that is not the NSM › exits 74 (the ioctl fails ENOTTY)', () => {
    const r = run(['/dev/null'], 'x');
    assert.equal(r.status, 74);
    assert.match(r.stderr.toString(), /ioctl: Inappropriate ioctl/);
  });

  it('with an empty request or one over 4096 bytes › exits 65 before opening the device', () => {
    assert.equal(run(['/dev/null'], '').status, 65);
    const big = run(['/dev/null'], new Uint8Array(4097));
    assert.equal(big.status, 65);
    assert.match(big.stderr.toString(), /request: Message too long/);
    assert.equal(run(['/nonexistent'], new Uint8Array(4096)).status, 69); // 4096 is allowed
  });

  it('with a relative device path or extra arguments › exits 64 (usage)', () => {
    assert.equal(run(['dev/nsm'], 'x').status, 64);
    assert.equal(run(['/dev/null', '/dev/null'], 'x').status, 64);
  });
});

describe('nsmRoundTrip › through the fake driver', () => {
  after(restoreEnv);

  it('carries the encoded request to the driver byte for byte and returns its response', async () => {
    withFakeDriver();
    const request = encodeAttestationRequest({
      publicKey: new Uint8Array(32).fill(1),
      userData: new Uint8Array(32).fill(2),
      nonce: new Uint8Array(1024).fill(3),
    });
    const response = await nsmRoundTrip({ helper: bin.helper, device: '/dev/null' }, request);
    assert.deepEqual(decodeAttestationResponse(response), request); // the fake echoes
  });

  it('an NSM error response surfaces as ERR_NSM_ERROR with the NSM’s code', async () => {
    withFakeDriver();
    const response = await nsmRoundTrip(
      { helper: bin.helper, device: '/dev/null' },
      new Uint8Array([0xa0]),
    );
    assert.throws(
      () => decodeAttestationResponse(response),
      (e: unknown) =>
        e instanceof NsmError && e.code === 'ERR_NSM_ERROR' && e.nsmError === 'InvalidArgument',
    );
  });

  it('a missing helper or a failing one rejects ERR_NSM_UNAVAILABLE', async () => {
    restoreEnv();
    for (const o of [
      { helper: '/nonexistent/nsm-attest' },
      { helper: bin.helper, device: '/nonexistent/nsm' },
    ]) {
      await assert.rejects(
        nsmRoundTrip(o, encodeAttestationRequest({})),
        (e: unknown) => e instanceof NsmError && e.code === 'ERR_NSM_UNAVAILABLE',
      );
    }
  });
});

describe('createNitroAttestationProvider', () => {
  after(restoreEnv);
  const d = manifest.docs.find((x) => x.file === 'evervault_beta_valid.cbor')!;

  it('reads the image PCRs from the module’s own document and returns its documents', async () => {
    withFakeDriver(new URL(d.file, VECTORS).pathname);
    const p = await createNitroAttestationProvider({ helper: bin.helper, device: '/dev/null' });
    assert.equal(p.format, 'aws-nitro');
    for (const [i, hex] of Object.entries(d.pcrs)) assert.equal(toHex(p.pcrs.get(Number(i))!), hex);
    const doc = await p.attest({
      publicKey: new Uint8Array(32),
      userData: new Uint8Array(32),
      nonce: fromHex('00'),
    });
    const v = await verifyAttestationDocument(doc, {
      trustedRoots: [AWS_NITRO_ROOT_G1_DER],
      at: d.verify_at_ms,
    });
    assert.equal(v.imageHash, d.pcrs['0']);
  });

  it('fails to start ERR_NSM_UNAVAILABLE when there is no NSM', async () => {
    restoreEnv();
    await assert.rejects(
      createNitroAttestationProvider({ helper: bin.helper, device: '/nonexistent/nsm' }),
      (e: unknown) => e instanceof NsmError && e.code === 'ERR_NSM_UNAVAILABLE',
    );
  });
});

describe('createDevAttestationProvider', () => {
  it('measures the bundle into PCR0 and signs documents that verify under the dev root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pa-devprov-'));
    const bundle = join(dir, 'main.js');
    const lockfile = join(dir, 'package-lock.json');
    writeFileSync(bundle, 'console.log(1)\n');
    writeFileSync(lockfile, '{}\n');
    const p = await createDevAttestationProvider({ dataDir: dir, bundle, lockfile });
    assert.equal(p.format, 'dev');
    assert.deepEqual(p.pcrs, measureDev(bundle, lockfile));
    const nonce = fromHex('0102');
    const doc = await p.attest({
      publicKey: new Uint8Array(32).fill(9),
      userData: new Uint8Array(32),
      nonce,
    });
    const root = readFileSync(join(dir, 'dev-root', 'root.pem'), 'utf8');
    const v = await verifyAttestationDocument(doc, {
      trustedRoots: [pemToDer(root)],
      at: Date.now(),
      expectedNonce: nonce,
      expectedPcrs: { 0: toHex(p.pcrs.get(0)!) },
    });
    assert.equal(v.document.public_key?.[0], 9);
  });
});
