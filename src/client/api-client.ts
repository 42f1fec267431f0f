/** HTTP calls of protocol v1, with an injected fetch and an explicit base URL. */
import { CodedError } from '../common/errors.js';
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

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await this.fetchImpl(this.baseUrl.replace(/\/$/, '') + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
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
  revoke(sessionId: string): Promise<{ success: boolean; message: string }> {
    return this.call('POST', '/enclave/revoke', { session_id: sessionId });
  }
}

export interface AggregatesResponse {
  aggregates_signed: { signature: string; payload: Record<string, unknown> };
  logs_url: string;
}
