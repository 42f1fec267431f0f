// The client integration example from the original specification, runnable against a local
// service. Node needs absolute URLs, so `fetch` below resolves paths against PERF_URL.
//
//   npm start                        # terminal 1: the service (dev enclave, PGlite)
//   npm run exchange:sim             # terminal 2: the simulated Binance (start the service with
//                                    #   EXCHANGE_BASE_URL_BINANCE set to the URL it prints)
//   npx tsx examples/quickstart.mjs  # terminal 3
//
// Credentials come from PERF_API_KEY / PERF_API_SECRET (default: the simulator's demo account).
import { CryptoHelper } from '../src/client/crypto-helper.js';

const base = process.env.PERF_URL ?? 'http://localhost:3000';
const fetch = async (path, init) => {
  const res = await globalThis.fetch(new URL(path, base), init);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return res;
};
const apiKey = process.env.PERF_API_KEY ?? 'demo-binance-key';
const apiSecret = process.env.PERF_API_SECRET ?? 'demo-binance-secret';

// 1. Verify the enclave attestation. In dev mode the root is the service's development CA, which
//    you must choose to trust; in production it is the AWS Nitro root, the default.
const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64');
const attestation = await fetch(`/attestation/quote?nonce=${encodeURIComponent(nonce)}`).then((r) =>
  r.json(),
);
const devRoot =
  attestation.format === 'dev'
    ? await fetch('/attestation/dev-root').then((r) => r.text())
    : undefined;
const verification = await CryptoHelper.verifyAttestation(attestation, attestation.image_hash, {
  nonce,
  ...(devRoot && { trustedRoots: [devRoot] }),
});
if (!verification.valid)
  throw new Error(`attestation failed: ${JSON.stringify(verification.checks)}`);

// 2. Encrypt credentials using X25519 ECDH + AES-GCM
const encrypted = CryptoHelper.encryptCredentials(
  { exchange: 'binance', apiKey, apiSecret },
  attestation.enclave_pubkey,
);

// 3. Submit encrypted credentials to the enclave
const response = await fetch('/enclave/submit_key', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({
    ...encrypted,
    metadata: { exchange: 'binance', label: 'main', ttl: 3600 },
  }),
});
const { session_id } = await response.json();

// 4. Request signed aggregates, and check the signature against the attested signing key
const aggregates = await fetch('/enclave/request_aggregates', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ session_id }),
}).then((r) => r.json());
const signatureValid = CryptoHelper.verifySignedAggregates(
  aggregates.aggregates_signed,
  attestation.signing_pubkey,
);

console.log(
  JSON.stringify(
    {
      session_id,
      signature_valid: signatureValid,
      aggregates_signed: aggregates.aggregates_signed,
    },
    null,
    2,
  ),
);
process.exit(signatureValid ? 0 : 1);
