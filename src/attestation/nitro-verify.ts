/**
 * Verification of a Nitro attestation document (protocol §2). Pure: trust roots and the verification
 * time come from the caller's policy; no clock is read and no network is used.
 *
 * Checks, in order (verify stops at the first failure, check runs all):
 *   structure  COSE_Sign1 + payload + certificates decode           ERR_ATTESTATION_MALFORMED
 *   cose_alg   protected header is exactly {1: -35} (ES384)         ERR_ATTESTATION_COSE_ALG
 *   root       cabundle[0] byte-equal to a trusted root             ERR_ATTESTATION_UNTRUSTED_ROOT
 *   chain      each certificate issued and signed by the previous   ERR_ATTESTATION_CHAIN
 *   validity   every certificate valid at policy.at                 ERR_ATTESTATION_CERT_EXPIRED
 *   signature  COSE signature by the leaf key (r||s, SHA-384)       ERR_ATTESTATION_SIGNATURE
 *   pcrs       the pinned PCRs equal policy.expectedPcrs            ERR_ATTESTATION_PCR_MISMATCH
 *   debug      PCR0 is not all zero, unless allowDebug              ERR_ATTESTATION_DEBUG
 *   public_key / user_data / nonce equal the expected values        ERR_ATTESTATION_PUBLIC_KEY / _USER_DATA / _NONCE
 *   freshness  at - maxAgeMs <= timestamp <= at + clockSkewMs       ERR_ATTESTATION_STALE
 */
import type { X509Certificate } from '@peculiar/x509';
import { ArgumentError } from '../common/assert.js';
import { bytesEqual, toHex } from '../common/bytes.js';
import { importP384Key, parseCertificate, validAt, verifyChainSignatures } from './cert-chain.js';
import { decodeCoseSign1, isEs384Header, sigStructure, type CoseSign1 } from './cose.js';
import { AttestationError, malformed, type AttestationCode } from './errors.js';
import { decodeAttestationDocument, type AttestationDocument } from './nitro-document.js';

export {
  AWS_NITRO_ROOT_G1_DER,
  AWS_NITRO_ROOT_G1_PEM,
  AWS_NITRO_ROOT_G1_SHA256,
} from './aws-root.js';

export const DEFAULT_MAX_AGE_MS = 300_000;
export const DEFAULT_CLOCK_SKEW_MS = 60_000;

export interface AttestationPolicy {
  /** DER certificates; cabundle[0] must be byte-equal to one of them. */
  trustedRoots: readonly Uint8Array[];
  /** Verification time, ms since the epoch. Required: this module never reads a clock. */
  at: number;
  /** Oldest accepted document age (default 5 minutes). */
  maxAgeMs?: number;
  /** How far in the future a timestamp may be (default 60 s). */
  clockSkewMs?: number;
  /** PCR index → lowercase or uppercase hex; every listed PCR must be present and equal. */
  expectedPcrs?: Readonly<Record<number, string>>;
  /** Accept debug-mode enclaves (PCR0 all zero). Default false. */
  allowDebug?: boolean;
  /** The nonce that was sent; `null` means none was sent and the document must carry none. */
  expectedNonce?: Uint8Array | null;
  expectedPublicKey?: Uint8Array;
  expectedUserData?: Uint8Array;
}

export type CheckName =
  | 'policy'
  | 'structure'
  | 'cose_alg'
  | 'root'
  | 'chain'
  | 'validity'
  | 'signature'
  | 'pcrs'
  | 'debug'
  | 'public_key'
  | 'user_data'
  | 'nonce'
  | 'freshness';

export interface AttestationCheck {
  name: CheckName;
  ok: boolean;
  /** Set when the check failed. */
  code?: AttestationCode | 'ERR_INVALID_ARGUMENT';
  /** Set when the check could not run because the document (or policy) did not parse. */
  skipped?: true;
}

export interface AttestationVerdict {
  ok: boolean;
  checks: AttestationCheck[];
  /** The decoded document, when it parsed (authentic only if `ok`). */
  document?: AttestationDocument;
}

export interface VerifiedAttestation {
  document: AttestationDocument;
  /** Lowercase hex of PCR0: the protocol's `image_hash`. */
  imageHash: string;
  /** PCR0 is all zero: a debug-mode enclave (only returned when the policy allows it). */
  debug: boolean;
}

interface Parsed {
  cose: CoseSign1;
  doc: AttestationDocument;
  /** cabundle (root first) followed by the leaf. */
  chain: X509Certificate[];
}

