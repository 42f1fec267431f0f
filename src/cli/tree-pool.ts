/**
 * RFC 6962 roots of large trees on worker threads, for auditors that rebuild a whole log from its
 * leaves (`perf-aggregator log consistency`). SHA-256 is the whole cost of a build, and node:crypto
 * hashes on the calling thread, so the only way to use more than one core is to split the leaves:
 * each worker reduces aligned chunks of 2^chunkLog2 leaves to their perfect subtrees, and the main
 * thread appends those subtrees in order (CompactRange.appendSubtree), which gives the same root
 * as a sequential build.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { nodePlatform as P } from '../platform/node.js';
import { CompactRange } from '../tlog/compact-range.js';
import { HASH_SIZE } from '../tlog/hash.js';

/** The leaves: packed 32-byte leaf hashes, or raw entries where entry i ends at `ends[i]`. */
export type LeafSource =
  { kind: 'hashes'; data: Uint8Array } | { kind: 'entries'; data: Uint8Array; ends: Float64Array };

export interface ChunkJob {
  id: number;
  begin: number;
  end: number;
  data: SharedArrayBuffer;
  ends: SharedArrayBuffer | null;
}
export interface ChunkResult {
  id: number;
  subtrees: { level: number; hash: Uint8Array }[];
}

/** Copies into shared memory unless the bytes already live there (workers see it without a copy). */
function shared(view: Uint8Array | Float64Array): SharedArrayBuffer {
  if (view.buffer instanceof SharedArrayBuffer && view.byteOffset === 0)
    return view.buffer as SharedArrayBuffer;
  const sab = new SharedArrayBuffer(view.byteLength);
  new Uint8Array(sab).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return sab;
}

function spawn(): Worker {
  // The bundled CLI ships the worker as dist/cli/tree-worker.js beside main.js. Run from source,
  // worker threads do not inherit tsx's loader hooks, so the worker registers tsx before loading.
  if (import.meta.url.endsWith('.ts')) {
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const worker = JSON.stringify(new URL('./tree-worker.ts', import.meta.url).href);
    return new Worker(`import(${tsx}).then((a) => { a.register(); return import(${worker}); });`, {
      eval: true,
    });
  }
  return new Worker(new URL('./tree-worker.js', import.meta.url));
}

export class TreePool {
  private constructor(
    private readonly workers: Worker[],
    private readonly chunkLog2: number,
  ) {}

  /** Starts `size` workers (default: one per core); chunks hold 2^chunkLog2 leaves. */
  static start(size = availableParallelism(), chunkLog2 = 16): TreePool {
    if (!Number.isInteger(size) || size < 1) throw new RangeError('pool size must be ≥ 1');
    return new TreePool(Array.from({ length: size }, spawn), chunkLog2);
  }

  /**
   * The Merkle Tree Hash of the first `sizes[k]` leaves, for each k. Full chunks are hashed once
   * and shared by every size.
   *
   * @example
   * const pool = TreePool.start();
   * const [root1, root2] = await pool.roots({ kind: 'hashes', data }, [from, to]);
   * await pool.close();
   */
  async roots(src: LeafSource, sizes: readonly number[]): Promise<Uint8Array[]> {
    const count = src.kind === 'hashes' ? src.data.length / HASH_SIZE : src.ends.length;
    if (!Number.isInteger(count) || sizes.some((s) => !Number.isInteger(s) || s < 0 || s > count))
      throw new RangeError('every size must be an integer in [0, number of leaves]');
    const chunk = 2 ** this.chunkLog2;
    const data = shared(src.data);
    const ends = src.kind === 'entries' ? shared(src.ends) : null;
    const jobs: ChunkJob[] = [];
    const fullChunks = Math.floor(Math.max(0, ...sizes) / chunk);
    for (let k = 0; k < fullChunks; k++)
      jobs.push({ id: k, begin: k * chunk, end: (k + 1) * chunk, data, ends });
    const partial = new Map<number, number>(); // size → job id of its last, partial chunk
    for (const s of new Set(sizes)) {
      if (s % chunk === 0) continue;
      partial.set(s, jobs.length);
      jobs.push({ id: jobs.length, begin: s - (s % chunk), end: s, data, ends });
    }
    const results = await this.run(jobs);
    return sizes.map((s) => {
      const range = CompactRange.empty();
      const parts = results.slice(0, Math.floor(s / chunk));
      const last = partial.get(s);
      if (last !== undefined) parts.push(results[last]!);
      for (const r of parts) for (const t of r.subtrees) range.appendSubtree(P, t.level, t.hash);
      return range.root(P);
    });
  }

  /** Hands jobs to idle workers until none are left. */
  private async run(jobs: ChunkJob[]): Promise<ChunkResult[]> {
    const results = new Array<ChunkResult>(jobs.length);
    let next = 0;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const done = (err?: Error): void => {
              w.off('message', onMessage);
              w.off('error', done);
              if (err) reject(err);
              else resolve();
            };
            const feed = (): void => {
              if (next >= jobs.length) done();
              else w.postMessage(jobs[next++]);
            };
            const onMessage = (r: ChunkResult): void => {
              results[r.id] = r;
              feed();
            };
            w.on('message', onMessage);
            w.on('error', done);
            feed();
          }),
      ),
    );
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
