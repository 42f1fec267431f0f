import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509Certificate,
  X509CertificateGenerator,
} from '@peculiar/x509';
import fc from 'fast-check';
import { ArgumentError } from '../../../src/common/assert.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../../src/common/bytes.js';
import {
  AWS_NITRO_ROOT_G1_DER,
  AWS_NITRO_ROOT_G1_PEM,
  AWS_NITRO_ROOT_G1_SHA256,
} from '../../../src/attestation/aws-root.js';
import { decodeCbor, encodeCbor } from '../../../src/attestation/cbor.js';
import {
  decodeCoseSign1,
  encodeCoseSign1,
  es384ProtectedHeader,
  sigStructure,
} from '../../../src/attestation/cose.js';
import { AttestationError, type AttestationCode } from '../../../src/attestation/errors.js';
import {
  decodeAttestationDocument,
  encodeAttestationDocument,
  type AttestationDocument,
} from '../../../src/attestation/nitro-document.js';
import {
  checkAttestationDocument,
  verifyAttestationDocument,
  type AttestationPolicy,
} from '../../../src/attestation/nitro-verify.js';
import { derToPem, pemToDer } from '../../../src/attestation/pem.js';

const VECTORS = new URL('../../vectors/nitro/', import.meta.url);
const read = (file: string): Uint8Array => new Uint8Array(readFileSync(new URL(file, VECTORS)));

interface ManifestDoc {
  file: string;
  verify_at_ms: number;
  pcrs: Record<string, string>;
  public_key_len: number | null;
  user_data_len: number | null;
  nonce_hex: string | null;
}
const manifest = JSON.parse(readFileSync(new URL('manifest.json', VECTORS), 'utf8')) as {
  root: { der_sha256: string };
  docs: ManifestDoc[];
};
const INVALID = 'eternis_invalid.cbor';
const genuine = manifest.docs.filter((d) => d.file !== INVALID);
const byName = (file: string): ManifestDoc => manifest.docs.find((d) => d.file === file)!;
const isDebug = (d: ManifestDoc): boolean => /^0+$/.test(d.pcrs['0']!);
const lookalikeDer = pemToDer(readFileSync(new URL('lookalike_root_invalid.pem', VECTORS), 'utf8'));

const ALL_CHECKS = [
  'policy',
  'structure',
  'cose_alg',
  'root',
  'chain',
  'validity',
  'signature',
  'pcrs',
  'debug',
  'public_key',
  'user_data',
  'nonce',
  'freshness',
];

function policyFor(d: ManifestDoc, extra: Partial<AttestationPolicy> = {}): AttestationPolicy {
  return {
    trustedRoots: [AWS_NITRO_ROOT_G1_DER],
    at: d.verify_at_ms,
    allowDebug: isDebug(d),
    ...extra,
  };
}

