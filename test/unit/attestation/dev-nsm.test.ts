import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { X509Certificate } from '@peculiar/x509';
import { ArgumentError } from '../../../src/common/assert.js';
import { toHex } from '../../../src/common/bytes.js';
import { AWS_NITRO_ROOT_G1_DER } from '../../../src/attestation/aws-root.js';
import { decodeCoseSign1 } from '../../../src/attestation/cose.js';
import { AttestationError, type AttestationCode } from '../../../src/attestation/errors.js';
import { decodeAttestationDocument } from '../../../src/attestation/nitro-document.js';
import {
  verifyAttestationDocument,
  type AttestationPolicy,
} from '../../../src/attestation/nitro-verify.js';
import { pemToDer } from '../../../src/attestation/pem.js';
import {
  createDevNsm,
  DevNsmError,
  loadOrCreateDevRoot,
  type DevNsm,
} from '../../../src/enclave/dev-nsm.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'dev-nsm-test-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const sha384 = (s: string): Uint8Array => new Uint8Array(createHash('sha384').update(s).digest());

function devPcrs(): Map<number, Uint8Array> {
  const pcrs = new Map<number, Uint8Array>([
    [0, sha384('bundle')],
    [1, sha384('lockfile')],
    [2, sha384('node')],
  ]);
  for (let i = 3; i <= 8; i++) pcrs.set(i, new Uint8Array(48));
  return pcrs;
}

