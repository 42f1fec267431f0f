/**
 * Verification of public log entries in the visitor's browser (protocol §4, §6). The server is not
 * trusted: every answer is checked against the attested signing key and the expected image hash.
 *
 * - A live entry: the whole `verifyAggregates` verdict (attestation, key binding, signature, image
 *   hash, inclusion, checkpoint), plus: the stated leaf hash is the hash of the content, and the
 *   entry is the one the link names.
 * - A revoked entry: only its leaf hash remains; the page checks that this hash is in the log under
 *   a checkpoint the attested key signed.
 */
import { CryptoHelper } from '../../src/client/crypto-helper.js';
import { logOriginFor } from '../../src/client/verify-aggregates.js';
import { fromBase64, fromHex, toHex } from '../../src/common/bytes.js';
import { jcsBytes } from '../../src/crypto/jcs.js';
import { keyId } from '../../src/crypto/key-id.js';
import { verifySignedJson } from '../../src/crypto/signed-json.js';
import { webPlatform as P } from '../../src/platform/web.js';
import { openCheckpoint } from '../../src/tlog/checkpoint.js';
import { leafHash } from '../../src/tlog/hash.js';
import { noteKeyId } from '../../src/tlog/note-key.js';
import { verifyInclusion } from '../../src/tlog/verify.js';
import type { TrustState } from './trust.js';

export interface SignedAggregates {
  signature: string;
  payload: Record<string, unknown>;
}

/** `GET /api/log/entries/<leaf_index>` */
export interface LogEntry {
  leaf_index: number;
  leaf_hash: string;
  status: 'live' | 'revoked';
  logged_at: string;
  aggregates_signed: SignedAggregates | null;
  tree_size: number;
  merkle_root: string;
  inclusion_proof: string[];
  checkpoint: string;
}

/** `GET /api/log/accounts/<account>` */
export interface AccountHistory {
  account: string;
  tree_size: number;
  count: number;
  entries: Omit<LogEntry, 'tree_size' | 'merkle_root' | 'inclusion_proof' | 'checkpoint'>[];
}

export interface Check {
  name: string;
  ok: boolean;
  code?: string;
}

export interface EntryVerdict {
  valid: boolean;
  checks: Check[];
}

const check = (name: string, ok: boolean, code: string): Check =>
  ok ? { name, ok } : { name, ok, code };

function checkpointOk(entry: LogEntry, signingKey: Uint8Array): boolean {
  try {
    const origin = logOriginFor(P, signingKey);
    const verifier = {
      name: origin,
      keyId: noteKeyId(P, origin, signingKey),
      publicKey: signingKey,
    };
    const { checkpoint } = openCheckpoint(P, entry.checkpoint, [verifier], origin);
    return checkpoint.size === entry.tree_size && toHex(checkpoint.rootHash) === entry.merkle_root;
  } catch {
    return false;
  }
}

/** Verifies one entry as served by the log API. Never throws for bad input. */
export async function verifyEntry(
  entry: LogEntry,
  expectedIndex: number,
  trust: TrustState,
): Promise<EntryVerdict> {
  const checks: Check[] = [];
  try {
    if (entry.status === 'live' && entry.aggregates_signed) {
      const v = await CryptoHelper.verifyAggregates(
        {
          aggregates_signed: entry.aggregates_signed,
          merkle_root: entry.merkle_root,
          leaf_index: entry.leaf_index,
          tree_size: entry.tree_size,
          inclusion_proof: entry.inclusion_proof,
          checkpoint: entry.checkpoint,
        },
        {
          attestation: trust.attestation,
          expectedImageHash: trust.expectedImageHash,
          ...(trust.trustedRoots && { trustedRoots: trust.trustedRoots }),
          // The quote was fetched (and its freshness checked) just now: check it at this time.
          now: Date.now(),
        },
      );
      checks.push(...v.checks);
      checks.push(check('leaf_hash', v.leaf_hash === entry.leaf_hash, 'ERR_LEAF_HASH'));
    } else {
      const key = fromBase64(trust.attestation.signing_pubkey);
      checks.push(check('attestation', trust.verdict.valid, 'ERR_ATTESTATION'));
      checks.push(
        check(
          'inclusion',
          verifyInclusion(
            P,
            fromHex(entry.leaf_hash),
            entry.leaf_index,
            entry.tree_size,
            entry.inclusion_proof.map(fromHex),
            fromHex(entry.merkle_root),
          ),
          'ERR_TLOG_PROOF',
        ),
      );
      checks.push(check('checkpoint', checkpointOk(entry, key), 'ERR_TLOG_CHECKPOINT'));
    }
    checks.push(check('position', entry.leaf_index === expectedIndex, 'ERR_POSITION'));
  } catch {
    checks.push(check('structure', false, 'ERR_MALFORMED'));
  }
  return { valid: checks.every((c) => c.ok), checks };
}

/**
 * The checks an account history can make without one proof per entry: the entry is this account's,
 * its leaf hash is the hash of its content, and the attested key signed it. Inclusion and the
 * checkpoint are checked on the entry's own page (`/r/<leaf_index>`).
 */
export function verifyHistoryEntry(
  entry: AccountHistory['entries'][number],
  account: string,
  trust: TrustState,
): EntryVerdict {
  const checks: Check[] = [];
  try {
    if (entry.status !== 'live' || !entry.aggregates_signed) return { valid: true, checks };
    const signed = entry.aggregates_signed;
    const key = fromBase64(trust.attestation.signing_pubkey);
    checks.push(check('attestation', trust.verdict.valid, 'ERR_ATTESTATION'));
    checks.push(check('account', signed.payload['account'] === account, 'ERR_ACCOUNT'));
    checks.push(
      check('key_binding', signed.payload['key_id'] === keyId(P, key), 'ERR_KEY_BINDING'),
    );
    checks.push(check('signature', verifySignedJson(P, key, signed), 'ERR_SIGNATURE'));
    checks.push(
      check(
        'image_hash',
        signed.payload['image_hash'] === trust.expectedImageHash,
        'ERR_IMAGE_HASH',
      ),
    );
    const leaf = toHex(
      leafHash(P, jcsBytes({ payload: signed.payload, signature: signed.signature })),
    );
    checks.push(check('leaf_hash', leaf === entry.leaf_hash, 'ERR_LEAF_HASH'));
  } catch {
    checks.push(check('structure', false, 'ERR_MALFORMED'));
  }
  return { valid: checks.every((c) => c.ok), checks };
}
