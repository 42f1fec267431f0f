/**
 * Human text for every protocol error code (protocol §7, docs/errors.md) and every named check the
 * pages show. Pure data: test/browser/messages.test.ts fails when a code of src/api/errors.ts or an
 * attestation check has no entry here.
 */

/** What to tell a person for each API error code. Never includes anything from the request. */
export const API_MESSAGES: Record<string, string> = {
  INVALID_REQUEST: 'The service rejected the request as malformed. Check the form and try again.',
  DECRYPTION_FAILED:
    'The enclave could not open the sealed keys. Nothing was stored. Reload the page to get a fresh enclave key and try again.',
  UNKNOWN_ENCLAVE_KEY:
    'The enclave key changed since this page verified it (the service restarted with a new release). Verify again and resubmit.',
  UNKNOWN_EXCHANGE: 'This exchange is not supported by the service.',
  EXCHANGE_MISMATCH: 'The sealed keys name a different exchange than the form. Please resubmit.',
  TTL_OUT_OF_RANGE: 'The chosen lifetime is outside what this service allows. Pick a shorter one.',
  SESSION_NOT_FOUND: 'The service does not know this session (it may have been purged).',
  NOT_FOUND: 'Nothing was found at this address.',
  SESSION_EXPIRED: 'This session has expired and its keys were purged. Submit your keys again.',
  SESSION_REVOKED: 'This session was revoked: its keys and result were purged.',
  PAYLOAD_TOO_LARGE: 'The request was too large. Are the keys pasted correctly?',
  UNSUPPORTED_MEDIA_TYPE: 'The service rejected the request format.',
  EXCHANGE_AUTH_FAILED:
    'The exchange rejected these API keys. Check the key and secret, and that the key is enabled with read permission.',
  KEY_NOT_READ_ONLY:
    'This API key can withdraw or transfer funds, so the service will not hold it. Create a key with read permission only (see the advice above) and submit that one.',
  RATE_LIMITED: 'Too many requests from your address.',
  INTERNAL: 'The service had an unexpected error. Nothing secret was exposed; please try again.',
  EXCHANGE_UNAVAILABLE: 'The exchange did not answer in time. Please try again later.',
  ENCLAVE_UNAVAILABLE: 'The enclave is restarting or busy.',
  STORE_UNAVAILABLE: 'The service’s database is unavailable. Nothing was half-stored.',
  // Not protocol codes: failures this page sees before or around a protocol answer.
  HTTP_ERROR: 'The service answered with an unexpected error.',
  NETWORK: 'Could not reach the service. Check your connection and try again.',
};

/** A message for an API failure; adds the wait from `Retry-After` when there is one. */
export function apiMessage(code: string, retryAfter?: number): string {
  const base = API_MESSAGES[code] ?? API_MESSAGES['HTTP_ERROR']!;
  if (retryAfter !== undefined && Number.isFinite(retryAfter) && retryAfter > 0)
    return `${base} Try again in ${Math.ceil(retryAfter)} s.`;
  if (code === 'RATE_LIMITED' || code === 'ENCLAVE_UNAVAILABLE' || code === 'STORE_UNAVAILABLE')
    return `${base} Try again in a moment.`;
  return base;
}

/** The attestation checks (protocol §2) as the connect page names them. */
export const ATTESTATION_CHECKS: Record<string, string> = {
  policy: 'Verification policy is well-formed',
  encoding: 'Quote fields are valid base64',
  trusted_roots: 'Trusted root certificate parses',
  structure: 'Attestation document parses (COSE_Sign1, CBOR)',
  cose_alg: 'Signature algorithm is ES384',
  root: 'Certificate chain ends in a root you trust',
  chain: 'Certificate chain signatures',
  validity: 'Certificates are valid now',
  signature: 'Document is signed by the enclave’s certificate',
  pcrs: 'Image hash (PCR0) equals the expected hash',
  debug: 'Not a debug-mode enclave',
  public_key: 'Key binding: the encryption key is the attested one',
  user_data: 'Key binding: the signing key is the attested one',
  nonce: 'Answers this page’s fresh nonce',
  freshness: 'Issued within the last 5 minutes',
  image_hash: 'Reported image hash equals the expected hash',
};

/** The result checks (verifyAggregates, plus this page's own) as the result pages name them. */
export const RESULT_CHECKS: Record<string, string> = {
  attestation: 'Attestation verifies under your root and expected image hash',
  key_binding: 'Signed by the attested enclave key',
  signature: 'Ed25519 signature over the metrics',
  image_hash: 'Computed by the expected enclave image',
  inclusion: 'Included in the transparency log (inclusion proof)',
  checkpoint: 'Log checkpoint signed by the enclave',
  structure: 'Result is well-formed',
  leaf_hash: 'Leaf hash matches the content',
  account: 'Belongs to this account',
  position: 'Is the log entry the link names',
};

/** Why a failed check failed, by the verifier's code (docs/errors.md). */
export const CHECK_CODES: Record<string, string> = {
  ERR_ATTESTATION_MALFORMED: 'the document or a field is malformed',
  ERR_ATTESTATION_COSE_ALG: 'the signature algorithm is not ES384',
  ERR_ATTESTATION_UNTRUSTED_ROOT: 'the root certificate is not one you trust',
  ERR_ATTESTATION_CHAIN: 'a certificate signature along the chain is wrong',
  ERR_ATTESTATION_CERT_EXPIRED: 'a certificate is not valid at this time',
  ERR_ATTESTATION_SIGNATURE: 'the document signature is wrong',
  ERR_ATTESTATION_PCR_MISMATCH: 'the image hash differs from the expected one',
  ERR_ATTESTATION_DEBUG: 'the enclave runs in debug mode',
  ERR_ATTESTATION_PUBLIC_KEY: 'the encryption key is not the attested one',
  ERR_ATTESTATION_USER_DATA: 'the signing key is not the attested one',
  ERR_ATTESTATION_NONCE: 'the nonce is not the one this page sent',
  ERR_ATTESTATION_STALE: 'the document is too old or from the future',
  ERR_ATTESTATION: 'the attestation does not verify',
  ERR_INVALID_ARGUMENT: 'the verification policy is invalid',
  ERR_KEY_BINDING: 'the signing key is not the attested one',
  ERR_SIGNATURE: 'the signature does not match the metrics',
  ERR_IMAGE_HASH: 'computed by another enclave image',
  ERR_TLOG_PROOF: 'the inclusion proof does not lead to the log root',
  ERR_TLOG_CHECKPOINT: 'the checkpoint signature or tree head is wrong',
  ERR_MALFORMED: 'the result is malformed',
  ERR_LEAF_HASH: 'the stated leaf hash is not the hash of the content',
  ERR_ACCOUNT: 'the entry belongs to another account',
  ERR_POSITION: 'the server answered with another entry',
};

export function checkLabel(table: Record<string, string>, name: string): string {
  return table[name] ?? name;
}
