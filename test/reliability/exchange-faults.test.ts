/**
 * Fault: a slow or failing exchange, played by the Binance simulator's fault modes (its admin API,
 * src/sim/binance-faults.ts). As docs/exchanges.md and docs/reliability.md say: a transient fault
 * (a few 5xx, one timeout, a connection reset mid-page, slow answers) is retried with backoff and
 * the job resumes to the same result as without the fault; a lasting one (a 5xx storm, an exchange
 * that never answers) fails the job with 502 EXCHANGE_UNAVAILABLE after bounded retries, and a
 * failed job stores nothing: no aggregate, no log leaf, no partial history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSimProcess, type Proc } from '../helpers/processes.js';
import {
  addSimAccount,
  call,
  quote,
  sealFor,
  setSimFaults,
  SMALL,
  startStack,
  type Stack,
} from './harness.js';

const CREDS = { exchange: 'binance', apiKey: SMALL.apiKey, apiSecret: SMALL.apiSecret };
const META = { exchange: 'binance', label: 'faults', ttl: 3600 };
/** The fields that depend on the downloaded history (computed_at and the signature do not). */
const HISTORY_FIELDS = [
  'trades',
  'volume',
  'pnl',
  'trades_root',
  'fees',
  'net_flows',
  'end_equity',
];

describe('fault: slow or failing exchange', { timeout: 300_000 }, () => {
  let sim: Proc & { url: string };
  let stack: Stack;
  let sessionId: string;
  let baseline: Record<string, unknown>;
  const to = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString().slice(0, 19) + 'Z';

  const aggregate = () =>
    call(stack.base, 'POST', '/enclave/request_aggregates', { session_id: sessionId, to });
  const history = (payload: Record<string, unknown>) =>
    Object.fromEntries(HISTORY_FIELDS.map((k) => [k, payload[k]]));
  const payloadOf = (a: Awaited<ReturnType<typeof aggregate>>) =>
    (a.body['aggregates_signed'] as { payload: Record<string, unknown> }).payload;
  const treeSize = async () => {
    const cp = await fetch(`${stack.base}/api/log/checkpoint`);
    return Number((await cp.text()).split('\n')[1]);
  };

  before(async () => {
    sim = await startSimProcess();
    await addSimAccount(sim.url, SMALL);
    // A short per-request timeout so a hung exchange is noticed in a test's time.
    stack = await startStack({ EXCHANGE_BASE_URL_BINANCE: sim.url, EXCHANGE_TIMEOUT_MS: '1500' });
    const q = await quote(stack.base);
    const s = await call(stack.base, 'POST', '/enclave/submit_key', {
      ...sealFor(q.enclave_pubkey, CREDS),
      metadata: META,
    });
    assert.equal(s.status, 201);
    sessionId = s.body['session_id'] as string;
    const first = await aggregate();
    assert.equal(first.status, 200, JSON.stringify(first.body));
    baseline = history(payloadOf(first));
    // The baseline is the simulator's ground truth, not merely a repeatable answer.
    const truth = (await (await fetch(`${sim.url}/__sim/truth?apiKey=${SMALL.apiKey}`)).json()) as {
      time: number;
    }[];
    assert.equal(baseline['trades'], truth.filter((t) => t.time <= Date.parse(to)).length);
  });
  after(async () => {
    await setSimFaults(sim.url, []).catch(() => undefined);
    await stack?.close();
    await sim?.stop();
  });

  const transient: [string, object[]][] = [
    [
      'two 5xx answers mid-history',
      [{ kind: 'status', status: 503, path: '/api/v3/myTrades', after: 2, count: 2 }],
    ],
    [
      'a connection reset mid-page',
      [{ kind: 'reset', path: '/api/v3/myTrades', after: 3, count: 1 }],
    ],
    [
      'one request that never answers (timeout)',
      [{ kind: 'hang', path: '/api/v3/myTrades', after: 1, count: 1 }],
    ],
    [
      'a slow exchange (300 ms per answer)',
      [{ kind: 'latency', ms: 300, path: '/api/v3/myTrades' }],
    ],
  ];
  for (const [name, rules] of transient) {
    it(`resumes after ${name}, to the same history`, async () => {
      const size = await treeSize();
      await setSimFaults(sim.url, rules);
      const res = await aggregate();
      const view = (await (await fetch(`${sim.url}/__sim/faults`)).json()) as {
        rules: { hits: number }[];
      };
      await setSimFaults(sim.url, []);
      assert.ok(view.rules[0]!.hits > 0, 'the fault was hit');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(history(payloadOf(res)), baseline);
      assert.equal(await treeSize(), size + 1);
    });
  }

  const lasting: [string, object[]][] = [
    ['a 5xx storm', [{ kind: 'status', status: 502, path: '/api/v3/myTrades', after: 2 }]],
    ['an exchange that stops answering', [{ kind: 'hang', path: '/api/v3/myTrades', after: 2 }]],
  ];
  for (const [name, rules] of lasting) {
    it(`fails cleanly on ${name} and stores nothing`, async () => {
      const size = await treeSize();
      const rows = await call(stack.base, 'GET', `/api/logs/${sessionId}`);
      await setSimFaults(sim.url, rules);
      const res = await call(
        stack.base,
        'POST',
        '/enclave/request_aggregates',
        { session_id: sessionId, to },
        { prefer: 'respond-async, wait=60' },
      );
      await setSimFaults(sim.url, []);
      assert.equal(res.status, 502, JSON.stringify(res.body));
      assert.equal(res.code, 'EXCHANGE_UNAVAILABLE');
      assert.equal(await treeSize(), size, 'no leaf');
      assert.deepEqual(
        await call(stack.base, 'GET', `/api/logs/${sessionId}`).then((r) => r.body),
        rows.body,
      );
      // and the next try, with the exchange back, gives the full history again
      const again = await aggregate();
      assert.equal(again.status, 200);
      assert.deepEqual(history(payloadOf(again)), baseline);
    });
  }
});
