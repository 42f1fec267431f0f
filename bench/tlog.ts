/**
 * Transparency-log tree (protocol §6) at 1,000,000 leaves, ours against merkletreejs configured for
 * RFC 6962, in one process on the same 32-byte leaves:
 *   build         CompactRange over all leaves, root only (leaf hash + append, nodePlatform)
 *   build-par     TreePool (src/cli/tree-pool.ts, what `perf-aggregator log consistency` rebuilds
 *                 a log with): aligned 2^16-leaf chunks hashed on worker_threads, merged with
 *                 appendSubtree; the pool is started before the clock, as an auditor keeps it
 *   append        one leaf at a time through CompactRange.append, storing every node it reports
 *                 in per-level typed arrays: what a log really does, and all a host needs to serve
 *   proofs        --proofs random inclusion proofs at the full size, served from the stored nodes
 *                 via inclusionProofPlan (plan + reads + assemble); then all verified, untimed
 *   peer          merkletreejs 0.6.0: leaves pre-hashed SHA-256(0x00 || leaf) here, hashLeaves
 *                 false, sortPairs false, node prefix 0x01 via its `concatenator` option, hash
 *                 fn createHash('sha256') (the primitive nodePlatform uses); proofs with
 *                 getProof(leaf, index) (without the index it scans every leaf)
 * Build rounds interleave ours and the peer (median of --rounds), so a burst of load from other
 * processes on this shared VM hits both alike. Roots must agree (the reference tree's sizes 0..8
 * and the full tree) and the first 50 peer proofs must equal ours, or the benchmark exits 1 before
 * printing figures. No timing assertions.
 * Flags: --n (leaves), --proofs, --rounds, --workers (0 = availableParallelism), --chunk-log2.
 *
 *   node node_modules/tsx/dist/cli.mjs bench/tlog.ts
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MerkleTree } from 'merkletreejs';
import { TreePool } from '../src/cli/tree-pool.js';
import { bytesEqual, fromHex, toHex } from '../src/common/bytes.js';
import { nodePlatform as P } from '../src/platform/node.js';
import { CompactRange } from '../src/tlog/compact-range.js';
import { leafHash } from '../src/tlog/hash.js';
import { inclusionProofPlan } from '../src/tlog/proof-plan.js';
import { verifyInclusion } from '../src/tlog/verify.js';
import { fig, intFlags, report, round, table, type Figures } from './lib/report.js';

const LEAF_SIZE = 32;
const PROOF_REPS = 5;

/** Leaf i: 32 bytes, the big-endian index in the first 4 and a fixed pattern after. */
function makeLeaves(n: number, shared = false): Uint8Array {
  const buf = new Uint8Array(
    shared ? new SharedArrayBuffer(n * LEAF_SIZE) : new ArrayBuffer(n * LEAF_SIZE),
  );
  const view = new DataView(buf.buffer);
  for (let i = 0; i < n; i++) {
    view.setUint32(i * LEAF_SIZE, i);
    buf.fill(0xa5, i * LEAF_SIZE + 4, (i + 1) * LEAF_SIZE);
  }
  return buf;
}
const leafAt = (leaves: Uint8Array, i: number): Uint8Array =>
  leaves.subarray(i * LEAF_SIZE, (i + 1) * LEAF_SIZE);

// --- node store: one typed array per level -----------------------------------------------------
class LevelStore {
  readonly levels: Uint8Array[] = [];
  constructor(n: number) {
    for (let count = n; count > 0; count = Math.floor(count / 2))
      this.levels.push(new Uint8Array(count * 32));
  }
  put(level: number, index: number, hash: Uint8Array): void {
    this.levels[level]!.set(hash, index * 32);
  }
  get(level: number, index: number): Uint8Array {
    return this.levels[level]!.subarray(index * 32, index * 32 + 32);
  }
}

// --- the peer --------------------------------------------------------------------------------------
const ZERO = Buffer.from([0]);
const ONE = Buffer.from([1]);
const sha256 = (d: Buffer): Buffer => createHash('sha256').update(d).digest();
const peerLeafHash = (leaf: Uint8Array): Buffer =>
  createHash('sha256').update(ZERO).update(leaf).digest();
