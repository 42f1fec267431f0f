/**
 * The client SDK. Browser-safe: WebCrypto/@noble only, no Node builtins, fetch injected.
 *
 * @example
 * import { CryptoHelper } from './src/client/crypto-helper.js';
 * const api = CryptoHelper.connect('http://localhost:3000');
 * const attestation = await api.quote();
 * const verdict = await CryptoHelper.verifyAttestation(attestation, attestation.image_hash, { trustedRoots: [devRootPem] });
 * const sealed = CryptoHelper.encryptCredentials({ exchange: 'binance', apiKey, apiSecret }, attestation.enclave_pubkey);
 */
import { AWS_NITRO_ROOT_G1_DER } from '../attestation/aws-root.js';
import { checkAttestationDocument, type AttestationVerdict } from '../attestation/nitro-verify.js';
import { pemToDer } from '../attestation/pem.js';
import { fromBase64, toBase64, utf8 } from '../common/bytes.js';
import { sealEnvelope } from '../crypto/envelope.js';
import { verifySignedJson, type SignedJson } from '../crypto/signed-json.js';
import type { Platform } from '../platform/types.js';
import { webPlatform } from '../platform/web.js';
import { ApiClient } from './api-client.js';
import {
  verifyAggregatesResponse,
  type AggregatesResponseV1,
  type AggregatesVerdict,
  type VerifyAggregatesOptions,
} from './verify-aggregates.js';

export interface Attestation {
  quote: string;
  enclave_pubkey: string;
  signing_pubkey: string;
  image_hash: string;
  format: 'aws-nitro' | 'dev';
}

export interface VerifyAttestationOptions {
  /** Trusted roots (PEM or DER). Default: the AWS Nitro Enclaves root G1 only. */
  trustedRoots?: (string | Uint8Array)[];
  /** Verification time in ms since the epoch. Default: now. */
  now?: number;
  /** The nonce sent with the quote request (raw bytes or standard base64). */
  nonce?: Uint8Array | string;
  /** Freshness bound, default 5 minutes. */
  maxAgeMs?: number;
  /** Accept debug-mode enclaves (PCR0 all zero). Default false. */
  allowDebug?: boolean;
  /** More PCRs to pin, index → hex. PCR0 is pinned to `expectedImageHash`. */
  expectedPcrs?: Record<number, string>;
}

export interface AttestationCheckResult {
  /** True only when every check passed (`ok` is the same, for symmetry with the verifier). */
  valid: boolean;
  ok: boolean;
  /** Every check by name (the verifier's, plus `image_hash`), with the error code of a failed one. */
  checks: { name: string; ok: boolean; code?: string; skipped?: true }[];
  document?: AttestationVerdict['document'];
}

export interface Credentials {
  exchange: string;
  apiKey: string;
  apiSecret: string;
  passphrase?: string;
}

export interface SealedCredentials {
  ephemeral_pub: string;
  nonce: string;
  ciphertext: string;
  tag: string;
  enclave_pubkey: string;
}

function malformedVerdict(name: string): AttestationCheckResult {
  return {
    ok: false,
    valid: false,
    checks: [{ name, ok: false, code: 'ERR_ATTESTATION_MALFORMED' }],
  };
}

export const CryptoHelper = {
  /** A small HTTP client for the service at `baseUrl` (Node needs an absolute base; browsers may pass ''). */
  connect(baseUrl: string, fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis)): ApiClient {
    return new ApiClient(baseUrl, fetchImpl);
  },

  /**
   * Verifies a quote (protocol §2) and returns a verdict naming every check. Never throws for a bad
   * document; `valid` is true only when every check passed. Only the roots given are trusted.
   */
  async verifyAttestation(
    attestation: Attestation,
    expectedImageHash: string,
    options: VerifyAttestationOptions = {},
  ): Promise<AttestationCheckResult> {
    let doc: Uint8Array, publicKey: Uint8Array, userData: Uint8Array, nonce: Uint8Array | undefined;
    try {
      doc = fromBase64(attestation.quote);
      publicKey = fromBase64(attestation.enclave_pubkey);
      userData = fromBase64(attestation.signing_pubkey);
      nonce = typeof options.nonce === 'string' ? fromBase64(options.nonce) : options.nonce;
    } catch {
      return malformedVerdict('encoding');
    }
    let roots: Uint8Array[];
    try {
      roots = (options.trustedRoots ?? [AWS_NITRO_ROOT_G1_DER]).map((r) =>
        typeof r === 'string' ? pemToDer(r) : r,
      );
    } catch {
      return malformedVerdict('trusted_roots');
    }
    const verdict = await checkAttestationDocument(doc, {
      trustedRoots: roots,
      at: options.now ?? Date.now(),
      ...(options.maxAgeMs !== undefined && { maxAgeMs: options.maxAgeMs }),
      allowDebug: options.allowDebug ?? false,
      expectedPcrs: { ...options.expectedPcrs, 0: expectedImageHash.toLowerCase() },
      expectedPublicKey: publicKey,
      expectedUserData: userData,
      ...(nonce !== undefined && { expectedNonce: nonce }),
    });
    const imageHashOk = attestation.image_hash.toLowerCase() === expectedImageHash.toLowerCase();
    const checks = [
      ...verdict.checks,
      {
        name: 'image_hash',
        ok: imageHashOk,
        ...(!imageHashOk && { code: 'ERR_ATTESTATION_PCR_MISMATCH' }),
      },
    ];
    const valid = verdict.ok && imageHashOk;
    return { ...verdict, ok: valid, valid, checks };
  },

  /** Seals credentials to the enclave key (protocol §3); the result is the submit_key body minus metadata. */
  encryptCredentials(
    credentials: Credentials,
    enclavePubkey: string,
    platform: Platform = webPlatform,
  ): SealedCredentials {
    const plain: Credentials = {
      exchange: credentials.exchange,
      apiKey: credentials.apiKey,
      apiSecret: credentials.apiSecret,
    };
    if (credentials.passphrase !== undefined) plain.passphrase = credentials.passphrase;
    const env = sealEnvelope(platform, fromBase64(enclavePubkey), utf8(JSON.stringify(plain)));
    return {
      ephemeral_pub: toBase64(env.ephemeralPub),
      nonce: toBase64(env.nonce),
      ciphertext: toBase64(env.ciphertext),
      tag: toBase64(env.tag),
      enclave_pubkey: enclavePubkey,
    };
  },

  /**
   * Verifies a whole `request_aggregates` response: attestation, key binding, signature, image hash,
   * inclusion proof and checkpoint, each named in the verdict.
   */
  verifyAggregates(
    response: AggregatesResponseV1,
    options: VerifyAggregatesOptions,
  ): Promise<AggregatesVerdict> {
    return verifyAggregatesResponse(response, options, (a, e, o) =>
      CryptoHelper.verifyAttestation(a, e, o),
    );
  },

  /** Checks the Ed25519 signature over JCS(payload) with the attested signing key. Returns false, never throws. */
  verifySignedAggregates(
    signed: SignedJson<unknown>,
    signingPubkey: string,
    platform: Platform = webPlatform,
  ): boolean {
    try {
      return verifySignedJson(platform, fromBase64(signingPubkey), signed);
    } catch {
      return false;
    }
  },
};
