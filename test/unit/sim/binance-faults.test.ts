import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultPlan, parseFaultRules } from '../../../src/sim/binance-faults.js';
import { startBinanceSim } from '../../../src/sim/binance.js';

describe('simulator fault modes', () => {
  it('parses only well-formed rules', () => {
    assert.deepEqual(parseFaultRules({ rules: [{ kind: 'status', status: 503, count: 2 }] }), [
      { kind: 'status', status: 503, count: 2 },
    ]);
    for (const bad of [
      null,
      { rules: 'x' },
      { rules: [{ kind: 'explode' }] },
      { rules: [{ kind: 'status', status: 404 }] },
      { rules: [{ kind: 'latency' }] },
      { rules: [{ kind: 'hang', ms: 5 }] },
      { rules: [{ kind: 'hang', extra: 1 }] },
      { rules: [{ kind: 'reset', path: 'no-slash' }] },
      { rules: [{ kind: 'reset', count: -1 }] },
    ])
      assert.throws(() => parseFaultRules(bad), /invalid fault rules/, JSON.stringify(bad));
  });

  it('lets `after` requests through, then hits `count` of the matching ones', () => {
    const plan = new FaultPlan();
    plan.set([{ kind: 'status', status: 500, path: '/api/v3/myTrades', after: 1, count: 2 }]);
    const hits = [
      '/api/v3/myTrades',
      '/api/v3/klines',
      '/api/v3/myTrades',
      '/api/v3/myTrades',
      '/api/v3/myTrades',
    ].map((p) => plan.pick(p)?.kind ?? null);
    assert.deepEqual(hits, [null, null, 'status', 'status', null]);
    assert.deepEqual(
      plan.view().map((r) => [r.seen, r.hits]),
      [[4, 2]],
    );
  });

  it('serves the faults over the admin API: 5xx, reset mid-body, then normal again', async () => {
    const sim = await startBinanceSim({});
    try {
      const set = await fetch(`${sim.url}/__sim/faults`, {
        method: 'POST',
        body: JSON.stringify({
          rules: [
            { kind: 'status', status: 503, path: '/api/v3/time', count: 1 },
            { kind: 'reset', path: '/api/v3/exchangeInfo', count: 1 },
          ],
        }),
      });
      assert.equal(set.status, 200);
      const storm = await fetch(`${sim.url}/api/v3/time`);
      assert.equal(storm.status, 503);
      assert.equal(((await storm.json()) as { code: number }).code, -1001);
      assert.equal((await fetch(`${sim.url}/api/v3/time`)).status, 200);
      await assert.rejects(async () => (await fetch(`${sim.url}/api/v3/exchangeInfo`)).text());
      assert.equal((await fetch(`${sim.url}/api/v3/exchangeInfo`)).status, 200);
      const bad = await fetch(`${sim.url}/__sim/faults`, {
        method: 'POST',
        body: '{"rules":[{}]}',
      });
      assert.equal(bad.status, 400);
      const cleared = await fetch(`${sim.url}/__sim/faults`, { method: 'DELETE' });
      assert.deepEqual(await cleared.json(), { rules: [] });
    } finally {
      await sim.close();
    }
  });
});
