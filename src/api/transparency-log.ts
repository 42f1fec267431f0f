/**
 * The host's side of the transparency log: it asks the enclave to extend the stored head, stores
 * what the enclave reports, and serves proofs from stored nodes. It computes no tree hash of its own
 * except the ephemeral right-edge nodes of a proof, which clients verify against a signed root anyway.
 */
import { fromBase64, fromHex, toBase64, toHex } from '../common/bytes.js';
import type { Platform } from '../platform/types.js';
import type { LogAppend, LogHead, LogStore, Sequencer } from '../store/log-store.js';
import { alignedRangeNodes } from '../tlog/node-id.js';
import { consistencyProofPlan, inclusionProofPlan } from '../tlog/proof-plan.js';
import type { SignedAggregates } from '../wire/messages.js';
import { EnclaveCallError } from './enclave-client.js';
import type { EnclaveLink } from './enclave-link.js';
import { ApiError } from './errors.js';

export interface LogEntryProof {
  leaf_index: number;
  tree_size: number;
  merkle_root: string;
  inclusion_proof: string[];
  checkpoint: string;
}

export type TransparencyLog = ReturnType<typeof createTransparencyLog>;

export function createTransparencyLog(deps: {
  enclave: Pick<EnclaveLink, 'call'>;
  logStore: LogStore;
  platform: Platform;
}) {
  const { enclave, logStore, platform } = deps;

  const b64 = (hashes: Uint8Array[]): string[] => hashes.map(toBase64);

  /** Asks the enclave to sign on top of `head`, supplying a consistency proof if it asks for one. */
  async function extend(seq: Sequencer, head: LogHead | null, entry: SignedAggregates | null) {
    const prev = {
      checkpoint: head?.checkpoint ?? null,
      frontier: b64(await seq.nodes(alignedRangeNodes(0, head?.size ?? 0))),
    };
    try {
      return await enclave.call('log_append', { prev, consistency: null, entry });
    } catch (e) {
      const from =
        e instanceof EnclaveCallError && e.code === 'LOG_CONSISTENCY_REQUIRED'
          ? e.detail?.['from_size']
          : undefined;
      if (from === undefined || head === null) throw e;
      const plan = consistencyProofPlan(from, head.size);
      const proof = plan.assemble(platform, await seq.nodes(plan.nodes));
      return enclave.call('log_append', {
        prev,
        consistency: { from_size: from, proof: b64(proof) },
        entry,
      });
    }
  }

  async function inclusion(
    leafIndex: number,
    head: LogHead,
    read: (ids: Parameters<LogStore['nodes']>[0]) => Promise<Uint8Array[]>,
  ): Promise<LogEntryProof> {
    const plan = inclusionProofPlan(leafIndex, head.size);
    const proof = plan.assemble(platform, await read(plan.nodes));
    return {
      leaf_index: leafIndex,
      tree_size: head.size,
      merkle_root: toHex(head.root),
      inclusion_proof: proof.map(toHex),
      checkpoint: head.checkpoint,
    };
  }

  return {
    /** Makes sure a signed (possibly empty) head exists, so the checkpoint endpoint always answers. */
    async ensureHead(): Promise<LogHead> {
      return logStore.sequence(async (seq) => {
        const existing = await seq.head();
        if (existing) return existing;
        const r = await extend(seq, null, null);
        const head = { size: r.size, root: fromBase64(r.root), checkpoint: r.checkpoint };
        await seq.initHead(head);
        return head;
      });
    },

    /** Appends a signed aggregate and stores it with its leaf; returns its inclusion proof. */
    async append(
      sessionId: string,
      signed: SignedAggregates,
      computedAt: Date,
      payloadJson: string,
      history?: LogAppend['history'],
    ): Promise<LogEntryProof> {
      return logStore.sequence(async (seq) => {
        await seq.lockActiveSession(sessionId);
        let head = await seq.head();
        if (!head) {
          const r = await extend(seq, null, null);
          head = { size: r.size, root: fromBase64(r.root), checkpoint: r.checkpoint };
          await seq.initHead(head);
        }
        const r = await extend(seq, head, signed);
        if (r.leaf_index === null || r.leaf_hash === null) throw new ApiError('INTERNAL');
        const next = { size: r.size, root: fromBase64(r.root), checkpoint: r.checkpoint };
        await seq.append({
          leaf: {
            index: r.leaf_index,
            hash: fromHex(r.leaf_hash),
            sessionId,
            account: signed.payload.account,
          },
          nodes: r.nodes.map((n) => ({ level: n.level, index: n.index, hash: fromBase64(n.hash) })),
          head: next,
          aggregate: { payloadJson, signature: signed.signature, computedAt },
          ...(history && { history }),
        });
        return inclusion(r.leaf_index, next, (ids) => seq.nodes(ids));
      });
    },

    /** Inclusion proof of a leaf at the current head. */
    async proveInclusion(
      leafIndex: number,
      treeSize?: number,
    ): Promise<Omit<LogEntryProof, 'checkpoint' | 'merkle_root'> & Partial<LogEntryProof>> {
      const head = await logStore.head();
      if (!head) throw new ApiError('NOT_FOUND');
      const size = treeSize ?? head.size;
      if (!(leafIndex < size && size <= head.size))
        throw new ApiError(
          'INVALID_REQUEST',
          'need leaf_index < tree_size ≤ the current tree size',
        );
      if (size === head.size) return inclusion(leafIndex, head, (ids) => logStore.nodes(ids));
      const plan = inclusionProofPlan(leafIndex, size);
      return {
        leaf_index: leafIndex,
        tree_size: size,
        inclusion_proof: plan.assemble(platform, await logStore.nodes(plan.nodes)).map(toHex),
      };
    },

    async proveConsistency(
      from: number,
      to: number,
    ): Promise<{ from: number; to: number; proof: string[] }> {
      const head = await logStore.head();
      if (!head || !(from >= 1 && from <= to && to <= head.size))
        throw new ApiError('INVALID_REQUEST', 'need 1 ≤ from ≤ to ≤ the current tree size');
      const plan = consistencyProofPlan(from, to);
      return {
        from,
        to,
        proof: plan.assemble(platform, await logStore.nodes(plan.nodes)).map(toHex),
      };
    },

    head: () => logStore.head(),
  };
}
