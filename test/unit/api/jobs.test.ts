import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobRegistry } from '../../../src/api/jobs.js';

function registry(clock: { now: number }, maxJobs = 3) {
  return new JobRegistry<string>({
    retentionMs: 1_000,
    maxJobs,
    now: () => clock.now,
    describeError: (e) => ({ code: 'X_' + String((e as Error).message), message: 'm' }),
  });
}
const deferred = () => {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('JobRegistry', () => {
  it('runs one job per key, records progress, result and failure', async () => {
    const clock = { now: 0 };
    const jobs = registry(clock);
    const d = deferred();
    let runs = 0;
    const a = jobs.start('k', (onProgress) => {
      runs++;
      onProgress({ phase: 'fills', symbol: 'BTCUSDT', pages: 2, fills: 7, rate_limit_waits: 0 });
      return d.promise;
    })!;
    const b = jobs.start('k', () => {
      runs++;
      return Promise.resolve('other');
    })!;
    assert.equal(a.id, b.id);
    assert.equal(runs, 1);
    assert.equal(await a.wait(5), false);
    assert.equal(jobs.view(a.id)!.progress!.fills, 7);
    d.resolve('done');
    assert.equal(await a.wait(1_000), true);
    assert.equal(jobs.outcome(a.id), 'done');
    assert.equal(jobs.view(a.id)!.status, 'succeeded');
    // Finished: the same key starts a new job.
    const c = jobs.start('k', () => Promise.reject(new Error('BOOM')))!;
    assert.notEqual(c.id, a.id);
    await c.wait(1_000);
    assert.deepEqual(jobs.view(c.id)!.error, { code: 'X_BOOM', message: 'm' });
    assert.throws(() => jobs.outcome(c.id), /BOOM/);
  });

  it('forgets finished jobs after retention, and refuses new ones when full of running jobs', async () => {
    const clock = { now: 0 };
    const jobs = registry(clock, 2);
    const done = jobs.start('a', () => Promise.resolve('a'))!;
    await done.wait(100);
    const pending = deferred();
    jobs.start('b', () => pending.promise);
    // Full: the finished job makes room, then no room is left.
    assert.ok(jobs.start('c', () => new Promise(() => {})));
    assert.equal(jobs.view(done.id), null, 'the oldest finished job was evicted');
    assert.equal(
      jobs.start('d', () => Promise.resolve('d')),
      null,
    );
    pending.resolve('b');
    await new Promise((r) => setImmediate(r));
    clock.now = 5_000;
    assert.ok(
      jobs.start('e', () => Promise.resolve('e')),
      'retention expired: room again',
    );
  });
});
