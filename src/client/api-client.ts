/** HTTP calls of protocol v1, with an injected fetch and an explicit base URL. */
import { CodedError } from '../common/errors.js';
import type { RpcProgress } from '../wire/messages.js';
import type { Attestation, SealedCredentials } from './crypto-helper.js';

export class ApiCallError extends CodedError<string> {
  constructor(
    code: string,
    message: string,
    readonly status: number,
    readonly retryAfter?: number,
  ) {
    super(code, message);
  }
}

export interface SubmitMetadata {
  exchange: string;
  label: string;
  ttl: number;
}

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchImpl: typeof fetch,
  ) {}

  private async call<T>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    const res = await this.fetchImpl(this.baseUrl.replace(/\/$/, '') + path, {
      method,
      headers: {
        ...extraHeaders,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) {
      let code = 'HTTP_ERROR';
      let message = `HTTP ${res.status}`;
      try {
        const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        if (e?.code) code = e.code;
        if (e?.message) message = e.message;
      } catch {
        /* not a protocol error body */
      }
      const ra = res.headers.get('retry-after');
      throw new ApiCallError(code, message, res.status, ra === null ? undefined : Number(ra));
    }
    return (res.headers.get('content-type') ?? '').includes('json')
      ? (JSON.parse(text) as T)
      : (text as T);
  }

  quote(nonce?: string): Promise<Attestation> {
    return this.call(
      'GET',
      `/attestation/quote${nonce === undefined ? '' : `?nonce=${encodeURIComponent(nonce)}`}`,
    );
  }
  devRoot(): Promise<string> {
    return this.call('GET', '/attestation/dev-root');
  }
  submitKey(
    sealed: SealedCredentials,
    metadata: SubmitMetadata,
  ): Promise<{ session_id: string; expires_at: string }> {
    return this.call('POST', '/enclave/submit_key', { ...sealed, metadata });
  }
  requestAggregates(
    sessionId: string,
    range: { from?: string; to?: string } = {},
  ): Promise<AggregatesResponse> {
    return this.call('POST', '/enclave/request_aggregates', { session_id: sessionId, ...range });
  }
  /**
   * request_aggregates as a job (docs/api-extensions.md): asks with `Prefer: respond-async`, then
   * polls `GET /enclave/jobs/<id>` every `pollMs`, reporting progress, until the result or its
   * error. A fast computation answers at once, with no job.
   */
  async requestAggregatesJob(
    sessionId: string,
    opts: AggregatesJobOptions = {},
  ): Promise<AggregatesResponse> {
    const { from, to, daily, onProgress, pollMs = 500, sleep = defaultSleep } = opts;
    const first = await this.call<AggregatesResponse | JobView>(
      'POST',
      '/enclave/request_aggregates',
      {
        session_id: sessionId,
        ...(from !== undefined && { from }),
        ...(to !== undefined && { to }),
        ...(daily !== undefined && { daily }),
      },
      { prefer: 'respond-async, wait=1' },
    );
    if (!('job_id' in first)) return first;
    let job: JobView = first;
    for (;;) {
      if (job.progress) onProgress?.(job.progress);
      if (job.status === 'succeeded' && job.result) return job.result;
      if (job.status === 'failed')
        throw new ApiCallError(
          job.error?.code ?? 'INTERNAL',
          job.error?.message ?? 'job failed',
          0,
        );
      await sleep(pollMs);
      job = await this.call<JobView>('GET', `/enclave/jobs/${encodeURIComponent(job.job_id)}`);
    }
  }
  job(jobId: string): Promise<JobView> {
    return this.call('GET', `/enclave/jobs/${encodeURIComponent(jobId)}`);
  }
  revoke(sessionId: string): Promise<{ success: boolean; message: string }> {
    return this.call('POST', '/enclave/revoke', { session_id: sessionId });
  }
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Non-sensitive progress of a running job: the RPC's progress, relayed as is. */
export type JobProgress = RpcProgress;

export interface JobView {
  job_id: string;
  status: 'running' | 'succeeded' | 'failed';
  progress: JobProgress | null;
  created_at: string;
  finished_at: string | null;
  result?: AggregatesResponse;
  error?: { code: string; message: string };
}

export interface AggregatesJobOptions {
  from?: string;
  to?: string;
  /** include the daily equity series in the signed payload */
  daily?: boolean;
  onProgress?: (p: JobProgress) => void;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface AggregatesResponse {
  aggregates_signed: { signature: string; payload: Record<string, unknown> };
  logs_url: string;
}
