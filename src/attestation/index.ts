/**
 * Attestation: the AWS Nitro Enclaves document format (protocol §2) and its verification.
 * Browser-safe: no Node builtins; trust roots and time are passed in.
 *
 * @example
 * import { verifyAttestationDocument, AWS_NITRO_ROOT_G1_DER } from './attestation/index.js';
 * const { imageHash } = await verifyAttestationDocument(quote, { trustedRoots: [AWS_NITRO_ROOT_G1_DER], at: Date.now() });
 */
export {
  AWS_NITRO_ROOT_G1_DER,
  AWS_NITRO_ROOT_G1_PEM,
  AWS_NITRO_ROOT_G1_SHA256,
} from './aws-root.js';
export { decodeCoseSign1, encodeCoseSign1, es384ProtectedHeader, sigStructure } from './cose.js';
export type { CoseSign1 } from './cose.js';
export { ATTESTATION_CODES, AttestationError } from './errors.js';
export type { AttestationCode } from './errors.js';
export { decodeAttestationDocument, encodeAttestationDocument } from './nitro-document.js';
export type { AttestationDocument } from './nitro-document.js';
export {
  checkAttestationDocument,
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_MAX_AGE_MS,
  verifyAttestationDocument,
} from './nitro-verify.js';
export type {
  AttestationCheck,
  AttestationPolicy,
  AttestationVerdict,
  CheckName,
  VerifiedAttestation,
} from './nitro-verify.js';
export { derToPem, pemToDer } from './pem.js';
