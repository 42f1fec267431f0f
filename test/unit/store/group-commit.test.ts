/** Group commit: batches form only while statements are in flight; each row gets its own answer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupCommit } from '../../../src/store/group-commit.js';

/** A writer whose statements finish only when the test says so, recording what it was given. */
function gatedWriter(fail: (rows: number[]) => unknown = () => undefined) {
  const calls: number[][] = [];
  const gates: Array<() => void> = [];
  const write = (rows: number[]): Promise<void> => {
    calls.push(rows);
    const err = fail(rows);
    return new Promise((resolve, reject) =>
      gates.push(() => (err === undefined ? resolve() : reject(err))),
    );
  };
  return {
    calls,
    /** Finishes every statement started so far. */
    release: async () => {
      for (const g of gates.splice(0)) g();
      await new Promise((r) => setImmediate(r));
    },
    write,
  };
}

const turn = () => new Promise((r) => setImmediate(r));
const settle = (ps: Promise<void>[]) =>
  Promise.allSettled(ps).then((r) =>
    r.map((x) => (x.status === 'fulfilled' ? 'ok' : String(x.reason))),
  );

test('a turn’s rows go together at its end, then in batches of what queued', async () => {
  const w = gatedWriter();
  const insert = groupCommit({ maxBatch: 3, maxInflight: 2, retryAlone: () => false, ...w });
  const first = [1, 2, 3, 4].map(insert);
  assert.deepEqual(w.calls, []); // nothing before the turn ends
  await turn();
  assert.deepEqual(w.calls, [[1, 2, 3], [4]]); // at most maxBatch, in arrival order
  const second = [5, 6, 7, 8].map(insert);
  await turn();
  assert.equal(w.calls.length, 2); // two statements in flight: the turn's rows wait
  await w.release();
  assert.deepEqual(w.calls.slice(2), [[5, 6, 7], [8]]);
  await w.release();
  assert.deepEqual(await settle([...first, ...second]), Array(8).fill('ok'));
  assert.equal(w.calls.length, 4);
});

test('a batch refused for its data is retried row by row: only the bad row fails', async () => {
  const bad = new Error('constraint');
  const w = gatedWriter((rows) => (rows.includes(4) ? bad : undefined));
  const insert = groupCommit({ maxBatch: 8, maxInflight: 1, retryAlone: (e) => e === bad, ...w });
  const done = settle([1, 2, 3, 4, 5].map(insert));
  await turn();
  await w.release(); // [1,2,3,4,5] fails
  assert.deepEqual(w.calls, [[1, 2, 3, 4, 5], [1], [2], [3], [4], [5]]);
  await w.release();
  assert.deepEqual(await done, ['ok', 'ok', 'ok', 'Error: constraint', 'ok']);
});

test('any other failure is every row’s answer, without retries', async () => {
  const down = new Error('unavailable');
  const w = gatedWriter(() => down);
  const insert = groupCommit({ maxBatch: 8, maxInflight: 1, retryAlone: () => false, ...w });
  const done = settle([1, 2, 3].map(insert));
  await turn();
  await w.release();
  assert.deepEqual(await done, ['Error: unavailable', 'Error: unavailable', 'Error: unavailable']);
  assert.equal(w.calls.length, 1);
});

test('a lone row that fails is not written again', async () => {
  const bad = new Error('constraint');
  const w = gatedWriter(() => bad);
  const insert = groupCommit({ maxBatch: 8, maxInflight: 1, retryAlone: () => true, ...w });
  const done = settle([insert(1)]);
  await turn();
  await w.release();
  assert.deepEqual(await done, ['Error: constraint']);
  assert.deepEqual(w.calls, [[1]]);
});

test('limits must be positive', () => {
  const w = gatedWriter();
  assert.throws(
    () => groupCommit({ maxBatch: 0, maxInflight: 1, retryAlone: () => false, ...w }),
    RangeError,
  );
});
