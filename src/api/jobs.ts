/**
 * Background computations of `request_aggregates` (the job endpoint). A download can outlast any
 * sensible HTTP timeout, so the host runs the enclave call as a job that outlives the request:
 * the request waits for it as long as the client allows, a client that prefers an asynchronous
 * answer polls `GET /enclave/jobs/<id>`, and a client that retries the same request attaches to the
 * running job instead of starting a second download.
 *
 * Jobs live in this host's memory (finished ones for `retentionMs`): the durable result is the
 * logged aggregate, which every host serves. Behind a load balancer, polling needs sticky routing
 * to the host that answered 202 (docs/architecture.md).
 */
import { randomBytes } from 'node:crypto';
import type { RpcProgress } from '../wire/messages.js';
import { formatTime } from '../common/time.js';

export type JobStatus = 'running' | 'succeeded' | 'failed';

/** What `GET /enclave/jobs/<id>` shows: nothing secret, and no session id. */
export interface JobView<T> {
  job_id: string;
  status: JobStatus;
  progress: RpcProgress | null;
  created_at: string;
  finished_at: string | null;
  result?: T;
  error?: { code: string; message: string };
}

interface Job<T> {
  id: string;
  key: string;
  status: JobStatus;
  progress: RpcProgress | null;
  createdAt: number;
  finishedAt: number | null;
  result?: T;
  error?: unknown;
  done: Promise<void>;
}

export interface JobRegistryOptions {
  /** how long a finished job stays readable */
  retentionMs: number;
  /** at most this many jobs are kept; the oldest finished ones go first */
  maxJobs: number;
  now: () => number;
  /** maps a failure to the code and message a client may see */
  describeError: (e: unknown) => { code: string; message: string };
}

export class JobRegistry<T> {
  private readonly jobs = new Map<string, Job<T>>();
  private readonly running = new Map<string, Job<T>>();

  constructor(private readonly opts: JobRegistryOptions) {}

  /**
   * The running job for `key` (the same request for the same session), or a new one running
   * `work`. Returns null when the registry is full of running jobs.
   */
  start(
    key: string,
    work: (onProgress: (p: RpcProgress) => void) => Promise<T>,
  ): { id: string; wait(ms: number): Promise<boolean> } | null {
    let job = this.running.get(key);
    if (!job) {
      this.evict();
      if (this.jobs.size >= this.opts.maxJobs) return null;
      const j: Job<T> = {
        id: randomBytes(16).toString('base64url'),
        key,
        status: 'running',
        progress: null,
        createdAt: this.opts.now(),
        finishedAt: null,
        done: Promise.resolve(),
      };
      j.done = work((p) => (j.progress = p)).then(
        (result) => this.finish(j, 'succeeded', { result }),
        (error: unknown) => this.finish(j, 'failed', { error }),
      );
      this.jobs.set(j.id, j);
      this.running.set(key, j);
      job = j;
    }
    const j = job;
    return {
      id: j.id,
      /** true when the job finished within `ms` */
      wait: async (ms) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
        const finished = await Promise.race([j.done.then(() => true as const), timeout]);
        clearTimeout(timer);
        return finished;
      },
    };
  }

  /** The job's result (throws its failure) once finished. */
  outcome(id: string): T {
    const j = this.jobs.get(id);
    if (!j || j.status === 'running') throw new Error('job is not finished');
    if (j.status === 'failed') throw j.error;
    return j.result as T;
  }

  view(id: string): JobView<T> | null {
    this.evict();
    const j = this.jobs.get(id);
    if (!j) return null;
    return {
      job_id: j.id,
      status: j.status,
      progress: j.progress,
      created_at: formatTime(j.createdAt),
      finished_at: j.finishedAt === null ? null : formatTime(j.finishedAt),
      ...(j.status === 'succeeded' && { result: j.result as T }),
      ...(j.status === 'failed' && { error: this.opts.describeError(j.error) }),
    };
  }

  get size(): number {
    return this.jobs.size;
  }

  /** Waits up to `ms` for every running job to finish; true when none is left running. */
  async drain(ms: number): Promise<boolean> {
    const running = [...this.running.values()].map((j) => j.done);
    if (running.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
    const all = Promise.all(running).then(() => true as const);
    const done = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return done;
  }

  private finish(j: Job<T>, status: JobStatus, out: { result?: T; error?: unknown }): void {
    j.status = status;
    j.finishedAt = this.opts.now();
    Object.assign(j, out);
    if (this.running.get(j.key) === j) this.running.delete(j.key);
  }

  /** Drops finished jobs past retention, then the oldest finished ones while over the cap. */
  private evict(): void {
    const now = this.opts.now();
    const finished = [...this.jobs.values()].filter((j) => j.finishedAt !== null);
    for (const j of finished) {
      if (now - j.finishedAt! > this.opts.retentionMs) this.jobs.delete(j.id);
    }
    const rest = finished.filter((j) => this.jobs.has(j.id));
    for (const j of rest.sort((a, b) => a.finishedAt! - b.finishedAt!)) {
      if (this.jobs.size < this.opts.maxJobs) break;
      this.jobs.delete(j.id);
    }
  }
}
