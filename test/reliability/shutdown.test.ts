/**
 * Fault: SIGTERM to the host. Intake stops at once (the listener closes; a request on a connection
 * still open gets a protocol 503), in-flight requests and aggregate jobs finish within
 * SHUTDOWN_GRACE_MS, the enclave drops its key ring and every decrypted credential, and the host
 * exits 0. Work still running at the bound stores nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimProcess, type Proc } from '../helpers/processes.js';
import {
  addSimAccount,
  call,
  checkIntegrity,
  quote,
  sealFor,
  setSimFaults,
  SMALL,
  startStack,
  until,
} from './harness.js';

const CREDS = { exchange: 'binance', apiKey: SMALL.apiKey, apiSecret: SMALL.apiSecret };
const META = { exchange: 'binance', label: 'shutdown', ttl: 3600 };

function exited(p: Proc['proc']): Promise<{ code: number | null; at: number }> {
  if (p.exitCode !== null) return Promise.resolve({ code: p.exitCode, at: Date.now() });
  return new Promise((r) => p.once('exit', (code) => r({ code, at: Date.now() })));
}

describe('fault: graceful shutdown', { timeout: 180_000 }, () => {
  let sim: Proc & { url: string };
  before(async () => {
    sim = await startSimProcess();
    await addSimAccount(sim.url, SMALL);
  });
  after(() => sim?.stop());

  it('drains in-flight requests and jobs, drops enclave secrets, exits 0', async () => {
    const stack = await startStack({
      EXCHANGE_BASE_URL_BINANCE: sim.url,
      SHUTDOWN_GRACE_MS: '20000',
    });
    try {
      const { base } = stack;
      const q = await quote(base);
      const sessions: string[] = [];
      for (let i = 0; i < 2; i++) {
        const s = await call(base, 'POST', '/enclave/submit_key', {
          ...sealFor(q.enclave_pubkey, CREDS),
          metadata: META,
        });
        assert.equal(s.status, 201);
        sessions.push(s.body['session_id'] as string);
      }
      // A slow exchange keeps both computations running across the SIGTERM.
      await setSimFaults(sim.url, [{ kind: 'latency', ms: 400, path: '/api/v3/myTrades' }]);
      const waiting = call(base, 'POST', '/enclave/request_aggregates', {
        session_id: sessions[0],
      });
      const job = await call(
        base,
        'POST',
        '/enclave/request_aggregates',
        { session_id: sessions[1] },
        { prefer: 'respond-async, wait=0' },
      );
      assert.equal(job.status, 202, JSON.stringify(job.body));
      await new Promise((r) => setTimeout(r, 300));

      const exit = exited(stack.host.proc);
      const sentAt = Date.now();
      stack.host.proc.kill('SIGTERM');
      // Intake stops: once the host has begun shutting down, a new request is refused or answered
      // 503 with the protocol body.
      await until(
        async () => (stack.host.lines.some((l) => l.includes('"event":"shutdown"')) ? true : null),
        5000,
      );
      const late = await call(base, 'POST', '/enclave/submit_key', {
        ...sealFor(q.enclave_pubkey, CREDS),
        metadata: META,
      });
      assert.ok(
        late.status === 0 || (late.status === 503 && late.code === 'ENCLAVE_UNAVAILABLE'),
        `after SIGTERM: ${late.status}`,
      );

      const inFlight = await waiting;
      assert.equal(
        inFlight.status,
        200,
        `in-flight request drained: ${JSON.stringify(inFlight.body)}`,
      );
      const { code, at } = await exit;
      assert.equal(code, 0);
      assert.ok(at - sentAt < 20_000 + 5_000, 'exited within the grace period');
      const lines = stack.host.lines.join('\n');
      assert.match(lines, /"event":"enclave_stopping","plaintext_dropped":true/);
      assert.match(lines, /"event":"shutdown_done","drained":true/);
      await setSimFaults(sim.url, []);

      const integrity = await stack.inspect(checkIntegrity);
      // Both computations finished and were stored: the waiting request's and the 202 job's.
      assert.equal(integrity.aggregates, 2);
      assert.equal(integrity.sessions, 2);
    } finally {
      await setSimFaults(sim.url, []);
      await stack.close();
    }
  });

  it('stops waiting at SHUTDOWN_GRACE_MS; work cut off stores nothing', async () => {
    const stack = await startStack({
      EXCHANGE_BASE_URL_BINANCE: sim.url,
      SHUTDOWN_GRACE_MS: '1000',
    });
    try {
      const { base } = stack;
      const q = await quote(base);
      const s = await call(base, 'POST', '/enclave/submit_key', {
        ...sealFor(q.enclave_pubkey, CREDS),
        metadata: META,
      });
      assert.equal(s.status, 201);
      // The exchange never answers: the computation cannot finish within the grace period.
      await setSimFaults(sim.url, [{ kind: 'hang', path: '/api/v3/myTrades' }]);
      const waiting = call(base, 'POST', '/enclave/request_aggregates', {
        session_id: s.body['session_id'],
      });
      await new Promise((r) => setTimeout(r, 1500));
      const exit = exited(stack.host.proc);
      const sentAt = Date.now();
      stack.host.proc.kill('SIGTERM');
      const { code, at } = await exit;
      assert.equal(code, 0);
      // grace, then the enclave's own stop (SIGTERM, SIGKILL after 3 s at most)
      assert.ok(at - sentAt < 1000 + 4000, `exited after ${at - sentAt} ms`);
      const cut = await waiting;
      assert.notEqual(cut.status, 200);
      const lines = stack.host.lines.join('\n');
      assert.match(lines, /"event":"shutdown_done","drained":false/);
      // the enclave stopped the computation it still held, and dropped its keys
      assert.match(lines, /"event":"enclave_stopping","plaintext_dropped":true,"aborted":1/);
      await setSimFaults(sim.url, []);
      const integrity = await stack.inspect(checkIntegrity);
      assert.equal(integrity.aggregates, 0);
      assert.equal(integrity.sessions, 1);
    } finally {
      await setSimFaults(sim.url, []);
      await stack.close();
    }
  });
});
