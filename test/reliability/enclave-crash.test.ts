/**
 * Fault: the enclave process is killed (SIGKILL) while submits and aggregate requests are in
 * flight. In-flight and following requests answer 503 ENCLAVE_UNAVAILABLE with Retry-After until
 * the supervisor's restart is up (< 5 s); nothing is half-written; the log stays one consistent
 * tree; a session submitted before the crash still aggregates (the key ring reloads sealed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimProcess, type Proc } from '../helpers/processes.js';
import {
  addSimAccount,
  assertConsistent,
  call,
  checkIntegrity,
  enclaveChildPid,
  quote,
  SCALE,
  sealFor,
  signedHead,
  SMALL,
  startStack,
  until,
  type Answer,
  type Stack,
} from './harness.js';

const CREDS = { exchange: 'binance', apiKey: SMALL.apiKey, apiSecret: SMALL.apiSecret };
const META = { exchange: 'binance', label: 'crash', ttl: 3600 };

describe('fault: enclave crash under load', { timeout: 180_000 }, () => {
  let sim: Proc & { url: string };
  let stack: Stack;
  before(async () => {
    sim = await startSimProcess();
    await addSimAccount(sim.url, SMALL);
    stack = await startStack({ EXCHANGE_BASE_URL_BINANCE: sim.url });
  });
  after(async () => {
    await stack?.close();
    await sim?.stop();
  });

  it('answers 503 with Retry-After, restarts within 5 s, loses and half-writes nothing', async (t) => {
    const { base } = stack;
    const q1 = await quote(base);
    const submit = () =>
      call(base, 'POST', '/enclave/submit_key', {
        ...sealFor(q1.enclave_pubkey, CREDS),
        metadata: META,
      });
    const early = await submit();
    assert.equal(early.status, 201);
    const sessionId = early.body['session_id'] as string;
    const first = await call(base, 'POST', '/enclave/request_aggregates', {
      session_id: sessionId,
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const head1 = await signedHead(base, q1.signing_pubkey);

    // Load: submit workers and aggregate workers, until told to stop.
    const answers: { kind: 'submit' | 'aggregate'; a: Answer }[] = [];
    let running = true;
    // a failed assertion below must still stop the load, or its workers keep this process alive
    t.after(() => {
      running = false;
    });
    const worker = async (kind: 'submit' | 'aggregate', from?: string) => {
      while (running) {
        const a =
          kind === 'submit'
            ? await submit()
            : await call(base, 'POST', '/enclave/request_aggregates', {
                session_id: sessionId,
                ...(from && { from }),
              });
        answers.push({ kind, a });
        if (a.status === 503) await new Promise((r) => setTimeout(r, 50));
      }
    };
    const hour = (h: number) =>
      new Date(Date.now() - h * 3600_000).toISOString().slice(0, 19) + 'Z';
    const load = [
      ...Array.from({ length: 3 * SCALE }, () => worker('submit')),
      // distinct windows, so the jobs are distinct (the same request would attach to one job)
      ...Array.from({ length: 2 }, (_, i) => worker('aggregate', hour(24 * (i + 1)))),
    ];
    await new Promise((r) => setTimeout(r, 1500 * SCALE));

    const pid = enclaveChildPid(stack.host.proc.pid!);
    assert.ok(pid, 'the host runs an enclave child');
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    const back = await until(async () => {
      const r = await call(base, 'GET', '/attestation/quote');
      return r.status === 200 ? Date.now() : null;
    }, 10_000);
    const recoveryMs = back - killedAt;
    await new Promise((r) => setTimeout(r, 1500 * SCALE));
    running = false;
    await Promise.all(load);

    assert.ok(recoveryMs < 5000, `service returned after ${recoveryMs} ms`);
    const statuses = answers.map((x) => x.a.status);
    const unavailable = answers.filter((x) => x.a.status === 503);
    assert.ok(unavailable.length > 0, 'the crash was felt by in-flight requests');
    for (const { a } of unavailable) {
      assert.equal(a.code, 'ENCLAVE_UNAVAILABLE');
      assert.ok(Number(a.retryAfter) >= 1, 'Retry-After');
    }
    assert.deepEqual(
      [...new Set(statuses)].filter((s) => ![200, 201, 503].includes(s)),
      [],
      `no other status, no dropped connection: ${JSON.stringify(answers.filter((x) => ![200, 201, 503].includes(x.a.status)).slice(0, 3))}`,
    );

    // The same keys after the restart; the earlier session still works.
    const q2 = await quote(base);
    assert.equal(q2.enclave_pubkey, q1.enclave_pubkey);
    assert.equal(q2.signing_pubkey, q1.signing_pubkey);
    const again = await call(base, 'POST', '/enclave/request_aggregates', {
      session_id: sessionId,
      from: hour(1),
    });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const head2 = await signedHead(base, q2.signing_pubkey);
    await assertConsistent(base, head1, head2);

    const created = answers.filter((x) => x.kind === 'submit' && x.a.status === 201).length;
    const aggregated = answers.filter((x) => x.kind === 'aggregate' && x.a.status === 200).length;
    const integrity = await stack.inspect(checkIntegrity);
    // Every 201 is stored, every failure stored nothing; every 200 aggregate is one leaf.
    assert.equal(integrity.sessions, 1 + created);
    assert.equal(integrity.aggregates, 2 + aggregated);
    assert.equal(integrity.leaves, head2.size);
    process.stdout.write(
      `# enclave crash: ${answers.length} requests (${created} submits, ${aggregated} aggregates ok, ${unavailable.length} × 503), recovery ${recoveryMs} ms, tree ${head1.size} → ${head2.size}\n`,
    );
  });
});
