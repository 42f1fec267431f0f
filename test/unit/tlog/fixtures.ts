/** Shared helpers of the tlog tests: vector loading and an in-memory node store. */
import { readFileSync } from 'node:fs';
import type { Platform } from '../../../src/platform/types.js';
import { CompactRange } from '../../../src/tlog/compact-range.js';
import type { NodeId } from '../../../src/tlog/node-id.js';
import type { ProofPlan } from '../../../src/tlog/proof-plan.js';

export function loadVectors<T>(file: string): T {
  return JSON.parse(
    readFileSync(new URL(`../../vectors/tlog/${file}`, import.meta.url), 'utf8'),
  ) as T;
}

export interface InclusionVector {
  leaf_index: number;
  tree_size: number;
  leaf_hash: string;
  root: string;
  proof: string[];
  source_leaf_index_1based?: number;
}
export interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[];
}
export interface Rfc6962Vectors {
  hasher_vectors: {
    desc: string;
    kind: 'empty_root' | 'leaf' | 'node';
    input_hex?: string;
    left_hex?: string;
    right_hex?: string;
    expected: string;
  }[];
  reference_tree: {
    leaves: string[];
    leaf_hashes: string[];
    node_hashes_by_level: string[][];
    roots: { tree_size: number; root: string }[];
  };
  inclusion_proofs: InclusionVector[];
  consistency_proofs: ConsistencyVector[];
  derived: {
    inclusion_proofs_all_8: InclusionVector[];
    consistency_proofs_all_8: ConsistencyVector[];
    roots_d_byte_i: { roots: { tree_size: number; root: string }[] };
  };
  verification_probes: {
    inclusion: (InclusionVector & { file: string; desc: string; want_error: boolean })[];
    consistency: (ConsistencyVector & { file: string; desc: string; want_error: boolean })[];
  };
}

/** What a host keeps: every perfect-subtree node reported by the appends. */
export class NodeStore {
  private readonly map = new Map<string, Uint8Array>();
  put(id: NodeId, hash: Uint8Array): void {
    const key = `${id.level}/${id.index}`;
    if (this.map.has(key)) throw new Error(`node ${key} reported twice`);
    this.map.set(key, hash);
  }
  get(id: NodeId): Uint8Array {
    const h = this.map.get(`${id.level}/${id.index}`);
    if (!h) throw new Error(`node ${id.level}/${id.index} not stored`);
    return h;
  }
  get size(): number {
    return this.map.size;
  }
  serve(platform: Platform, plan: ProofPlan): Uint8Array[] {
    return plan.assemble(
      platform,
      plan.nodes.map((id) => this.get(id)),
    );
  }
}

/** Appends every leaf hash through a compact range, storing the nodes each append completes. */
export function buildLog(
  platform: Platform,
  leafHashes: readonly Uint8Array[],
): { store: NodeStore; range: CompactRange } {
  const store = new NodeStore();
  const range = CompactRange.empty();
  for (const h of leafHashes)
    for (const n of range.append(platform, h).newNodes) store.put(n, n.hash);
  return { store, range };
}

/** Deterministic distinct 32-byte leaf hashes (the tree shape is what the tests exercise). */
export function fakeLeafHashes(platform: Platform, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, i);
    out.push(platform.sha256(b));
  }
  return out;
}
