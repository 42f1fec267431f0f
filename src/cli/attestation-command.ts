/**
 * `perf-aggregator attestation verify <file> [--root PEM] [--at T] [--expect-pcr0 HEX]
 *  [--allow-debug] [--nonce HEX]`: verifies one Nitro attestation document offline and prints the
 * decoded document and a verdict naming every check. Exit 0 only when the document is valid.
 * The default trust anchor is the AWS Nitro root G1 embedded in the SDK, itself checked against its
 * pinned SHA-256 before use.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AWS_NITRO_ROOT_G1_DER, AWS_NITRO_ROOT_G1_SHA256 } from '../attestation/aws-root.js';
import { parseCertificate } from '../attestation/cert-chain.js';
import type { AttestationDocument } from '../attestation/nitro-document.js';
import { checkAttestationDocument, type AttestationPolicy } from '../attestation/nitro-verify.js';
import { pemToDer } from '../attestation/pem.js';
import { fromBase64, fromHex, toHex } from '../common/bytes.js';

type Out = (v: unknown) => void;
interface Check {
  name: string;
  ok: boolean;
  code?: string;
  skipped?: true;
}

export class AttestationUsageError extends Error {}

const USAGE =
  'attestation verify <file (raw CBOR, base64, or a quote JSON)> [--root PEM] [--at <ISO time or ms>] ' +
  '[--expect-pcr0 HEX] [--allow-debug] [--nonce HEX]';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const B64_TEXT = /^[A-Za-z0-9+/=\s]+$/;

/**
 * Raw CBOR (a COSE_Sign1 starts with 0x84, or 0xd2 when tagged), its base64 text, or the JSON of
 * `GET /attestation/quote` (its `quote` field).
 */
export function readDocument(bytes: Uint8Array): Uint8Array {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (bytes[0] === 0x7b) {
    let quote: unknown;
    try {
      quote = (JSON.parse(text) as { quote?: unknown }).quote;
    } catch {
      throw new AttestationUsageError('the file starts like JSON but does not parse');
    }
    if (typeof quote !== 'string')
      throw new AttestationUsageError('the JSON has no "quote" string');
    return readDocument(new TextEncoder().encode(quote));
  }
  if (bytes.length > 0 && bytes[0] !== 0x84 && bytes[0] !== 0xd2 && B64_TEXT.test(text)) {
    try {
      return fromBase64(text.replace(/\s+/g, ''));
    } catch {
      throw new AttestationUsageError('the file is neither raw CBOR nor canonical base64');
    }
  }
  return bytes;
}

function parseAt(s: string | undefined, now: number): number {
  if (s === undefined) return now;
  if (/^[0-9]{1,16}$/.test(s)) return Number(s);
  const t = Date.parse(s);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(s) || Number.isNaN(t))
    throw new AttestationUsageError(
      '--at must be an ISO 8601 time or milliseconds since the epoch',
    );
  return t;
}

function hexArg(s: string | undefined, name: string, re: RegExp): Uint8Array | undefined {
  if (s === undefined) return undefined;
  if (!re.test(s)) throw new AttestationUsageError(`--${name} must be hex (${re.source})`);
  return fromHex(s.toLowerCase());
}

const hexOrNull = (b: Uint8Array | null): string | null => (b === null ? null : toHex(b));

function describeCert(der: Uint8Array): Record<string, string> {
  try {
    const c = parseCertificate(der);
    return {
      subject: c.subject,
      issuer: c.issuer,
      not_before: c.notBefore.toISOString(),
      not_after: c.notAfter.toISOString(),
      sha256: sha256(der),
    };
  } catch {
    return { sha256: sha256(der), error: 'does not parse' };
  }
}

/** The decoded document as JSON. Nothing here is authentic unless the verdict is valid. */
function describeDocument(doc: AttestationDocument): Record<string, unknown> {
  return {
    module_id: doc.module_id,
    digest: doc.digest,
    timestamp: doc.timestamp,
    timestamp_iso: new Date(doc.timestamp).toISOString(),
    pcrs: Object.fromEntries([...doc.pcrs].map(([i, v]) => [String(i), toHex(v)])),
    certificate: describeCert(doc.certificate),
    cabundle: doc.cabundle.map(describeCert),
    public_key: hexOrNull(doc.public_key),
    user_data: hexOrNull(doc.user_data),
    nonce: hexOrNull(doc.nonce),
  };
}

/**
 * Runs `attestation <sub> …`. Returns the exit code: 0 valid, 1 invalid; usage errors throw
 * AttestationUsageError (exit 2 in main).
 *
 * @example
 * await attestationCommand(['verify', 'quote.cbor', '--at', '2024-11-30T16:22:48Z'], console.log);
 */
export async function attestationCommand(
  argv: string[],
  out: Out,
  now: () => number = Date.now,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'verify') throw new AttestationUsageError(USAGE);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        root: { type: 'string' },
        at: { type: 'string' },
        'expect-pcr0': { type: 'string' },
        'allow-debug': { type: 'boolean', default: false },
        nonce: { type: 'string' },
      },
    });
  } catch (e) {
    throw new AttestationUsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new AttestationUsageError(USAGE);
  const at = parseAt(values.at, now());
  const pcr0 = hexArg(values['expect-pcr0'], 'expect-pcr0', /^[0-9a-fA-F]{96}$/);
  const nonce = hexArg(values.nonce, 'nonce', /^(?:[0-9a-fA-F]{2}){1,1024}$/);
  const doc = readDocument(new Uint8Array(readFileSync(positionals[0]!)));

  let root: Uint8Array;
  let rootCheck: Check;
  if (values.root !== undefined) {
    try {
      root = pemToDer(readFileSync(values.root, 'utf8'));
    } catch {
      throw new AttestationUsageError('--root must be a PEM certificate file');
    }
    rootCheck = { name: 'root_pin', ok: true };
  } else {
    // The embedded root must still be the certificate AWS publishes (docs: "Verifying the root of trust").
    root = AWS_NITRO_ROOT_G1_DER;
    const ok = sha256(root) === AWS_NITRO_ROOT_G1_SHA256;
    rootCheck = ok
      ? { name: 'root_pin', ok }
      : { name: 'root_pin', ok, code: 'ERR_ATTESTATION_UNTRUSTED_ROOT' };
  }
  const policy: AttestationPolicy = {
    trustedRoots: [root],
    at,
    allowDebug: values['allow-debug'] === true,
    ...(pcr0 && { expectedPcrs: { 0: toHex(pcr0) } }),
    ...(nonce && { expectedNonce: nonce }),
  };
  const verdict = await checkAttestationDocument(doc, policy);
  const checks: Check[] = [rootCheck, ...verdict.checks];
  const valid = verdict.ok && rootCheck.ok;
  out({
    valid,
    verified_at: new Date(at).toISOString(),
    trust_root: {
      source: values.root === undefined ? 'aws-nitro-root-g1 (embedded, pinned)' : values.root,
      sha256: sha256(root),
      aws_pinned_sha256: AWS_NITRO_ROOT_G1_SHA256,
    },
    policy: {
      expect_pcr0: pcr0 ? toHex(pcr0) : null,
      allow_debug: policy.allowDebug,
      nonce: nonce ? toHex(nonce) : null,
    },
    checks,
    document: verdict.document ? describeDocument(verdict.document) : null,
  });
  return valid ? 0 : 1;
}
