/**
 * The development "Nitro Secure Module": produces attestation documents in exactly the AWS Nitro format
 * (protocol §2, `format: "dev"`), signed through a chain like AWS's:
 *   dev root CA (P-384, 10 years, created once under <dataDir>/dev-root/, key on disk, mode 0600)
 *   → intermediate CA (30 days, in memory) → leaf (3 hours, in memory, reissued before it expires).
 * It proves nothing about hardware: the root is a file on this machine. It exists so that clients and
 * tests exercise the same verification path as in production, with the dev root as trust anchor.
 */
import 'reflect-metadata'; // must precede @peculiar/x509 (tsyringe)
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
  type Extension,
  type JsonName,
} from '@peculiar/x509';
import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArgumentError } from '../common/assert.js';
import { bytesEqual, toHex } from '../common/bytes.js';
import { CodedError } from '../common/errors.js';
import { es384ProtectedHeader, encodeCoseSign1, sigStructure } from '../attestation/cose.js';
import { encodeAttestationDocument, MAX_USER_FIELD_BYTES } from '../attestation/nitro-document.js';
import { derToPem } from '../attestation/pem.js';

export type DevNsmCode = 'ERR_DEV_NSM_ROOT';
/** The dev root on disk is unusable (key and certificate disagree, unreadable, or not valid now). */
export class DevNsmError extends CodedError<DevNsmCode> {}

const crypto = webcrypto;
type CryptoKey = webcrypto.CryptoKey;
const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-384' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-384' } as const;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BACKDATE = 5 * MINUTE; // tolerate verifiers whose clock is a little behind
const ROOT_LIFETIME = 3652 * DAY;
const INTERMEDIATE_LIFETIME = 30 * DAY;
const LEAF_LIFETIME = 3 * HOUR;
const LEAF_RENEW_BEFORE = 30 * MINUTE;
const ORG = 'perf-aggregator (development, not trusted)';
const dn = (cn: string): JsonName => [{ CN: [cn] }, { O: [ORG] }];
const MODULE_ID_RE = /^[A-Za-z0-9._-]{1,64}$/;

export interface DevRoot {
  certDer: Uint8Array;
  pem: string;
}

interface Issuer {
  cert: X509Certificate;
  der: Uint8Array;
  key: CryptoKey;
}

interface Chain {
  intermediate: Issuer;
  leaf: Issuer;
}

const seconds = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
const serial = (): string => {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive INTEGER
  return toHex(b);
};

async function loadRoot(dir: string): Promise<DevRoot & { key: CryptoKey; cert: X509Certificate }> {
  const pem = await readFile(join(dir, 'root.pem'), 'utf8');
  const keyPem = await readFile(join(dir, 'root.key.pem'), 'utf8');
  try {
    const cert = new X509Certificate(pem);
    const spki = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
    if (!bytesEqual(new Uint8Array(spki), new Uint8Array(cert.publicKey.rawData)))
      throw new Error('key mismatch');
    const pkcs8 = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'der' });
    const key = await crypto.subtle.importKey('pkcs8', pkcs8, KEY_ALG, false, ['sign']);
    return { cert, key, certDer: new Uint8Array(cert.rawData), pem };
  } catch (cause) {
    throw new DevNsmError('ERR_DEV_NSM_ROOT', 'dev root CA files are unusable', { cause });
  }
}

