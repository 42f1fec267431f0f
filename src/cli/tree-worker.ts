/**
 * Worker thread of the tree pool (tree-pool.ts): hashes one chunk of leaves into its compact range
 * and posts back the chunk's perfect subtrees. The chunk starts at a multiple of the chunk size,
 * a power of two, so the subtrees can be appended to the whole tree's range as they are.
 */
import { parentPort } from 'node:worker_threads';
import { nodePlatform as P } from '../platform/node.js';
import { CompactRange } from '../tlog/compact-range.js';
import { HASH_SIZE, leafHash } from '../tlog/hash.js';
import type { ChunkJob, ChunkResult } from './tree-pool.js';

parentPort!.on('message', (job: ChunkJob) => {
  const data = new Uint8Array(job.data);
  const ends = job.ends ? new Float64Array(job.ends) : null;
  const range = CompactRange.empty();
  for (let i = job.begin; i < job.end; i++) {
    const hash = ends
      ? leafHash(P, data.subarray(i === 0 ? 0 : ends[i - 1], ends[i]))
      : data.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
    range.append(P, hash);
  }
  const levels = range.frontierIds().map((id) => id.level);
  const result: ChunkResult = {
    id: job.id,
    subtrees: range.frontier().map((hash, k) => ({ level: levels[k]!, hash })),
  };
  parentPort!.postMessage(result);
});
