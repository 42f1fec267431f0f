/**
 * X.509 checks along `cabundle → certificate` (RFC 5280 §6.1, reduced to what a Nitro chain needs):
 * issuer/subject linkage, ECDSA P-384 / SHA-384 signatures, CA basic constraints, key usage and path
 * length, and validity at a given time. Trust is decided elsewhere (cabundle[0] byte-equal to a
 * pinned root); the root's self-signature is therefore not needed and not checked.
 */
import 'reflect-metadata'; // @peculiar/x509 resolves its algorithm registry through tsyringe
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509Certificate,
} from '@peculiar/x509';
import { malformed } from './errors.js';

const P384 = { name: 'ECDSA', namedCurve: 'P-384' } as const;
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';

// WebCrypto (Node >= 20 and browsers). Types are inferred: the Node tsconfig has no DOM lib.
const subtleCrypto = () => globalThis.crypto;

/**
 * Parses one DER certificate; throws only ERR_ATTESTATION_MALFORMED.
 * Attacker-controlled, parse defensively.
 *
 * @example
 * const leaf = parseCertificate(doc.certificate);
 */
export function parseCertificate(der: Uint8Array): X509Certificate {
  try {
    const cert = new X509Certificate(new Uint8Array(der));
    // Touch the lazily parsed fields now, so later checks cannot hit a parse error.
    void [
      cert.subject,
      cert.issuer,
      cert.notBefore,
      cert.notAfter,
      cert.signatureAlgorithm,
      cert.extensions,
    ];
    return cert;
  } catch (cause) {
    throw malformed(cause);
  }
}

/**
 * Imports a certificate's key as ECDSA P-384; rejects any other key type or curve.
 *
 * @example
 * const key = await importP384Key(leaf); // for crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-384' }, ...)
 */
export function importP384Key(cert: X509Certificate) {
  return cert.publicKey.export(P384, ['verify'], subtleCrypto());
}

function isEcdsaSha384(cert: X509Certificate): boolean {
  const alg = cert.signatureAlgorithm as { name?: unknown; hash?: { name?: unknown } };
  return alg.name === 'ECDSA' && alg.hash?.name === 'SHA-384';
}

/** `issuer` is a CA that may sign a certificate with `caBelow` more CA certificates under it. */
function mayIssue(issuer: X509Certificate, caBelow: number): boolean {
  const bc = issuer.getExtension<BasicConstraintsExtension>(OID_BASIC_CONSTRAINTS);
  if (!bc || !bc.ca) return false;
  if (bc.pathLength !== undefined && caBelow > bc.pathLength) return false;
  const ku = issuer.getExtension<KeyUsagesExtension>(OID_KEY_USAGE);
  return !ku || (ku.usages & KeyUsageFlags.keyCertSign) !== 0;
}

/**
 * True when every certificate after the first is issued and signed by the one before it, every issuer
 * is a CA allowed to issue it, and every signature is ECDSA P-384 with SHA-384. Never throws.
 *
 * @example
 * const ok = await verifyChainSignatures([...cabundle, leaf].map(parseCertificate));
 */
export async function verifyChainSignatures(chain: readonly X509Certificate[]): Promise<boolean> {
  if (chain.length < 2) return false;
  try {
    for (let i = 1; i < chain.length; i++) {
      const issuer = chain[i - 1]!;
      const child = chain[i]!;
      if (child.issuer !== issuer.subject || !isEcdsaSha384(child)) return false;
      if (!mayIssue(issuer, chain.length - 1 - i)) return false;
      const key = await importP384Key(issuer);
      if (!(await child.verify({ publicKey: key, signatureOnly: true }, subtleCrypto())))
        return false;
    }
    const leafUsage = chain[chain.length - 1]!.getExtension<KeyUsagesExtension>(OID_KEY_USAGE);
    return !leafUsage || (leafUsage.usages & KeyUsageFlags.digitalSignature) !== 0;
  } catch {
    return false;
  }
}

/**
 * True when `at` (ms since the epoch) lies within every certificate's notBefore..notAfter, inclusive.
 *
 * @example
 * validAt(chain, policy.at);
 */
export function validAt(chain: readonly X509Certificate[], at: number): boolean {
  return chain.every((c) => c.notBefore.getTime() <= at && at <= c.notAfter.getTime());
}
