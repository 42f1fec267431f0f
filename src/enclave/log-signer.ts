/**
 * The enclave's half of the transparency log (protocol §6). The host stores the log; the enclave
 * alone signs tree heads, and only a head that extends the last one it signed or verified:
 *   - the host's stored checkpoint must carry this enclave's signature,
 *   - the host's frontier must hash to that checkpoint's root (so no stored leaf was edited),
 *   - and that head must be consistent with the last head this process signed (no rollback, no
 *     fork, no dropped or reordered leaves), proven with an RFC 9162 consistency proof when larger.
 * The last signed head lives in memory: a restarted enclave trusts the first correctly signed
 * head it is shown (witness cosigning would close that gap; see docs/threat-model.md).
 */
import { bytesEqual, fromBase64, toBase64, toHex } from '../common/bytes.js';
import { jcsBytes } from '../crypto/jcs.js';
import { verifySignedJson } from '../crypto/signed-json.js';
import type { Platform } from '../platform/types.js';
import { formatCheckpoint, openCheckpoint } from '../tlog/checkpoint.js';
import { CompactRange } from '../tlog/compact-range.js';
import { emptyRoot, leafHash } from '../tlog/hash.js';
import { noteKeyId } from '../tlog/note-key.js';
import { signNote } from '../tlog/note.js';
import { verifyConsistency } from '../tlog/verify.js';
import type { RpcRequestBody, RpcResponseBody } from '../wire/messages.js';
import { EnclaveError } from './errors.js';
import type { KeyRing } from './keyring.js';

export function logOrigin(ring: KeyRing): string {
  return `perf-aggregator/log/${ring.signingKeyId}`;
}

export function createLogSigner(platform: Platform) {
  let last: { size: number; root: Uint8Array } | null = null;
  // The last head the host showed back as stored. A head is signed before the host's transaction
  // commits; when that commit fails (the database restarted, the host crashed) the host can only
  // show the head before it again. Accepting exactly that one step back keeps the log live; it
  // gives a hostile host nothing it lacks already, since restarting the enclave forgets `last`
  // altogether (docs/threat-model.md, docs/reliability.md).
  let confirmed: { size: number; root: Uint8Array } | null = null;

  const fail = (code: 'LOG_HEAD_INVALID' | 'LOG_INCONSISTENT', message: string): never => {
    throw new EnclaveError(code, message);
  };

  return {
    append(ring: KeyRing, req: RpcRequestBody<'log_append'>): RpcResponseBody<'log_append'> {
      const origin = logOrigin(ring);
      let size = 0;
      let root = emptyRoot(platform);
      if (req.prev.checkpoint !== null) {
        const verifier = {
          name: origin,
          keyId: noteKeyId(platform, origin, ring.signing.publicKey),
          publicKey: ring.signing.publicKey,
        };
        try {
          const { checkpoint } = openCheckpoint(platform, req.prev.checkpoint, [verifier], origin);
          size = checkpoint.size;
          root = checkpoint.rootHash;
        } catch {
          return fail(
            'LOG_HEAD_INVALID',
            'stored checkpoint is not a checkpoint of this log signed by this enclave',
          );
        }
      }
      let range: CompactRange;
      try {
        range = CompactRange.fromFrontier(size, req.prev.frontier.map(fromBase64));
      } catch {
        return fail('LOG_HEAD_INVALID', 'stored frontier does not match the checkpoint');
      }
      if (!bytesEqual(range.root(platform), root))
        fail('LOG_HEAD_INVALID', 'stored frontier does not match the checkpoint');

      const abandonedOne =
        last !== null &&
        confirmed !== null &&
        last.size === confirmed.size + 1 &&
        size === confirmed.size &&
        bytesEqual(root, confirmed.root);
      if (last !== null && !abandonedOne) {
        if (size < last.size) fail('LOG_INCONSISTENT', 'the log was rolled back');
        if (size === last.size && !bytesEqual(root, last.root))
          fail('LOG_INCONSISTENT', 'the log was forked');
        // Every tree extends the empty one; past that, the host must prove the extension.
        if (size > last.size && last.size > 0) {
          const c = req.consistency;
          if (c === null || c.from_size !== last.size) {
            throw new EnclaveError('LOG_CONSISTENCY_REQUIRED', 'a consistency proof is required', {
              from_size: last.size,
            });
          }
          if (
            !verifyConsistency(platform, last.size, size, c.proof.map(fromBase64), last.root, root)
          ) {
            fail('LOG_INCONSISTENT', 'the stored log is not an extension of the last signed head');
          }
        }
      }

      confirmed = { size, root };
      let leafIndex: number | null = null;
      let leaf: Uint8Array | null = null;
      let nodes: { level: number; index: number; hash: Uint8Array }[] = [];
      if (req.entry !== null) {
        // Only results this enclave signed enter its log.
        if (!verifySignedJson(platform, ring.signing.publicKey, req.entry))
          fail('LOG_HEAD_INVALID', 'entry is not signed by this enclave');
        leaf = leafHash(
          platform,
          jcsBytes({ payload: req.entry.payload, signature: req.entry.signature }),
        );
        leafIndex = range.size;
        nodes = range.append(platform, leaf).newNodes;
        size = range.size;
        root = range.root(platform);
      }
      const checkpoint = signNote(
        platform,
        formatCheckpoint({ origin, size, rootHash: root, extensions: [] }),
        { name: origin, privateKey: ring.signing.privateKey },
      );
      last = { size, root };
      return {
        leaf_index: leafIndex,
        leaf_hash: leaf === null ? null : toHex(leaf),
        nodes: nodes.map((n) => ({ level: n.level, index: n.index, hash: toBase64(n.hash) })),
        size,
        root: toBase64(root),
        checkpoint,
      };
    },
  };
}
