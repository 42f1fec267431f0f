/**
 * A throwaway CA and one server certificate signed by it, for TLS endpoints that stand in for
 * exchanges or AWS in tests. The peer trusts the CA through NODE_EXTRA_CA_CERTS (Node's standard
 * setting) or a request's `ca` option; production code has no hook for it.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import {
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
} from '@peculiar/x509';
import { derToPem } from '../../src/attestation/pem.js';

export interface TestPki {
  caPem: string;
  certPem: string;
  keyPem: string;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export async function makeTestPki(dnsNames: readonly string[] = ['localhost']): Promise<TestPki> {
  const c = webcrypto;
  const caKeys = await c.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = Date.now();
  const ca = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=perf-aggregator egress test CA',
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 3_600_000),
      keys: caKeys,
      signingAlgorithm: ALG,
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign, true),
      ],
    },
    c,
  );
  const leafKeys = await c.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const leaf = await X509CertificateGenerator.create(
    {
      serialNumber: '02',
      subject: `CN=${dnsNames[0]}`,
      issuer: ca.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 3_600_000),
      publicKey: leafKeys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALG,
      extensions: [
        new SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns', value }))),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      ],
    },
    c,
  );
  const pkcs8 = new Uint8Array(await c.subtle.exportKey('pkcs8', leafKeys.privateKey));
  return {
    caPem: ca.toString('pem'),
    certPem: leaf.toString('pem'),
    keyPem: derToPem(pkcs8, 'PRIVATE KEY'),
  };
}
