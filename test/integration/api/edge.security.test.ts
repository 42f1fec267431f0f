import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { API_ERRORS } from '../../../src/api/errors.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';

describe('the HTTP edge: rate limits, CORS, health, metrics, error registry', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({
      config: {
        RATE_LIMIT_MAX: 3,
        RATE_LIMIT_WINDOW: 60_000,
        ALLOWED_ORIGINS: ['https://app.example'],
      },
    });
  });
  after(() => t.close());

  it('the request over RATE_LIMIT_MAX answers 429 RATE_LIMITED with Retry-After', async () => {
    const codes: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await t.app.inject({
        method: 'POST',
        url: '/enclave/revoke',
        payload: { session_id: 'C'.repeat(43) },
        remoteAddress: '10.9.9.9',
      });
      codes.push(last.statusCode);
    }
    assert.deepEqual(codes, [404, 404, 404, 429]);
    assert.equal(last!.json().error.code, 'RATE_LIMITED');
    assert.ok(Number(last!.headers['retry-after']) > 0);
    // Another client address is unaffected.
    const other = await t.app.inject({
      method: 'POST',
      url: '/enclave/revoke',
      payload: { session_id: 'C'.repeat(43) },
      remoteAddress: '10.9.9.10',
    });
    assert.equal(other.statusCode, 404);
  });

  it('CORS allows only the configured origins', async () => {
    const ok = await t.app.inject({
      method: 'OPTIONS',
      url: '/enclave/submit_key',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      remoteAddress: '10.1.0.1',
    });
    assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example');
    const evil = await t.app.inject({
      method: 'OPTIONS',
      url: '/enclave/submit_key',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      remoteAddress: '10.1.0.2',
    });
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
  });

  it('/healthz reports db and enclave; /metrics exposes the operator series', async () => {
    const h = await t.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(h.statusCode, 200);
    assert.deepEqual(h.json(), { status: 'ok', db: 'up', enclave: 'up' });
    const m = await t.app.inject({ method: 'GET', url: '/metrics' });
    for (const name of [
      'pa_active_sessions',
      'pa_enclave_operation_seconds',
      'pa_envelope_operations_total',
      'pa_ttl_cleanup_runs_total',
      'pa_rejected_requests_total',
    ]) {
      assert.ok(m.body.includes(name), name);
    }
    assert.match(m.body, /pa_rejected_requests_total\{code="RATE_LIMITED"\} [1-9]/);
  });

  it('unknown routes answer the protocol error body', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/nope', remoteAddress: '10.2.0.1' });
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json(), { error: { code: 'NOT_FOUND', message: 'no such resource' } });
  });

  it('docs/errors.md lists exactly the codes of the error registry', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    const registry = Object.entries(API_ERRORS).map(([code, v]) => [code, v.status]);
    assert.deepEqual(documented.sort(), registry.sort());
  });
});