interface Check {
  name: CheckName;
  code: AttestationCode;
  run(p: Parsed, policy: AttestationPolicy): boolean | Promise<boolean>;
}

const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);
const matches = (expected: Uint8Array | undefined, actual: Uint8Array | null): boolean =>
  expected === undefined || (actual !== null && bytesEqual(expected, actual));

async function coseSignatureValid(p: Parsed): Promise<boolean> {
  if (p.cose.signature.length !== 96) return false;
  const key = await importP384Key(p.chain[p.chain.length - 1]!);
  const data = new Uint8Array(sigStructure(p.cose.protectedBytes, p.cose.payload));
  return globalThis.crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-384' },
    key,
    new Uint8Array(p.cose.signature),
    data,
  );
}

function pcrsMatch(doc: AttestationDocument, expected: AttestationPolicy['expectedPcrs']): boolean {
  for (const [index, hex] of Object.entries(expected ?? {})) {
    const actual = doc.pcrs.get(Number(index));
    if (!actual || toHex(actual) !== hex.toLowerCase()) return false;
  }
  return true;
}

function fresh(doc: AttestationDocument, policy: AttestationPolicy): boolean {
  const maxAge = policy.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const skew = policy.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  return doc.timestamp >= policy.at - maxAge && doc.timestamp <= policy.at + skew;
}

const CHECKS: readonly Check[] = [
  {
    name: 'cose_alg',
    code: 'ERR_ATTESTATION_COSE_ALG',
    run: (p) => isEs384Header(p.cose.protectedHeader),
  },
  {
    name: 'root',
    code: 'ERR_ATTESTATION_UNTRUSTED_ROOT',
    run: (p, pol) => pol.trustedRoots.some((r) => bytesEqual(r, p.doc.cabundle[0]!)),
  },
  { name: 'chain', code: 'ERR_ATTESTATION_CHAIN', run: (p) => verifyChainSignatures(p.chain) },
  {
    name: 'validity',
    code: 'ERR_ATTESTATION_CERT_EXPIRED',
    run: (p, pol) => validAt(p.chain, pol.at),
  },
  { name: 'signature', code: 'ERR_ATTESTATION_SIGNATURE', run: coseSignatureValid },
  {
    name: 'pcrs',
    code: 'ERR_ATTESTATION_PCR_MISMATCH',
    run: (p, pol) => pcrsMatch(p.doc, pol.expectedPcrs),
  },
  {
    name: 'debug',
    code: 'ERR_ATTESTATION_DEBUG',
    run: (p, pol) => pol.allowDebug === true || !isZero(p.doc.pcrs.get(0)!),
  },
  {
    name: 'public_key',
    code: 'ERR_ATTESTATION_PUBLIC_KEY',
    run: (p, pol) => matches(pol.expectedPublicKey, p.doc.public_key),
  },
  {
    name: 'user_data',
    code: 'ERR_ATTESTATION_USER_DATA',
    run: (p, pol) => matches(pol.expectedUserData, p.doc.user_data),
  },
  {
    name: 'nonce',
    code: 'ERR_ATTESTATION_NONCE',
    run: (p, pol) =>
      pol.expectedNonce === null ? p.doc.nonce === null : matches(pol.expectedNonce, p.doc.nonce),
  },
  { name: 'freshness', code: 'ERR_ATTESTATION_STALE', run: (p, pol) => fresh(p.doc, pol) },
];

function bad(name: string): never {
  throw new ArgumentError('ERR_INVALID_ARGUMENT', `policy.${name} is invalid`);
}

const isTime = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const optional = (v: unknown, ok: (x: unknown) => boolean): boolean => v === undefined || ok(v);
const isBytes = (v: unknown): boolean => v instanceof Uint8Array;