async function assertFails(p: Promise<unknown>, code: AttestationCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AttestationError, `expected AttestationError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

const failedChecks = async (doc: Uint8Array, policy: AttestationPolicy): Promise<string[]> =>
  (await checkAttestationDocument(doc, policy)).checks
    .filter((c) => !c.ok && !c.skipped)
    .map((c) => c.name);

/** Rebuilds a COSE_Sign1 around a changed payload, keeping the original (now wrong) signature. */
function withPayload(
  doc: Uint8Array,
  edit: (d: AttestationDocument) => AttestationDocument,
): Uint8Array {
  const cose = decodeCoseSign1(doc);
  const payload = encodeAttestationDocument(edit(decodeAttestationDocument(cose.payload)));
  return encodeCoseSign1({ ...cose, payload });
}

describe('AWS Nitro root G1', () => {
  it('embeds the published certificate, whose DER has the pinned SHA-256', () => {
    const sha = createHash('sha256').update(AWS_NITRO_ROOT_G1_DER).digest('hex');
    assert.equal(sha, AWS_NITRO_ROOT_G1_SHA256);
    assert.equal(sha, manifest.root.der_sha256);
    assert.equal(
      AWS_NITRO_ROOT_G1_PEM,
      readFileSync(new URL('aws_nitro_root.pem', VECTORS), 'utf8').trim(),
    );
  });

  it('round-trips through derToPem and pemToDer', () => {
    assert.deepEqual(pemToDer(derToPem(AWS_NITRO_ROOT_G1_DER)), AWS_NITRO_ROOT_G1_DER);
    assert.deepEqual(pemToDer(derToPem(utf8('key'), 'PRIVATE KEY'), 'PRIVATE KEY'), utf8('key'));
  });

  for (const [what, pem] of [
    ['a different label', AWS_NITRO_ROOT_G1_PEM.replace(/CERTIFICATE/g, 'PUBLIC KEY')],
    ['non-canonical base64', AWS_NITRO_ROOT_G1_PEM.replace('IwLz3/Y=', 'IwLz3/Z=')],
    ['an empty body', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----'],
    ['two blocks', AWS_NITRO_ROOT_G1_PEM + '\n' + AWS_NITRO_ROOT_G1_PEM],
    ['no PEM at all', 'hello'],
  ]) {
    it(`pemToDer › when given ${what} › throws ERR_ATTESTATION_MALFORMED`, () => {
      assert.throws(
        () => pemToDer(pem!),
        (e: unknown) => e instanceof AttestationError && e.code === 'ERR_ATTESTATION_MALFORMED',
      );
    });
  }
});

describe('verifyAttestationDocument › genuine AWS documents', () => {
  for (const d of genuine) {
    describe(d.file, () => {
      const doc = read(d.file);

      it('verifies at its own timestamp with the AWS root and every PCR pinned', async () => {
        const nonce = d.nonce_hex === null ? null : fromHex(d.nonce_hex);
        const res = await verifyAttestationDocument(
          doc,
          policyFor(d, { expectedPcrs: d.pcrs, expectedNonce: nonce }),
        );
        assert.equal(res.imageHash, d.pcrs['0']);
        assert.equal(res.debug, isDebug(d));
        assert.equal(res.document.timestamp, d.verify_at_ms);
        assert.equal(res.document.public_key?.length ?? null, d.public_key_len);
        assert.equal(res.document.user_data?.length ?? null, d.user_data_len);
        assert.equal(res.document.cabundle[0]!.length, AWS_NITRO_ROOT_G1_DER.length);
        assert.equal(Object.getPrototypeOf(res.document.certificate), Uint8Array.prototype);
      });

      if (isDebug(d)) {
        it('is rejected with ERR_ATTESTATION_DEBUG under the default policy', async () => {
          await assertFails(
            verifyAttestationDocument(doc, policyFor(d, { allowDebug: undefined })),
            'ERR_ATTESTATION_DEBUG',
          );
        });
      }

      it('fails ERR_ATTESTATION_CERT_EXPIRED when checked at the current time', async () => {
        await assertFails(
          verifyAttestationDocument(doc, policyFor(d, { at: Date.now() })),
          'ERR_ATTESTATION_CERT_EXPIRED',
        );
      });

      it('fails ERR_ATTESTATION_UNTRUSTED_ROOT when only the look-alike root is trusted', async () => {
        await assertFails(
          verifyAttestationDocument(doc, policyFor(d, { trustedRoots: [lookalikeDer] })),
          'ERR_ATTESTATION_UNTRUSTED_ROOT',
        );
      });

      it('re-encodes its payload byte for byte', () => {
        const payload = decodeCoseSign1(doc).payload;
        assert.deepEqual(encodeAttestationDocument(decodeAttestationDocument(payload)), payload);
      });
    });
  }
});

describe('verifyAttestationDocument › the tampered document (eternis_invalid)', () => {
  const d = byName(INVALID);
  const doc = read(INVALID);

  it('fails ERR_ATTESTATION_SIGNATURE although its chain is valid at its timestamp', async () => {
    await assertFails(verifyAttestationDocument(doc, policyFor(d)), 'ERR_ATTESTATION_SIGNATURE');
    assert.deepEqual(await failedChecks(doc, policyFor(d)), ['signature']);
  });

  it('fails ERR_ATTESTATION_CERT_EXPIRED when checked at the current time', async () => {
    await assertFails(
      verifyAttestationDocument(doc, policyFor(d, { at: Date.now() })),
      'ERR_ATTESTATION_CERT_EXPIRED',
    );
  });

  it('fails ERR_ATTESTATION_SIGNATURE before the debug check under the default policy', async () => {
    await assertFails(
      verifyAttestationDocument(doc, policyFor(d, { allowDebug: false })),
      'ERR_ATTESTATION_SIGNATURE',
    );
  });
});

describe('verifyAttestationDocument › trust anchor', () => {
  const d = byName('evervault_beta_valid.cbor');
  const doc = read(d.file);

  it('when cabundle[0] is replaced by the look-alike root › fails ERR_ATTESTATION_UNTRUSTED_ROOT', async () => {
    const forged = withPayload(doc, (p) => ({
      ...p,
      cabundle: [lookalikeDer, ...p.cabundle.slice(1)],
    }));
    await assertFails(
      verifyAttestationDocument(forged, policyFor(d)),
      'ERR_ATTESTATION_UNTRUSTED_ROOT',
    );
  });

  it('when the look-alike is trusted and used › fails ERR_ATTESTATION_CHAIN (it signed nothing)', async () => {
    const forged = withPayload(doc, (p) => ({
      ...p,
      cabundle: [lookalikeDer, ...p.cabundle.slice(1)],
    }));
    const policy = policyFor(d, { trustedRoots: [lookalikeDer] });
    await assertFails(verifyAttestationDocument(forged, policy), 'ERR_ATTESTATION_CHAIN');
    assert.deepEqual(await failedChecks(forged, policy), ['chain', 'signature']);
  });

  it('accepts the AWS root among other trusted roots', async () => {
    await verifyAttestationDocument(
      doc,
      policyFor(d, { trustedRoots: [lookalikeDer, AWS_NITRO_ROOT_G1_DER] }),
    );
  });
});

describe('verifyAttestationDocument › policy checks', () => {
  const valid = byName('evervault_beta_valid.cbor');
  const validDoc = read(valid.file);
  const nonce = fromHex(valid.nonce_hex!);

  it('when a pinned PCR differs › fails ERR_ATTESTATION_PCR_MISMATCH', async () => {
    const pcr8 = valid.pcrs['8']!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    await assertFails(
      verifyAttestationDocument(
        validDoc,
        policyFor(valid, { expectedPcrs: { 0: valid.pcrs['0']!, 8: pcr8 } }),
      ),
      'ERR_ATTESTATION_PCR_MISMATCH',
    );
  });

  it('when a pinned PCR is absent from the document › fails ERR_ATTESTATION_PCR_MISMATCH', async () => {
    await assertFails(
      verifyAttestationDocument(
        validDoc,
        policyFor(valid, { expectedPcrs: { 20: '00'.repeat(48) } }),
      ),
      'ERR_ATTESTATION_PCR_MISMATCH',
    );
  });

  it('compares PCR hex case-insensitively', async () => {
    await verifyAttestationDocument(
      validDoc,
      policyFor(valid, { expectedPcrs: { 0: valid.pcrs['0']!.toUpperCase() } }),
    );
  });

  it('when the nonce differs › fails ERR_ATTESTATION_NONCE', async () => {
    const other = nonce.slice();
    other[0]! ^= 1;
    await assertFails(
      verifyAttestationDocument(validDoc, policyFor(valid, { expectedNonce: other })),
      'ERR_ATTESTATION_NONCE',
    );
  });

  it('when a nonce is expected but the document has none › fails ERR_ATTESTATION_NONCE', async () => {
    const d = byName('uid2_core_2021.cbor');
    await assertFails(
      verifyAttestationDocument(read(d.file), policyFor(d, { expectedNonce: new Uint8Array(20) })),
      'ERR_ATTESTATION_NONCE',
    );
  });

  it('when no nonce was sent (null) but the document has one › fails ERR_ATTESTATION_NONCE', async () => {
    await assertFails(
      verifyAttestationDocument(validDoc, policyFor(valid, { expectedNonce: null })),
      'ERR_ATTESTATION_NONCE',
    );
  });

  it('binds public_key: equal passes, different or absent fails ERR_ATTESTATION_PUBLIC_KEY', async () => {
    const d = byName('base_nitro_validator_2024.cbor');
    const doc = read(d.file);
    const pk = decodeAttestationDocument(decodeCoseSign1(doc).payload).public_key!;
    await verifyAttestationDocument(doc, policyFor(d, { expectedPublicKey: pk }));
    await assertFails(
      verifyAttestationDocument(doc, policyFor(d, { expectedPublicKey: pk.subarray(1) })),
      'ERR_ATTESTATION_PUBLIC_KEY',
    );
    await assertFails(
      verifyAttestationDocument(validDoc, policyFor(valid, { expectedPublicKey: pk })),
      'ERR_ATTESTATION_PUBLIC_KEY',
    );
  });

  it('binds user_data: equal passes, different fails ERR_ATTESTATION_USER_DATA', async () => {
    const d = byName('evervault_ga_valid.cbor');
    const doc = read(d.file);
    const ud = decodeAttestationDocument(decodeCoseSign1(doc).payload).user_data!;
    await verifyAttestationDocument(doc, policyFor(d, { expectedUserData: ud }));
    const other = ud.slice();
    other[ud.length - 1]! ^= 0x80;
    await assertFails(
      verifyAttestationDocument(doc, policyFor(d, { expectedUserData: other })),
      'ERR_ATTESTATION_USER_DATA',
    );
  });

  it('when older than maxAgeMs › fails ERR_ATTESTATION_STALE; exactly at the bound it passes', async () => {
    const at = valid.verify_at_ms + 300_000;
    await verifyAttestationDocument(validDoc, policyFor(valid, { at }));
    await assertFails(
      verifyAttestationDocument(validDoc, policyFor(valid, { at: at + 1 })),
      'ERR_ATTESTATION_STALE',
    );
    await assertFails(
      verifyAttestationDocument(
        validDoc,
        policyFor(valid, { at: valid.verify_at_ms + 2, maxAgeMs: 1 }),
      ),
      'ERR_ATTESTATION_STALE',
    );
  });

  it('when timestamped in the future beyond the clock skew › fails ERR_ATTESTATION_STALE', async () => {
    // Its leaf became valid ~3 s before the timestamp, so stay within that.
    const at = valid.verify_at_ms - 2_000;
    await verifyAttestationDocument(validDoc, policyFor(valid, { at, clockSkewMs: 2_000 }));
    await assertFails(
      verifyAttestationDocument(validDoc, policyFor(valid, { at, clockSkewMs: 1_999 })),
      'ERR_ATTESTATION_STALE',
    );
  });

  it('allows a document up to 60 s in the future by default', async () => {
    const d = byName('evervault_ga_valid.cbor'); // leaf valid from 26 min before its timestamp
    const doc = read(d.file);
    await verifyAttestationDocument(doc, policyFor(d, { at: d.verify_at_ms - 60_000 }));
    await assertFails(
      verifyAttestationDocument(doc, policyFor(d, { at: d.verify_at_ms - 60_001 })),
      'ERR_ATTESTATION_STALE',
    );
  });

  for (const [what, policy] of [
    ['no trusted roots', { trustedRoots: [] }],
    ['a non-finite time', { at: Number.NaN }],
    ['a negative maxAgeMs', { maxAgeMs: -1 }],
    ['a PCR index past 31', { expectedPcrs: { 32: '00'.repeat(48) } }],
    ['a PCR value that is not hex', { expectedPcrs: { 0: 'zz'.repeat(48) } }],
    ['a string nonce', { expectedNonce: 'abc' as unknown as Uint8Array }],
  ] as const) {
    it(`when the policy has ${what} › verify throws ArgumentError and check reports it`, async () => {
      const bad = { ...policyFor(valid), ...policy } as AttestationPolicy;
      await assert.rejects(verifyAttestationDocument(validDoc, bad), ArgumentError);
      const verdict = await checkAttestationDocument(validDoc, bad);
      assert.equal(verdict.ok, false);
      assert.deepEqual(verdict.checks[0], {
        name: 'policy',
        ok: false,
        code: 'ERR_INVALID_ARGUMENT',
      });
    });
  }
});

describe('checkAttestationDocument › verdict', () => {
  it('names every check, in order, all passing for a valid document', async () => {
    const d = byName('evervault_beta_valid.cbor');
    const verdict = await checkAttestationDocument(read(d.file), policyFor(d));
    assert.equal(verdict.ok, true);
    assert.deepEqual(
      verdict.checks.map((c) => c.name),
      ALL_CHECKS,
    );
    assert.ok(verdict.checks.every((c) => c.ok && c.code === undefined));
    assert.equal(verdict.document?.module_id, 'i-020b6af9246d90e92-enc0183d09086c24190');
  });

  it('reports every failing check with its code, not only the first', async () => {
    const d = byName('evervault_beta_debug.cbor');
    const verdict = await checkAttestationDocument(read(d.file), {
      trustedRoots: [lookalikeDer],
      at: Date.now(),
      expectedNonce: new Uint8Array(1),
      expectedPublicKey: new Uint8Array(1),
      expectedUserData: new Uint8Array(1),
      expectedPcrs: { 0: '11'.repeat(48) },
    });
    assert.equal(verdict.ok, false);
    const failed = Object.fromEntries(
      verdict.checks.filter((c) => !c.ok).map((c) => [c.name, c.code]),
    );
    assert.deepEqual(failed, {
      root: 'ERR_ATTESTATION_UNTRUSTED_ROOT',
      validity: 'ERR_ATTESTATION_CERT_EXPIRED',
      pcrs: 'ERR_ATTESTATION_PCR_MISMATCH',
      debug: 'ERR_ATTESTATION_DEBUG',
      public_key: 'ERR_ATTESTATION_PUBLIC_KEY',
      user_data: 'ERR_ATTESTATION_USER_DATA',
      nonce: 'ERR_ATTESTATION_NONCE',
      freshness: 'ERR_ATTESTATION_STALE',
    });
  });

  it('for bytes that do not parse › fails structure and marks the rest skipped', async () => {
    const verdict = await checkAttestationDocument(utf8('not cbor'), {
      trustedRoots: [AWS_NITRO_ROOT_G1_DER],
      at: 0,
    });
    assert.equal(verdict.ok, false);
    assert.equal(verdict.document, undefined);
    assert.deepEqual(
      verdict.checks.map((c) => c.name),
      ALL_CHECKS,
    );
    assert.deepEqual(verdict.checks[1], {
      name: 'structure',
      ok: false,
      code: 'ERR_ATTESTATION_MALFORMED',
    });
    assert.ok(verdict.checks.slice(2).every((c) => !c.ok && c.skipped));
  });
});

describe('verifyAttestationDocument › untrusted bytes', () => {
  const docs = genuine.map((d) => ({ d, bytes: read(d.file) }));

  it('flipping any single bit never verifies and only ever throws AttestationError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: docs.length - 1 }), fc.nat(), async (i, bit) => {
        const { d, bytes } = docs[i]!;
        const flipped = bytes.slice();
        const pos = bit % (bytes.length * 8);
        flipped[pos >> 3]! ^= 1 << (pos & 7);
        await assert.rejects(verifyAttestationDocument(flipped, policyFor(d)), AttestationError);
        assert.equal((await checkAttestationDocument(flipped, policyFor(d))).ok, false);
      }),
      { numRuns: 200 },
    );
  });

  it('truncated or extended documents fail ERR_ATTESTATION_MALFORMED', async () => {
    const { d, bytes } = docs[0]!;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bytes.length - 1 }), async (n) => {
        await assertFails(
          verifyAttestationDocument(bytes.subarray(0, n), policyFor(d)),
          'ERR_ATTESTATION_MALFORMED',
        );
      }),
      { numRuns: 100 },
    );
    await assertFails(
      verifyAttestationDocument(concatBytes(bytes, new Uint8Array([0])), policyFor(d)),
      'ERR_ATTESTATION_MALFORMED',
    );
  });

  it('random bytes fail with ERR_ATTESTATION_MALFORMED and nothing else', async () => {
    const d = genuine[0]!;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 256 }), async (bytes) => {
        await assertFails(
          verifyAttestationDocument(bytes, policyFor(d)),
          'ERR_ATTESTATION_MALFORMED',
        );
      }),
      { numRuns: 300 },
    );
  });

  it('a non-Uint8Array input fails ERR_ATTESTATION_MALFORMED', async () => {
    const d = genuine[0]!;
    await assertFails(
      verifyAttestationDocument('quote' as unknown as Uint8Array, policyFor(d)),
      'ERR_ATTESTATION_MALFORMED',
    );
  });

  it('accepts the COSE_Sign1 tag 18 and rejects any other tag', async () => {
    const d = byName('evervault_beta_valid.cbor');
    const bytes = read(d.file);
    await verifyAttestationDocument(concatBytes(new Uint8Array([0xd2]), bytes), policyFor(d));
    await assertFails(
      verifyAttestationDocument(concatBytes(new Uint8Array([0xd8, 0x12]), bytes), policyFor(d)),
      'ERR_ATTESTATION_MALFORMED',
    );
    await assertFails(
      verifyAttestationDocument(concatBytes(new Uint8Array([0xd1]), bytes), policyFor(d)),
      'ERR_ATTESTATION_MALFORMED',
    );
  });
});

// ---- A throwaway PKI, to sign documents whose bytes or chain a test controls. ----

const subtle = webcrypto.subtle;
const T0 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;
interface Node {
  cert: X509Certificate;
  der: Uint8Array;
  keys: webcrypto.CryptoKeyPair;
}

async function mint(o: {
  name: string;
  issuer?: Node;
  curve?: 'P-384' | 'P-256';
  ca: boolean;
  pathLength?: number;
  usages?: KeyUsageFlags;
  hash?: 'SHA-384' | 'SHA-256';
  from?: number;
  to?: number;
}): Promise<Node> {
  const keys = await subtle.generateKey({ name: 'ECDSA', namedCurve: o.curve ?? 'P-384' }, false, [
    'sign',
    'verify',
  ]);
  const usages = o.usages ?? (o.ca ? KeyUsageFlags.keyCertSign : KeyUsageFlags.digitalSignature);
  const common = {
    serialNumber: '01',
    notBefore: new Date(o.from ?? T0 - DAY),
    notAfter: new Date(o.to ?? T0 + DAY),
    signingAlgorithm: { name: 'ECDSA', hash: o.hash ?? 'SHA-384' },
    extensions: [
      new BasicConstraintsExtension(o.ca, o.pathLength, true),
      new KeyUsagesExtension(usages, true),
    ],
  };
  const cert = o.issuer
    ? await X509CertificateGenerator.create(
        {
          ...common,
          subject: `CN=${o.name}`,
          issuer: o.issuer.cert.subjectName,
          publicKey: keys.publicKey,
          signingKey: o.issuer.keys.privateKey,
        },
        webcrypto,
      )
    : await X509CertificateGenerator.createSelfSigned(
        { ...common, name: `CN=${o.name}`, keys },
        webcrypto,
      );
  return { cert, der: new Uint8Array(cert.rawData), keys };
}

function payloadFor(chain: Node[], edit: Partial<AttestationDocument> = {}): Uint8Array {
  return encodeAttestationDocument({
    module_id: 'test',
    digest: 'SHA384',
    timestamp: T0,
    pcrs: new Map([[0, new Uint8Array(48).fill(0x11)]]),
    certificate: chain[chain.length - 1]!.der,
    cabundle: chain.slice(0, -1).map((n) => n.der),
    public_key: null,
    user_data: null,
    nonce: null,
    ...edit,
  });
}

async function sign(
  leaf: Node,
  payload: Uint8Array,
  protectedBytes = es384ProtectedHeader(),
): Promise<Uint8Array> {
  const data = new Uint8Array(sigStructure(protectedBytes, payload));
  const signature = new Uint8Array(
    await subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, leaf.keys.privateKey, data),
  );
  return encodeCoseSign1({ protectedBytes, payload, signature });
}

describe('verifyAttestationDocument › documents signed by a test PKI', () => {
  let root: Node, inter: Node, leaf: Node, chain: Node[], policy: AttestationPolicy;
  before(async () => {
    root = await mint({ name: 'root', ca: true });
    inter = await mint({ name: 'inter', issuer: root, ca: true, pathLength: 0 });
    leaf = await mint({ name: 'leaf', issuer: inter, ca: false });
    chain = [root, inter, leaf];
    policy = { trustedRoots: [root.der], at: T0 };
  });

  it('a well-formed root → intermediate → leaf document verifies', async () => {
    await verifyAttestationDocument(await sign(leaf, payloadFor(chain)), policy);
  });

  it('an indefinite-length payload map verifies over its original bytes', async () => {
    const definite = payloadFor(chain);
    assert.equal(definite[0], 0xa9);
    const indefinite = concatBytes(
      new Uint8Array([0xbf]),
      definite.subarray(1),
      new Uint8Array([0xff]),
    );
    const res = await verifyAttestationDocument(await sign(leaf, indefinite), policy);
    assert.equal(res.document.module_id, 'test');
  });

  it('a payload with a duplicated key fails ERR_ATTESTATION_MALFORMED', async () => {
    const p = payloadFor(chain);
    const dup = concatBytes(
      new Uint8Array([0xaa]),
      p.subarray(1),
      encodeCbor('nonce'),
      new Uint8Array([0xf6]),
    );
    await assertFails(
      verifyAttestationDocument(await sign(leaf, dup), policy),
      'ERR_ATTESTATION_MALFORMED',
    );
  });

  const headers: [string, Uint8Array][] = [
    ['alg ES256 (-7)', encodeCbor(new Map([[1, -7]]))],
    [
      'an extra header parameter',
      encodeCbor(
        new Map<number, unknown>([
          [1, -35],
          [4, new Uint8Array(1)],
        ]),
      ),
    ],
    ['an empty protected header', new Uint8Array(0)],
  ];
  for (const [what, header] of headers) {
    it(`a protected header with ${what} fails ERR_ATTESTATION_COSE_ALG`, async () => {
      await assertFails(
        verifyAttestationDocument(await sign(leaf, payloadFor(chain), header), policy),
        'ERR_ATTESTATION_COSE_ALG',
      );
    });
  }

  it('a signature that is not 96 bytes fails ERR_ATTESTATION_SIGNATURE', async () => {
    const cose = decodeCoseSign1(await sign(leaf, payloadFor(chain)));
    const short = encodeCoseSign1({ ...cose, signature: cose.signature.subarray(1) });
    await assertFails(verifyAttestationDocument(short, policy), 'ERR_ATTESTATION_SIGNATURE');
  });

  it('a P-256 leaf fails ERR_ATTESTATION_SIGNATURE (ES384 needs a P-384 key)', async () => {
    const p256 = await mint({ name: 'leaf', issuer: inter, ca: false, curve: 'P-256' });
    const c = [root, inter, p256];
    const doc = encodeCoseSign1({
      protectedBytes: es384ProtectedHeader(),
      payload: payloadFor(c),
      signature: new Uint8Array(96).fill(1),
    });
    await assertFails(verifyAttestationDocument(doc, policy), 'ERR_ATTESTATION_SIGNATURE');
  });

  const chainCases: [string, () => Promise<Node[]>][] = [
    [
      'the leaf is issued by a non-CA',
      async () => {
        const notCa = await mint({
          name: 'inter',
          issuer: root,
          ca: false,
          usages: KeyUsageFlags.keyCertSign,
        });
        return [root, notCa, await mint({ name: 'leaf', issuer: notCa, ca: false })];
      },
    ],
    [
      'an intermediate exceeds its issuer’s path length',
      async () => {
        const deeper = await mint({ name: 'inter2', issuer: inter, ca: true });
        return [root, inter, deeper, await mint({ name: 'leaf', issuer: deeper, ca: false })];
      },
    ],
    [
      'the issuer may not sign certificates',
      async () => {
        const noSign = await mint({
          name: 'inter',
          issuer: root,
          ca: true,
          usages: KeyUsageFlags.digitalSignature,
        });
        return [root, noSign, await mint({ name: 'leaf', issuer: noSign, ca: false })];
      },
    ],
    [
      'the leaf may not sign documents',
      async () => [
        root,
        inter,
        await mint({ name: 'leaf', issuer: inter, ca: false, usages: KeyUsageFlags.keyAgreement }),
      ],
    ],
    [
      'a certificate is signed with SHA-256',
      async () => [
        root,
        inter,
        await mint({ name: 'leaf', issuer: inter, ca: false, hash: 'SHA-256' }),
      ],
    ],
    [
      'an intermediate has a P-256 key',
      async () => {
        const p256 = await mint({ name: 'inter', issuer: root, ca: true, curve: 'P-256' });
        return [root, p256, await mint({ name: 'leaf', issuer: p256, ca: false })];
      },
    ],
    [
      'the issuer name does not match',
      async () => {
        const other = await mint({ name: 'other', issuer: root, ca: true });
        return [root, other, leaf];
      },
    ],
    [
      'a same-name intermediate with another key is inserted',
      async () => {
        const twin = await mint({ name: 'inter', issuer: root, ca: true, pathLength: 0 });
        return [root, twin, leaf];
      },
    ],
  ];
  for (const [what, build] of chainCases) {
    it(`when ${what} › fails ERR_ATTESTATION_CHAIN`, async () => {
      const c = await build();
      await assertFails(
        verifyAttestationDocument(await sign(c[c.length - 1]!, payloadFor(c)), policy),
        'ERR_ATTESTATION_CHAIN',
      );
    });
  }

  it('when the leaf’s issuer is missing from cabundle › fails ERR_ATTESTATION_CHAIN', async () => {
    await assertFails(
      verifyAttestationDocument(await sign(leaf, payloadFor([root, leaf])), policy),
      'ERR_ATTESTATION_CHAIN',
    );
  });

  it('an intermediate that expired before the verification time fails ERR_ATTESTATION_CERT_EXPIRED', async () => {
    const old = await mint({ name: 'inter', issuer: root, ca: true, to: T0 - 1 });
    const l = await mint({ name: 'leaf', issuer: old, ca: false });
    await assertFails(
      verifyAttestationDocument(await sign(l, payloadFor([root, old, l])), policy),
      'ERR_ATTESTATION_CERT_EXPIRED',
    );
  });

  it('a leaf not yet valid at the verification time fails ERR_ATTESTATION_CERT_EXPIRED', async () => {
    const early = await mint({ name: 'leaf', issuer: inter, ca: false, from: T0 + 1000 });
    await assertFails(
      verifyAttestationDocument(await sign(early, payloadFor([root, inter, early])), policy),
      'ERR_ATTESTATION_CERT_EXPIRED',
    );
  });

  it('a certificate that is not DER fails ERR_ATTESTATION_MALFORMED', async () => {
    const doc = await sign(leaf, payloadFor(chain, { certificate: utf8('not a certificate') }));
    await assertFails(verifyAttestationDocument(doc, policy), 'ERR_ATTESTATION_MALFORMED');
  });
});

describe('decodeCoseSign1 › strict structure', () => {
  const sig = new Uint8Array(96);
  const hdr = es384ProtectedHeader();
  const cases: [string, Uint8Array][] = [
    ['three elements', encodeCbor([hdr, new Map(), new Uint8Array(1)])],
    [
      'a protected header that is not a bstr',
      encodeCbor([new Map(), new Map(), new Uint8Array(1), sig]),
    ],
    [
      'a protected bstr that is not a map',
      encodeCbor([fromHex('01'), new Map(), new Uint8Array(1), sig]),
    ],
    [
      'a protected bstr that is not CBOR',
      encodeCbor([fromHex('ff'), new Map(), new Uint8Array(1), sig]),
    ],
    ['an unprotected header that is not a map', encodeCbor([hdr, [], new Uint8Array(1), sig])],
    ['a detached (null) payload', encodeCbor([hdr, new Map(), null, sig])],
    ['a text signature', encodeCbor([hdr, new Map(), new Uint8Array(1), 'sig'])],
    ['a map instead of an array', encodeCbor(new Map([[1, 2]]))],
    ['only the tag', fromHex('d2')],
  ];
  for (const [what, bytes] of cases) {
    it(`with ${what} › throws ERR_ATTESTATION_MALFORMED`, () => {
      assert.throws(
        () => decodeCoseSign1(bytes),
        (e: unknown) => e instanceof AttestationError && e.code === 'ERR_ATTESTATION_MALFORMED',
      );
    });
  }

  it('keeps the protected and payload bytes exactly as sent', () => {
    const payload = fromHex('bf6161f6ff');
    const msg = decodeCoseSign1(encodeCoseSign1({ protectedBytes: hdr, payload, signature: sig }));
    assert.deepEqual(msg.protectedBytes, hdr);
    assert.deepEqual(msg.payload, payload);
    assert.equal(
      toHex(sigStructure(hdr, payload)),
      '846a5369676e61747572653144a1013822404' + '5bf6161f6ff',
    );
  });
});

describe('pem', () => {
  it('derToPem › encodes empty DER as an empty block', () => {
    assert.equal(
      derToPem(new Uint8Array(0)),
      '-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n',
    );
  });

  it('pemToDer and derToPem › reject a label outside [A-Z0-9 ] with ERR_ATTESTATION_MALFORMED', () => {
    const isMalformed = (e: unknown): boolean =>
      e instanceof AttestationError && e.code === 'ERR_ATTESTATION_MALFORMED';
    assert.throws(() => derToPem(new Uint8Array(1), 'x-----'), isMalformed);
    assert.throws(() => pemToDer(AWS_NITRO_ROOT_G1_PEM, 'certificate'), isMalformed);
    assert.throws(() => pemToDer(42 as unknown as string), isMalformed);
    assert.throws(() => pemToDer('x'.repeat(70_000)), isMalformed);
  });
});

describe('decodeAttestationDocument › strict structure', () => {
  const base = decodeCoseSign1(read('evervault_beta_valid.cbor')).payload;
  const map = decodeCbor(base) as Map<string, unknown>;
  const variant = (edit: (m: Map<string, unknown>) => void): Uint8Array => {
    const m = new Map(map);
    edit(m);
    return encodeCbor(m);
  };
  /** The full document with `key` set to the raw CBOR `value` (for encodings cbor-x will not emit). */
  const raw = (key: string, value: Uint8Array, entries = 1): Uint8Array => {
    const m = new Map(map);
    m.delete(key);
    const enc = encodeCbor(m);
    return concatBytes(
      new Uint8Array([enc[0]! + entries]),
      enc.subarray(1),
      encodeCbor(key),
      value,
    );
  };
  const cases: [string, Uint8Array][] = [
    ['an unknown key', variant((m) => m.set('extra', 1))],
    ['a missing certificate', variant((m) => m.delete('certificate'))],
    ['a digest other than SHA384', variant((m) => m.set('digest', 'SHA256'))],
    ['a float timestamp', variant((m) => m.set('timestamp', 1.5))],
    ['a zero timestamp', variant((m) => m.set('timestamp', 0))],
    ['a text module_id that is empty', variant((m) => m.set('module_id', ''))],
    ['a 47-byte PCR', variant((m) => m.set('pcrs', new Map([[0, new Uint8Array(47)]])))],
    [
      'a PCR index of 32',
      variant((m) =>
        m.set(
          'pcrs',
          new Map([
            [0, new Uint8Array(48)],
            [32, new Uint8Array(48)],
          ]),
        ),
      ),
    ],
    ['no PCR0', variant((m) => m.set('pcrs', new Map([[1, new Uint8Array(48)]])))],
    ['an empty cabundle', variant((m) => m.set('cabundle', []))],
    ['a certificate over 1024 bytes', variant((m) => m.set('certificate', new Uint8Array(1025)))],
    ['a text nonce', variant((m) => m.set('nonce', 'abc'))],
    ['an empty public_key', variant((m) => m.set('public_key', new Uint8Array(0)))],
    ['an array instead of a map', encodeCbor([1, 2])],
    ['a tagged byte string', raw('nonce', fromHex('d84043010203'))],
    ['undefined', raw('nonce', fromHex('f7'))],
    ['a one-byte simple value', raw('nonce', fromHex('f810'))],
    ['invalid UTF-8 text', raw('module_id', fromHex('62c328'))],
    ['an indefinite-length byte string', raw('nonce', fromHex('5f4101ff'))],
    [
      'a duplicated key',
      raw('nonce', concatBytes(fromHex('f6'), encodeCbor('nonce'), fromHex('f6')), 2),
    ],
    ['a map key that is not text or an integer', raw('nonce', fromHex('a1f6f6'))],
    ['a reserved additional-information value', raw('nonce', fromHex('1c'))],
    ['a length past the end', raw('nonce', fromHex('5b00000000ffffffff'))],
    ['a stray break', raw('nonce', fromHex('ff'))],
    ['trailing bytes', concatBytes(base, fromHex('00'))],
    ['nesting deeper than 16', concatBytes(new Uint8Array(40).fill(0x81), new Uint8Array([0x00]))],
  ];
  for (const [what, bytes] of cases) {
    it(`with ${what} › throws ERR_ATTESTATION_MALFORMED`, () => {
      assert.throws(
        () => decodeAttestationDocument(bytes),
        (e: unknown) => e instanceof AttestationError && e.code === 'ERR_ATTESTATION_MALFORMED',
      );
    });
  }

  it('accepts the raw-entry helper’s own control case', () => {
    assert.equal(decodeAttestationDocument(raw('nonce', fromHex('f6'))).nonce, null);
  });

  it('accepts absent optional fields as null and 32/64-byte PCRs', () => {
    const m = new Map(map);
    m.delete('public_key');
    m.delete('user_data');
    m.delete('nonce');
    m.set(
      'pcrs',
      new Map([
        [0, new Uint8Array(32)],
        [1, new Uint8Array(64)],
      ]),
    );
    m.set('timestamp', BigInt(T0));
    const doc = decodeAttestationDocument(encodeCbor(m));
    assert.equal(doc.nonce, null);
    assert.equal(doc.public_key, null);
    assert.equal(doc.timestamp, T0);
    assert.equal(toHex(doc.pcrs.get(1)!), '00'.repeat(64));
  });
});