async function assertFails(p: Promise<unknown>, code: AttestationCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AttestationError, `expected AttestationError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

describe('createDevNsm › attest', () => {
  const pcrs = devPcrs();
  const publicKey = bytes(32);
  const userData = bytes(32);
  const nonce = bytes(16);
  let ctx: { nsm: DevNsm; doc: Uint8Array; policy: AttestationPolicy };
  const setup = async (): Promise<typeof ctx> => ctx;
  before(async () => {
    const nsm = await createDevNsm({
      dataDir: tmp(),
      moduleId: 'perf-aggregator-dev-enclave',
      pcrs,
    });
    const at = Date.now();
    const doc = await nsm.attest({ publicKey, userData, nonce });
    const policy: AttestationPolicy = {
      trustedRoots: [nsm.rootDer],
      at,
      expectedPcrs: { 0: toHex(pcrs.get(0)!) },
      expectedNonce: nonce,
      expectedPublicKey: publicKey,
      expectedUserData: userData,
    };
    ctx = { nsm, doc, policy };
  });

  it('produces a document that verifies with the dev root, binding public_key, user_data and nonce', async () => {
    const { doc, policy } = await setup();
    const res = await verifyAttestationDocument(doc, policy);
    assert.equal(res.imageHash, toHex(pcrs.get(0)!));
    assert.equal(res.debug, false);
    assert.deepEqual(res.document.public_key, publicKey);
    assert.deepEqual(res.document.user_data, userData);
    assert.deepEqual(res.document.nonce, nonce);
    assert.equal(res.document.module_id, 'perf-aggregator-dev-enclave');
  });

  it('uses the Nitro encoding: untagged COSE_Sign1, protected {1:-35}, cabundle [root, intermediate]', async () => {
    const { nsm, doc } = await setup();
    assert.equal(doc[0], 0x84);
    const cose = decodeCoseSign1(doc);
    assert.equal(toHex(cose.protectedBytes), 'a1013822');
    assert.equal(cose.unprotectedHeader.size, 0);
    assert.equal(cose.signature.length, 96);
    const d = decodeAttestationDocument(cose.payload);
    assert.equal(d.digest, 'SHA384');
    assert.equal(d.cabundle.length, 2);
    assert.deepEqual(d.cabundle[0], nsm.rootDer);
    const leaf = new X509Certificate(d.certificate);
    const intermediate = new X509Certificate(d.cabundle[1]!);
    assert.equal(leaf.issuer, intermediate.subject);
    assert.ok(leaf.notAfter.getTime() - leaf.notBefore.getTime() <= 4 * 3_600_000);
  });

  it('carries PCR0 (and every other PCR) exactly as given', async () => {
    const { doc } = await setup();
    const d = decodeAttestationDocument(decodeCoseSign1(doc).payload);
    assert.deepEqual(d.pcrs, pcrs);
  });

  it('fails ERR_ATTESTATION_UNTRUSTED_ROOT against the AWS root', async () => {
    const { doc, policy } = await setup();
    await assertFails(
      verifyAttestationDocument(doc, { ...policy, trustedRoots: [AWS_NITRO_ROOT_G1_DER] }),
      'ERR_ATTESTATION_UNTRUSTED_ROOT',
    );
  });

  it('fails the matching check when the nonce, public key or user data differ', async () => {
    const { doc, policy } = await setup();
    await assertFails(
      verifyAttestationDocument(doc, { ...policy, expectedNonce: bytes(16) }),
      'ERR_ATTESTATION_NONCE',
    );
    await assertFails(
      verifyAttestationDocument(doc, { ...policy, expectedPublicKey: bytes(32) }),
      'ERR_ATTESTATION_PUBLIC_KEY',
    );
    await assertFails(
      verifyAttestationDocument(doc, { ...policy, expectedUserData: bytes(32) }),
      'ERR_ATTESTATION_USER_DATA',
    );
  });

  it('fails ERR_ATTESTATION_PCR_MISMATCH when the verifier pins another image', async () => {
    const { doc, policy } = await setup();
    await assertFails(
      verifyAttestationDocument(doc, {
        ...policy,
        expectedPcrs: { 0: toHex(sha384('other bundle')) },
      }),
      'ERR_ATTESTATION_PCR_MISMATCH',
    );
  });

  it('encodes an absent nonce as null, which verifies against expectedNonce null', async () => {
    const { nsm, policy } = await setup();
    const doc = await nsm.attest({ publicKey, userData, nonce: null });
    const res = await verifyAttestationDocument(doc, {
      ...policy,
      at: Date.now(),
      expectedNonce: null,
    });
    assert.equal(res.document.nonce, null);
  });

  it('rejects request fields outside the Nitro sizes with ArgumentError', async () => {
    const { nsm } = await setup();
    await assert.rejects(nsm.attest({ nonce: new Uint8Array(1025) }), ArgumentError);
    await assert.rejects(nsm.attest({ publicKey: new Uint8Array(0) }), ArgumentError);
  });
});

describe('createDevNsm › clock', () => {
  it('reissues the leaf before it expires, and each document verifies at its own time', async () => {
    let t = Date.UTC(2030, 0, 1);
    const nsm = await createDevNsm({
      dataDir: tmp(),
      moduleId: 'clock-test',
      pcrs: devPcrs(),
      now: () => t,
    });
    const leafOf = (doc: Uint8Array): Uint8Array =>
      decodeAttestationDocument(decodeCoseSign1(doc).payload).certificate;
    const first = await nsm.attest();
    t += 2 * 3_600_000; // 1 h of the 3 h leaf left: keep it
    const second = await nsm.attest();
    assert.deepEqual(leafOf(second), leafOf(first));
    t += 45 * 60_000; // 15 min left: reissue
    const third = await nsm.attest();
    assert.notDeepEqual(leafOf(third), leafOf(first));
    await verifyAttestationDocument(third, { trustedRoots: [nsm.rootDer], at: t });
    await assertFails(
      verifyAttestationDocument(first, { trustedRoots: [nsm.rootDer], at: t }),
      'ERR_ATTESTATION_STALE',
    );
    await assertFails(
      verifyAttestationDocument(first, {
        trustedRoots: [nsm.rootDer],
        at: t + 3_600_000,
        maxAgeMs: 1e9,
      }),
      'ERR_ATTESTATION_CERT_EXPIRED',
    );
  });

  it('stamps the document with the injected clock in milliseconds', async () => {
    const t = Date.UTC(2030, 5, 1, 12, 0, 0, 123);
    const nsm = await createDevNsm({
      dataDir: tmp(),
      moduleId: 'clock-test',
      pcrs: devPcrs(),
      now: () => t,
    });
    const doc = decodeAttestationDocument(decodeCoseSign1(await nsm.attest()).payload);
    assert.equal(doc.timestamp, t);
  });
});

describe('loadOrCreateDevRoot', () => {
  it('creates the root once under <dataDir>/dev-root and reuses it across createDevNsm calls', async () => {
    const dataDir = tmp();
    const a = await createDevNsm({ dataDir, moduleId: 'a', pcrs: devPcrs() });
    const b = await createDevNsm({ dataDir, moduleId: 'b', pcrs: devPcrs() });
    assert.deepEqual(a.rootDer, b.rootDer);
    assert.equal(a.rootPem, readFileSync(join(dataDir, 'dev-root', 'root.pem'), 'utf8'));
    assert.deepEqual(pemToDer(a.rootPem), a.rootDer);
    const again = await loadOrCreateDevRoot(dataDir);
    assert.deepEqual(again.certDer, a.rootDer);
    // A document from either verifies with the root the other reports.
    await verifyAttestationDocument(await b.attest(), {
      trustedRoots: [a.rootDer],
      at: Date.now(),
    });
  });

  it('writes a P-384 CA valid for 10 years and a PKCS#8 key readable only by its owner', async () => {
    const dataDir = tmp();
    const { certDer } = await loadOrCreateDevRoot(dataDir);
    const keyPath = join(dataDir, 'dev-root', 'root.key.pem');
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    assert.match(readFileSync(keyPath, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
    const cert = new X509Certificate(certDer);
    assert.match(cert.subject, /CN=perf-aggregator dev root/);
    assert.match(cert.subject, /not trusted/);
    assert.equal(cert.subject, cert.issuer);
    assert.deepEqual(cert.publicKey.algorithm, { name: 'ECDSA', namedCurve: 'P-384' });
    const years = (cert.notAfter.getTime() - cert.notBefore.getTime()) / (365.25 * 86_400_000);
    assert.ok(years > 9.9 && years < 10.1, `validity ${years} years`);
  });

  it('agrees on one root when two processes create it at the same time', async () => {
    const dataDir = tmp();
    const [a, b] = await Promise.all([loadOrCreateDevRoot(dataDir), loadOrCreateDevRoot(dataDir)]);
    assert.deepEqual(a.certDer, b.certDer);
  });

  it('refuses a root whose key does not match its certificate with ERR_DEV_NSM_ROOT', async () => {
    const one = tmp();
    const two = tmp();
    await loadOrCreateDevRoot(one);
    await loadOrCreateDevRoot(two);
    writeFileSync(
      join(one, 'dev-root', 'root.key.pem'),
      readFileSync(join(two, 'dev-root', 'root.key.pem')),
    );
    await assert.rejects(
      loadOrCreateDevRoot(one),
      (e: unknown) => e instanceof DevNsmError && e.code === 'ERR_DEV_NSM_ROOT',
    );
  });
});

describe('createDevNsm › arguments', () => {
  const cases: [string, Partial<Parameters<typeof createDevNsm>[0]>][] = [
    ['a module id with a comma', { moduleId: 'a,b' }],
    ['PCRs without PCR0', { pcrs: new Map([[1, new Uint8Array(48)]]) }],
    ['a 47-byte PCR', { pcrs: new Map([[0, new Uint8Array(47)]]) }],
  ];
  for (const [what, opts] of cases) {
    it(`with ${what} › throws ArgumentError`, async () => {
      await assert.rejects(
        createDevNsm({ dataDir: tmp(), moduleId: 'ok', pcrs: devPcrs(), ...opts }),
        (e: unknown) => e instanceof ArgumentError && e.code === 'ERR_INVALID_ARGUMENT',
      );
    });
  }

  it('when the clock is past the root’s validity › throws ERR_DEV_NSM_ROOT', async () => {
    const dataDir = tmp();
    await loadOrCreateDevRoot(dataDir);
    await assert.rejects(
      createDevNsm({
        dataDir,
        moduleId: 'ok',
        pcrs: devPcrs(),
        now: () => Date.now() + 11 * 365 * 86_400_000,
      }),
      (e: unknown) => e instanceof DevNsmError && e.code === 'ERR_DEV_NSM_ROOT',
    );
  });
});