function assertPolicy(policy: AttestationPolicy): void {
  if (typeof policy !== 'object' || policy === null) bad('(policy)');
  const roots: unknown = policy.trustedRoots;
  if (
    !Array.isArray(roots) ||
    roots.length === 0 ||
    !roots.every((r) => isBytes(r) && r.length > 0)
  ) {
    bad('trustedRoots');
  }
  if (!isTime(policy.at)) bad('at');
  if (!optional(policy.maxAgeMs, isTime)) bad('maxAgeMs');
  if (!optional(policy.clockSkewMs, isTime)) bad('clockSkewMs');
  if (!optional(policy.allowDebug, (v) => typeof v === 'boolean')) bad('allowDebug');
  if (!optional(policy.expectedNonce, (v) => v === null || isBytes(v))) bad('expectedNonce');
  if (!optional(policy.expectedPublicKey, isBytes)) bad('expectedPublicKey');
  if (!optional(policy.expectedUserData, isBytes)) bad('expectedUserData');
  const pcrs: unknown = policy.expectedPcrs;
  if (pcrs === undefined) return;
  if (typeof pcrs !== 'object' || pcrs === null) bad('expectedPcrs');
  for (const [k, v] of Object.entries(pcrs)) {
    if (!/^(?:[0-9]|[12][0-9]|3[01])$/.test(k)) bad('expectedPcrs');
    if (typeof v !== 'string' || !/^(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$/.test(v))
      bad('expectedPcrs');
  }
}

function parse(bytes: Uint8Array): Parsed {
  try {
    const cose = decodeCoseSign1(bytes);
    const doc = decodeAttestationDocument(cose.payload);
    const chain = [...doc.cabundle, doc.certificate].map(parseCertificate);
    return { cose, doc, chain };
  } catch (e) {
    throw e instanceof AttestationError ? e : malformed(e);
  }
}

async function runChecks(
  p: Parsed,
  policy: AttestationPolicy,
  stopAtFirst: boolean,
): Promise<AttestationCheck[]> {
  const out: AttestationCheck[] = [{ name: 'structure', ok: true }];
  for (const check of CHECKS) {
    let ok = false;
    try {
      ok = await check.run(p, policy);
    } catch {
      ok = false; // a crypto or parsing exception inside a check is that check failing
    }
    out.push(ok ? { name: check.name, ok } : { name: check.name, ok, code: check.code });
    if (!ok && stopAtFirst) break;
  }
  return out;
}

/**
 * Verifies a Nitro attestation document against a policy and returns the authenticated document.
 * Throws AttestationError naming the first failed check, or ArgumentError for an invalid policy.
 *
 * @example
 * const { document, imageHash } = await verifyAttestationDocument(fromBase64(res.quote), {
 *   trustedRoots: [AWS_NITRO_ROOT_G1_DER],
 *   at: Date.now(),
 *   expectedPcrs: { 0: pinnedImageHash },
 *   expectedNonce: nonce,
 *   expectedPublicKey: fromBase64(res.enclave_pubkey),
 *   expectedUserData: fromBase64(res.signing_pubkey),
 * });
 */
export async function verifyAttestationDocument(
  doc: Uint8Array,
  policy: AttestationPolicy,
): Promise<VerifiedAttestation> {
  assertPolicy(policy);
  const parsed = parse(doc);
  const checks = await runChecks(parsed, policy, true);
  const failed = checks.find((c) => !c.ok);
  if (failed) throw new AttestationError(failed.code as AttestationCode);
  const pcr0 = parsed.doc.pcrs.get(0)!;
  return { document: parsed.doc, imageHash: toHex(pcr0), debug: isZero(pcr0) };
}

/**
 * Runs every check and reports each one; never throws. Useful for diagnostics and UIs: `ok` is true
 * exactly when verifyAttestationDocument would succeed.
 *
 * @example
 * const verdict = await checkAttestationDocument(quote, { trustedRoots: [AWS_NITRO_ROOT_G1_DER], at: Date.now() });
 * for (const c of verdict.checks) console.log(c.name, c.ok ? 'ok' : c.code);
 */
export async function checkAttestationDocument(
  doc: Uint8Array,
  policy: AttestationPolicy,
): Promise<AttestationVerdict> {
  const all: CheckName[] = ['policy', 'structure', ...CHECKS.map((c) => c.name)];
  const failAt = (name: CheckName, code: AttestationCheck['code']): AttestationVerdict => ({
    ok: false,
    checks: all.map((n, i): AttestationCheck => {
      const at = all.indexOf(name);
      if (i < at) return { name: n, ok: true };
      return i === at ? { name: n, ok: false, code } : { name: n, ok: false, skipped: true };
    }),
  });
  try {
    assertPolicy(policy);
  } catch {
    return failAt('policy', 'ERR_INVALID_ARGUMENT');
  }
  let parsed: Parsed;
  try {
    parsed = parse(doc);
  } catch {
    return failAt('structure', 'ERR_ATTESTATION_MALFORMED');
  }
  const checks: AttestationCheck[] = [
    { name: 'policy', ok: true },
    ...(await runChecks(parsed, policy, false)),
  ];
  return { ok: checks.every((c) => c.ok), checks, document: parsed.doc };
}
