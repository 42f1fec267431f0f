/**
 * Fault: the enclave's queue is full (ENCLAVE_MAX_INFLIGHT computations held by an exchange that
 * does not answer). The host answers every further request that needs the enclave with a fast
 * 503 ENCLAVE_UNAVAILABLE and Retry-After instead of queueing it, and its memory stays flat
 * across bursts. Requests that need no enclave call (the log) keep working.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimProcess, type Proc } from '../helpers/processes.js';
import {
  addSimAccount,
  call,
  enclaveChildPid,
  pct,
  quote,
  rssBytes,
  SCALE,
  sealFor,
  setSimFaults,
  SMALL,
  startStack,
  type Stack,
} from './harness.js';

const CREDS = { exchange: 'binance', apiKey: SMALL.apiKey, apiSecret: SMALL.apiSecret };
const META = { exchange: 'binance', label: 'burst', ttl: 3600 };
const MAX_INFLIGHT = 2;

describe('fault: backpressure when the enclave is at capacity', { timeout: 180_000 }, () => {
  let sim: Proc & { url: string };
  let stack: Stack;
  before(async () => {
    sim = await startSimProcess();
    await addSimAccount(sim.url, SMALL);
    stack = await startStack({
      EXCHANGE_BASE_URL_BINANCE: sim.url,
      ENCLAVE_MAX_INFLIGHT: String(MAX_INFLIGHT),
      EXCHANGE_TIMEOUT_MS: '60000',
      SHUTDOWN_GRACE_MS: '500',
    });
  });
  after(async () => {
    await setSimFaults(sim.url, []).catch(() => undefined);
    await stack?.close();
    await sim?.stop();
  });

  it('answers 503 + Retry-After fast, without queueing, and memory stays flat', async () => {
    const { base } = stack;
    const q = await quote(base);
    const sessions: string[] = [];
    for (let i = 0; i < MAX_INFLIGHT; i++) {
      const s = await call(base, 'POST', '/enclave/submit_key', {
        ...sealFor(q.enclave_pubkey, CREDS),
        metadata: META,
      });
      assert.equal(s.status, 201);
      sessions.push(s.body['session_id'] as string);
    }
    // The log's (empty) head is signed once; from then on reading it needs no enclave call.
    assert.equal((await call(base, 'GET', '/api/log/checkpoint')).status, 200);
    // The exchange stops answering: each computation holds an enclave slot.
    await setSimFaults(sim.url, [{ kind: 'hang' }]);
    for (const session_id of sessions) {
      const r = await call(
        base,
        'POST',
        '/enclave/request_aggregates',
        { session_id },
        { prefer: 'respond-async, wait=0' },
      );
      assert.equal(r.status, 202);
    }
    await new Promise((r) => setTimeout(r, 500));

    const bodies = Array.from({ length: 50 }, () => ({
      ...sealFor(q.enclave_pubkey, CREDS),
      metadata: META,
    }));
    const burst = (n: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          call(base, 'POST', '/enclave/submit_key', bodies[i % bodies.length]),
        ),
      );
    const hostPid = stack.host.proc.pid!;
    const enclavePid = enclaveChildPid(hostPid)!;
    await burst(200); // warm-up: JIT, sockets, pools
    const rss0 = { host: rssBytes(hostPid), enclave: rssBytes(enclavePid) };
    const answers = [];
    const rounds = 5 * SCALE;
    for (let i = 0; i < rounds; i++) answers.push(...(await burst(200)));
    const rss1 = { host: rssBytes(hostPid), enclave: rssBytes(enclavePid) };

    for (const a of answers) {
      assert.equal(a.status, 503, JSON.stringify(a.body));
      assert.equal(a.code, 'ENCLAVE_UNAVAILABLE');
      assert.ok(Number(a.retryAfter) >= 1);
    }
    const ms = answers.map((a) => a.ms).sort((x, y) => x - y);
    // 200 concurrent requests on a shared 2-core machine: a queue would show as seconds.
    assert.ok(pct(ms, 50) < 1000, `p50 ${pct(ms, 50)} ms`);
    assert.ok(pct(ms, 99) < 3000, `p99 ${pct(ms, 99)} ms`);
    const grew = { host: rss1.host - rss0.host, enclave: rss1.enclave - rss0.enclave };
    assert.ok(grew.host < 48 << 20, `host RSS grew ${grew.host >> 20} MiB`);
    assert.ok(grew.enclave < 16 << 20, `enclave RSS grew ${grew.enclave >> 20} MiB`);

    // What needs no enclave call still answers.
    const cp = await call(base, 'GET', '/api/log/checkpoint');
    assert.equal(cp.status, 200);
    process.stdout.write(
      `# backpressure: ${answers.length} × 503 in bursts of 200, p50 ${pct(ms, 50).toFixed(0)} ms, p99 ${pct(ms, 99).toFixed(0)} ms; RSS host ${rss0.host >> 20} → ${rss1.host >> 20} MiB, enclave ${rss0.enclave >> 20} → ${rss1.enclave >> 20} MiB\n`,
    );
  });
});
