/** The pages' one way to the API: the SDK's client with the page's own origin (base ''). */
import { ApiCallError, type ApiClient } from '../../src/client/api-client.js';
import { CryptoHelper } from '../../src/client/crypto-helper.js';

export function api(): ApiClient {
  return CryptoHelper.connect('');
}

/** The protocol code of a failed call, `NETWORK` when the service was not reached at all. */
export function errorCode(e: unknown): { code: string; retryAfter?: number } {
  if (e instanceof ApiCallError)
    return {
      code: e.code,
      ...(e.retryAfter !== undefined &&
        Number.isFinite(e.retryAfter) && { retryAfter: e.retryAfter }),
    };
  return { code: e instanceof TypeError ? 'NETWORK' : 'HTTP_ERROR' };
}

/** GET a public log resource as JSON; throws ApiCallError like the SDK does. */
export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const text = await res.text();
  if (!res.ok) {
    let code = 'HTTP_ERROR';
    let message = `HTTP ${res.status}`;
    try {
      const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
      if (err?.code) code = err.code;
      if (err?.message) message = err.message;
    } catch {
      /* not a protocol error body */
    }
    const ra = res.headers.get('retry-after');
    throw new ApiCallError(code, message, res.status, ra === null ? undefined : Number(ra));
  }
  return JSON.parse(text) as T;
}