async function createRootFiles(dataDir: string, now: number): Promise<string> {
  const keys = await crypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
  const cert = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: dn('perf-aggregator dev root'),
      notBefore: seconds(now - BACKDATE),
      notAfter: seconds(now + ROOT_LIFETIME),
      keys,
      signingAlgorithm: SIGN_ALG,
      extensions: [
        new BasicConstraintsExtension(true, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
        await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  const tmp = await mkdtemp(join(dataDir, '.dev-root-')); // mode 0700
  try {
    const key = join(tmp, 'root.key.pem');
    await writeFile(key, derToPem(pkcs8, 'PRIVATE KEY'), { mode: 0o600, flag: 'wx' });
    await chmod(key, 0o600); // whatever the umask
    await writeFile(join(tmp, 'root.pem'), derToPem(new Uint8Array(cert.rawData)), { flag: 'wx' });
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return tmp;
}

/**
 * Loads the development root CA from `<dataDir>/dev-root/`, creating it on first use: a self-signed
 * P-384 CA valid for 10 years (`root.pem`, `root.key.pem` as PKCS#8, mode 0600). The directory is
 * published with one atomic rename, so concurrent first starts agree on a single root.
 *
 * @example
 * const { pem } = await loadOrCreateDevRoot('/var/lib/perf-aggregator'); // served at GET /attestation/dev-root
 */
export async function loadOrCreateDevRoot(
  dataDir: string,
  opts: { now?: () => number } = {},
): Promise<DevRoot> {
  const { certDer, pem } = await loadOrCreate(dataDir, opts.now ?? Date.now);
  return { certDer, pem };
}

async function loadOrCreate(dataDir: string, now: () => number): ReturnType<typeof loadRoot> {
  const dir = join(dataDir, 'dev-root');
  try {
    return await loadRoot(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dataDir, { recursive: true });
  const tmp = await createRootFiles(dataDir, now());
  try {
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e; // otherwise another process won the race
  }
  return loadRoot(dir);
}

async function issue(
  issuer: { cert: X509Certificate; key: CryptoKey },
  subject: JsonName,
  now: number,
  lifetime: number,
  ca: boolean,
): Promise<Issuer> {
  const keys = await crypto.subtle.generateKey(KEY_ALG, false, ['sign', 'verify']);
  const extensions: Extension[] = [
    new BasicConstraintsExtension(ca, ca ? 0 : undefined, true),
    new KeyUsagesExtension(
      ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature,
      true,
    ),
    await SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
    await AuthorityKeyIdentifierExtension.create(issuer.cert, false, crypto),
  ];
  const cert = await X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject,
      issuer: issuer.cert.subjectName,
      notBefore: seconds(now - BACKDATE),
      notAfter: seconds(now + lifetime),
      publicKey: keys.publicKey,
      signingKey: issuer.key,
      signingAlgorithm: SIGN_ALG,
      extensions,
    },
    crypto,
  );
  return { cert, der: new Uint8Array(cert.rawData), key: keys.privateKey };
}

const validFor = (c: X509Certificate, from: number, to: number): boolean =>
  c.notBefore.getTime() <= from && to <= c.notAfter.getTime();

function checkBytes(v: unknown, name: string, min: number): Uint8Array | null {
  if (v === undefined || v === null) return null;
  if (!(v instanceof Uint8Array) || v.length < min || v.length > MAX_USER_FIELD_BYTES) {
    throw new ArgumentError(
      'ERR_INVALID_ARGUMENT',
      `${name} must be ${min}..${MAX_USER_FIELD_BYTES} bytes`,
    );
  }
  return new Uint8Array(v);
}

function checkPcrs(pcrs: Map<number, Uint8Array>): Map<number, Uint8Array> {
  const ok =
    pcrs instanceof Map &&
    pcrs.has(0) &&
    pcrs.size <= 32 &&
    [...pcrs].every(
      ([i, v]) =>
        Number.isInteger(i) &&
        i >= 0 &&
        i <= 31 &&
        v instanceof Uint8Array &&
        [32, 48, 64].includes(v.length),
    );
  if (!ok)
    throw new ArgumentError(
      'ERR_INVALID_ARGUMENT',
      'pcrs must map 0..31 (including 0) to 32/48/64 bytes',
    );
  return new Map([...pcrs].map(([i, v]) => [i, new Uint8Array(v)]));
}

export interface AttestRequest {
  publicKey?: Uint8Array | null;
  userData?: Uint8Array | null;
  nonce?: Uint8Array | null;
}

export interface DevNsm {
  /** The dev root certificate: the trust anchor a verifier pins in dev mode. */
  readonly rootPem: string;
  readonly rootDer: Uint8Array;
  /** Returns a Nitro-format attestation document (untagged COSE_Sign1) binding the given values. */
  attest(req?: AttestRequest): Promise<Uint8Array>;
}

export interface DevNsmOptions {
  dataDir: string;
  /** `module_id` in documents and the leaf's CN: 1..64 of [A-Za-z0-9._-]. */
  moduleId: string;
  /** PCR index → value; must include PCR0 (the code bundle's SHA-384). */
  pcrs: Map<number, Uint8Array>;
  /** Clock, ms since the epoch (default Date.now). */
  now?: () => number;
}

/**
 * Creates the development NSM. The leaf key never leaves memory; the leaf is reissued when less than
 * 30 minutes of its 3-hour validity remain, the intermediate when it cannot cover a new leaf.
 *
 * @example
 * const nsm = await createDevNsm({ dataDir, moduleId: 'perf-aggregator-dev-enclave', pcrs });
 * const quote = await nsm.attest({ publicKey: x25519Pub, userData: ed25519Pub, nonce });
 * await verifyAttestationDocument(quote, { trustedRoots: [nsm.rootDer], at: Date.now(), expectedNonce: nonce });
 */
export async function createDevNsm(opts: DevNsmOptions): Promise<DevNsm> {
  if (typeof opts.moduleId !== 'string' || !MODULE_ID_RE.test(opts.moduleId)) {
    throw new ArgumentError('ERR_INVALID_ARGUMENT', 'moduleId must be 1..64 of [A-Za-z0-9._-]');
  }
  const moduleId = opts.moduleId;
  const pcrs = checkPcrs(opts.pcrs);
  const now = opts.now ?? Date.now;
  const root = await loadOrCreate(opts.dataDir, now);
  if (!validFor(root.cert, now(), now())) {
    throw new DevNsmError('ERR_DEV_NSM_ROOT', 'dev root CA is not valid at the current time');
  }
  const protectedBytes = es384ProtectedHeader();

  async function renew(prev: Chain | null, t: number): Promise<Chain> {
    const intermediate =
      prev && validFor(prev.intermediate.cert, t, t + LEAF_LIFETIME)
        ? prev.intermediate
        : await issue(root, dn('perf-aggregator dev intermediate'), t, INTERMEDIATE_LIFETIME, true);
    const leaf = await issue(intermediate, dn(moduleId), t, LEAF_LIFETIME, false);
    return { intermediate, leaf };
  }

  let chain: Promise<Chain> = renew(null, now());

  async function current(t: number): Promise<Chain> {
    const c = await chain;
    if (validFor(c.leaf.cert, t, t + LEAF_RENEW_BEFORE)) return c;
    chain = renew(c, t);
    return chain;
  }

  return {
    rootPem: root.pem,
    rootDer: new Uint8Array(root.certDer),
    async attest(req: AttestRequest = {}): Promise<Uint8Array> {
      const publicKey = checkBytes(req.publicKey, 'publicKey', 1);
      const userData = checkBytes(req.userData, 'userData', 0);
      const nonce = checkBytes(req.nonce, 'nonce', 0);
      const t = Math.floor(now());
      const { intermediate, leaf } = await current(t);
      const payload = encodeAttestationDocument({
        module_id: moduleId,
        digest: 'SHA384',
        timestamp: t,
        pcrs,
        certificate: leaf.der,
        cabundle: [root.certDer, intermediate.der],
        public_key: publicKey,
        user_data: userData,
        nonce,
      });
      const toSign = new Uint8Array(sigStructure(protectedBytes, payload));
      const signature = new Uint8Array(await crypto.subtle.sign(SIGN_ALG, leaf.key, toSign));
      return encodeCoseSign1({ protectedBytes, payload, signature });
    },
  };
}