function peerTree(leafHashes: Buffer[]): MerkleTree {
  return new MerkleTree(leafHashes, sha256, {
    hashLeaves: false,
    sortPairs: false,
    concatenator: (parts: Buffer[]) => Buffer.concat([ONE, ...parts]),
  });
}

// --- timing ------------------------------------------------------------------------------------------
interface Timed<T> {
  value: T;
  wallMs: number;
  cpuMs: number;
}
function timed<T>(f: () => T): Timed<T> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = f();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}
async function timedAsync<T>(f: () => Promise<T>): Promise<Timed<T>> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function fail(msg: string): never {
  process.stderr.write(`bench/tlog: ${msg}\n`);
  process.exit(1);
}

function buildRoot(leaves: Uint8Array, n: number): Uint8Array {
  const range = CompactRange.empty();
  for (let i = 0; i < n; i++) range.append(P, leafHash(P, leafAt(leaves, i)));
  return range.root(P);
}

function peerBuildTree(leaves: Uint8Array, n: number): MerkleTree {
  const hashes = new Array<Buffer>(n);
  for (let i = 0; i < n; i++) hashes[i] = peerLeafHash(leafAt(leaves, i));
  return peerTree(hashes);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** Median wall and CPU time of several runs; the value of the last. */
function med<T>(runs: Timed<T>[]): Timed<T> {
  return {
    value: runs.at(-1)!.value,
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
  };
}

function appendAndStore(leaves: Uint8Array, n: number, store: LevelStore): Uint8Array {
  const range = CompactRange.empty();
  for (let i = 0; i < n; i++) {
    for (const node of range.append(P, leafHash(P, leafAt(leaves, i))).newNodes)
      store.put(node.level, node.index, node.hash);
  }
  return range.root(P);
}

function serveProofs(
  store: LevelStore,
  indices: number[],
  size: number,
  cache?: Map<string, Uint8Array>,
): Uint8Array[][] {
  return indices.map((i) => {
    const plan = inclusionProofPlan(i, size);
    return plan.assemble(
      P,
      plan.nodes.map((id) => store.get(id.level, id.index)),
      cache,
    );
  });
}

async function main(): Promise<void> {
  const flags = intFlags({
    n: { def: 1_000_000, min: 2 },
    proofs: { def: 1_000, min: 1 },
    rounds: { def: 3, min: 1 },
    workers: { def: 0, min: 0 },
    'chunk-log2': { def: 16, min: 8 },
  });
  const n = flags.n;
  const workers = flags.workers || availableParallelism();
  const chunkLog2 = flags['chunk-log2'];

  // Correctness first: the peer's configuration must reproduce the RFC 6962 reference roots.
  const vectors = JSON.parse(
    readFileSync(new URL('../test/vectors/tlog/rfc6962_vectors.json', import.meta.url), 'utf8'),
  ) as { reference_tree: { leaves: string[]; roots: { tree_size: number; root: string }[] } };
  const refLeaves = vectors.reference_tree.leaves.map(fromHex);
  for (const { tree_size, root } of vectors.reference_tree.roots.filter((r) => r.tree_size > 0)) {
    const ours = CompactRange.empty();
    for (const l of refLeaves.slice(0, tree_size)) ours.append(P, leafHash(P, l));
    const peer = peerTree(refLeaves.slice(0, tree_size).map(peerLeafHash)).getRoot();
    if (toHex(ours.root(P)) !== root || peer.toString('hex') !== root) {
      fail(`root mismatch at reference size ${tree_size}`);
    }
  }

  process.stderr.write(`generating ${n} leaves…\n`);
  const leaves = makeLeaves(n, true);
  let seed = 0x9e3779b9;
  const rand = (): number =>
    (seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
  const indices = Array.from({ length: flags.proofs }, () => Math.floor(rand() * n));

  // Warm-up on a small tree, every code path.
  const warm = Math.min(n, 50_000);
  buildRoot(leaves, warm);
  appendAndStore(leaves, warm, new LevelStore(warm));
  peerBuildTree(leaves, warm);
  process.stderr.write(`starting ${workers} workers…\n`);
  // The auditor's parallel build (src/cli/tree-pool.ts) over the same entries.
  const ends = new Float64Array(new SharedArrayBuffer(n * 8));
  for (let i = 0; i < n; i++) ends[i] = (i + 1) * LEAF_SIZE;
  const pool = TreePool.start(workers, chunkLog2);
  const buildParallel = async (size: number): Promise<Uint8Array> =>
    (await pool.roots({ kind: 'entries', data: leaves, ends }, [size]))[0]!;
  await buildParallel(Math.min(n, 4 * 2 ** chunkLog2));

  // Build rounds, interleaved; medians.
  const runs = {
    build: [] as Timed<Uint8Array>[],
    par: [] as Timed<Uint8Array>[],
    append: [] as Timed<Uint8Array>[],
    peer: [] as Timed<null>[],
  };
  const store = new LevelStore(n);
  let tree: MerkleTree | null = null;
  for (let r = 0; r < flags.rounds; r++) {
    process.stderr.write(`build round ${r + 1}/${flags.rounds}…\n`);
    runs.build.push(timed(() => buildRoot(leaves, n)));
    runs.par.push(await timedAsync(() => buildParallel(n)));
    runs.append.push(timed(() => appendAndStore(leaves, n, store)));
    tree = null; // let the previous round's peer tree go before building the next
    const peerRun = timed(() => peerBuildTree(leaves, n));
    tree = peerRun.value;
    runs.peer.push({ ...peerRun, value: null });
  }
  await pool.close();
  const build = med(runs.build);
  const par = med(runs.par);
  const append = med(runs.append);
  const peerBuild = med(runs.peer);
  const root = append.value;
  for (const r of [build, par]) {
    if (!bytesEqual(r.value, root)) fail('our build paths disagree on the root');
  }
  const peer: MerkleTree = tree ?? fail('no merkletreejs tree');
  if (!bytesEqual(peer.getRoot(), root)) fail('merkletreejs root differs from ours');
  const peerLeaves = peer.getLeaves();

  // Proof batches, interleaved and repeated (median): ours from the stored nodes; ours with a
  // fresh ephemeral cache per batch (a host answering at its current size hashes each right-edge
  // node once); merkletreejs from its in-memory layers.
  process.stderr.write(`proofs: ${PROOF_REPS} × ${flags.proofs} each way…\n`);
  serveProofs(store, indices.slice(0, 50), n);
  serveProofs(store, indices.slice(0, 50), n, new Map());
  const proofRuns = {
    plain: [] as Timed<Uint8Array[][]>[],
    cached: [] as Timed<Uint8Array[][]>[],
    peer: [] as Timed<Buffer[][]>[],
  };
  for (let r = 0; r < PROOF_REPS; r++) {
    proofRuns.plain.push(timed(() => serveProofs(store, indices, n)));
    const cache = new Map<string, Uint8Array>();
    proofRuns.cached.push(timed(() => serveProofs(store, indices, n, cache)));
    proofRuns.peer.push(
      timed(() => indices.map((i) => peer.getProof(peerLeaves[i]!, i).map((p) => p.data))),
    );
  }
  const proofs = med(proofRuns.plain);
  const proofsCached = med(proofRuns.cached);
  const peerProofs = med(proofRuns.peer);
  const verifyAll = (): boolean =>
    proofs.value.every((proof, k) =>
      verifyInclusion(P, store.get(0, indices[k]!), indices[k]!, n, proof, root),
    );
  verifyAll(); // warm
  const verify = timed(verifyAll);
  if (!verify.value) fail('a served proof does not verify');
  const same = (a: Uint8Array[], b: Uint8Array[]): boolean =>
    a.length === b.length && a.every((h, j) => bytesEqual(h, b[j]!));
  for (let k = 0; k < indices.length; k++) {
    if (!same(proofsCached.value[k]!, proofs.value[k]!)) fail('cached and uncached proofs differ');
    if (k < 50 && !same(peerProofs.value[k]!, proofs.value[k]!)) {
      fail(`proof ${k} differs from merkletreejs`);
    }
  }

  const perProofUs = (t: Timed<unknown>): number => (t.wallMs * 1000) / flags.proofs;
  const row = (name: string, t: Timed<unknown>, note: string): (string | number)[] => [
    name,
    round(t.wallMs, t.wallMs < 1000 ? 1 : 0),
    round(t.cpuMs, t.cpuMs < 1000 ? 1 : 0),
    note,
  ];
  table(
    ['case', 'wall ms', 'CPU ms', 'note'],
    [
      row(
        'ours  build (CompactRange, root only)',
        build,
        `${round(n / build.wallMs, 0)} leaves/ms`,
      ),
      row(`ours  build, ${workers} workers (TreePool)`, par, 'CPU: main thread only'),
      row(
        'ours  append 1-by-1 + store nodes',
        append,
        `${round((append.wallMs * 1000) / n, 2)} µs/append`,
      ),
      row(
        `ours  ${flags.proofs} proofs from stored nodes`,
        proofs,
        `${round(perProofUs(proofs), 1)} µs/proof`,
      ),
      row(
        `ours  same, shared ephemeral cache`,
        proofsCached,
        `${round(perProofUs(proofsCached), 1)} µs/proof`,
      ),
      row(
        `ours  verify ${flags.proofs} proofs`,
        verify,
        `${round(perProofUs(verify), 1)} µs/proof`,
      ),
      row(
        'merkletreejs  build (RFC 6962 config)',
        peerBuild,
        `${round(n / peerBuild.wallMs, 0)} leaves/ms`,
      ),
      row(
        `merkletreejs  ${flags.proofs} getProof(leaf, index)`,
        peerProofs,
        `${round(perProofUs(peerProofs), 1)} µs/proof`,
      ),
    ],
  );
  const ratio = {
    build_vs_peer: round(peerBuild.wallMs / build.wallMs, 2),
    build_parallel_vs_peer: round(peerBuild.wallMs / par.wallMs, 2),
    append_store_vs_peer: round(peerBuild.wallMs / append.wallMs, 2),
    build_cpu_vs_peer: round(peerBuild.cpuMs / build.cpuMs, 2),
    proof_vs_peer: round(peerProofs.wallMs / proofs.wallMs, 2),
    proof_cached_vs_peer: round(peerProofs.wallMs / proofsCached.wallMs, 2),
  };
  process.stdout.write(
    `speed-up over merkletreejs (wall, goal ≥ 4×): build ${ratio.build_vs_peer}×, ` +
      `${workers}-worker build ${ratio.build_parallel_vs_peer}×, append+store ${ratio.append_store_vs_peer}×\n` +
      `proofs (goal < 100 µs): ${round(perProofUs(proofs), 1)} µs, ${round(perProofUs(proofsCached), 1)} µs with the cache\n`,
  );
  const figures: Figures = {
    leaves: fig(n, 'leaves', 0),
    build_ms: fig(build.wallMs, 'ms', 0),
    build_cpu_ms: fig(build.cpuMs, 'ms', 0),
    build_parallel_ms: fig(par.wallMs, 'ms', 0),
    build_parallel_workers: fig(workers, 'threads', 0),
    append_store_ms: fig(append.wallMs, 'ms', 0),
    append_us: fig((append.wallMs * 1000) / n, 'µs', 2),
    proof_us: fig(perProofUs(proofs), 'µs', 1),
    proof_cached_us: fig(perProofUs(proofsCached), 'µs', 1),
    verify_us: fig(perProofUs(verify), 'µs', 1),
  };
  const peerFigures: Figures = {
    build_ms: fig(peerBuild.wallMs, 'ms', 0),
    build_cpu_ms: fig(peerBuild.cpuMs, 'ms', 0),
    proof_us: fig(perProofUs(peerProofs), 'µs', 1),
  };
  report('tlog', figures, peerFigures, ratio);
}

await main();
