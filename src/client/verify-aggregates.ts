/**
 * Verifies a `request_aggregates` response (protocol §4, §6) end to end and names each check:
 *   attestation  the quote verifies under the caller's root, at the caller's time
 *   key_binding  the payload's signing key is the attested `user_data` key (and `key_id` names it)
 *   signature    Ed25519 over JCS(payload) with that key
 *   image_hash   payload.image_hash is the expected PCR0
 *   inclusion    the leaf JCS({payload, signature}) is in the tree of `merkle_root` at `leaf_index`
 *   checkpoint   the C2SP checkpoint is signed by the same key and names `tree_size` and `merkle_root`
 * Browser-safe; never throws for bad input.
 */
import { fromBase64, fromHex, toHex } from '../common/bytes.js';
import { parseTime } from '../common/time.js';
import { jcsBytes } from '../crypto/jcs.js';
import { keyId } from '../crypto/key-id.js';
import { verifySignedJson } from '../crypto/signed-json.js';
import type { Platform } from '../platform/types.js';
import { webPlatform } from '../platform/web.js';
import { openCheckpoint } from '../tlog/checkpoint.js';
import { leafHash } from '../tlog/hash.js';
import { noteKeyId } from '../tlog/note-key.js';
import { verifyInclusion } from '../tlog/verify.js';
import type {
  Attestation,
  AttestationCheckResult,
  VerifyAttestationOptions,
} from './crypto-helper.js';

export interface AggregatesResponseV1 {
  aggregates_signed: { signature: string; payload: Record<string, unknown> };
  merkle_root: string;
  leaf_index: number;
  tree_size: number;
  inclusion_proof: string[];
  checkpoint: string;
}

export interface VerifyAggregatesOptions extends Omit<VerifyAttestationOptions, 'nonce'> {
  attestation: Attestation;
  expectedImageHash: string;
  platform?: Platform;
}

export interface AggregatesVerdict {
  valid: boolean;
  checks: { name: string; ok: boolean; code?: string }[];
  leaf_hash?: string;
}

/** The log origin a signing key signs checkpoints under (see src/enclave/log-signer.ts). */
export function logOriginFor(platform: Platform, signingPubkey: Uint8Array): string {
  return `perf-aggregator/log/${keyId(platform, signingPubkey)}`;
}

export async function verifyAggregatesResponse(
  response: AggregatesResponseV1,
  options: VerifyAggregatesOptions,
  verifyAttestation: (
    a: Attestation,
    expected: string,
    o: VerifyAttestationOptions,
  ) => Promise<AttestationCheckResult>,
): Promise<AggregatesVerdict> {
  const platform = options.platform ?? webPlatform;
  const checks: AggregatesVerdict['checks'] = [];
  const check = (name: string, ok: boolean, code: string): boolean => {
    checks.push(ok ? { name, ok } : { name, ok, code });
    return ok;
  };
  const { attestation, expectedImageHash, platform: _platform, ...attOptions } = options;
  // A saved result is verified later than it was made: by default the attestation is checked at
  // the time the result says it was computed, and freshness is not required.
  const computedAt = response.aggregates_signed?.payload?.['computed_at'];
  const at =
    attOptions.now ?? (typeof computedAt === 'string' ? parseTime(computedAt) : null) ?? undefined;
  const att = await verifyAttestation(attestation, expectedImageHash, {
    ...attOptions,
    ...(at !== undefined && { now: at }),
    maxAgeMs: attOptions.maxAgeMs ?? Number.MAX_SAFE_INTEGER,
  });
  check('attestation', att.valid, att.checks.find((c) => !c.ok)?.code ?? 'ERR_ATTESTATION');

  let signingKey: Uint8Array | null = null;
  let leaf: Uint8Array | null = null;
  try {
    signingKey = fromBase64(attestation.signing_pubkey);
    const p = response.aggregates_signed.payload;
    check('key_binding', p['key_id'] === keyId(platform, signingKey), 'ERR_KEY_BINDING');
    check(
      'signature',
      verifySignedJson(platform, signingKey, response.aggregates_signed),
      'ERR_SIGNATURE',
    );
    check(
      'image_hash',
      typeof p['image_hash'] === 'string' && p['image_hash'] === expectedImageHash.toLowerCase(),
      'ERR_IMAGE_HASH',
    );
    leaf = leafHash(
      platform,
      jcsBytes({ payload: p, signature: response.aggregates_signed.signature }),
    );
    const root = fromHex(response.merkle_root);
    const proof = response.inclusion_proof.map(fromHex);
    check(
      'inclusion',
      verifyInclusion(platform, leaf, response.leaf_index, response.tree_size, proof, root),
      'ERR_TLOG_PROOF',
    );
    const origin = logOriginFor(platform, signingKey);
    let cpOk = false;
    try {
      const verifier = {
        name: origin,
        keyId: noteKeyId(platform, origin, signingKey),
        publicKey: signingKey,
      };
      const { checkpoint } = openCheckpoint(platform, response.checkpoint, [verifier], origin);
      cpOk =
        checkpoint.size === response.tree_size &&
        toHex(checkpoint.rootHash) === response.merkle_root;
    } catch {
      cpOk = false;
    }
    check('checkpoint', cpOk, 'ERR_TLOG_CHECKPOINT');
  } catch {
    check('structure', false, 'ERR_MALFORMED');
  }
  const valid = checks.length > 0 && checks.every((c) => c.ok);
  return { valid, checks, ...(leaf && { leaf_hash: toHex(leaf) }) };
}
