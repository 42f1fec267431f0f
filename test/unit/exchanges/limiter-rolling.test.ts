import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createRateLimiter, type RateLimiter } from '../../../src/exchanges/limiter.js';
import { ROLLING_MARGIN_MS, rollingPool } from '../../../src/exchanges/signed-http.js';
import { createManualClock } from '../../helpers/manual-clock.js';

// OKX fills-history: 10 requests in any 2 s
const N = 10;
const W = 2000;
const SPAN = W + ROLLING_MARGIN_MS;
const OK = { status: 200, headers: {} };

/** acquire, then the answer after `latency` ms; resolves with the grant time */
function request(l: RateLimiter, clock: ReturnType<typeof createManualClock>, latency = 0) {
  return l.acquire({ fills: 1 }).then(async (ticket) => {
    const at = clock.now();
    await clock.sleep(latency);
    l.observe(ticket, OK);
    return at;
  });
}

describe('rolling pools (n requests in any window)', () => {
  it('grants n at once, then the next when the first answer is SPAN old', async () => {
    const clock = createManualClock(0);
    const l = createRateLimiter({ pools: [rollingPool('fills', N, W)], clock });
    const at: number[] = [];
    for (let i = 0; i < N + 2; i++) void request(l, clock).then((t) => at.push(t));
    await clock.advance(0);
    assert.equal(at.length, N);
    assert.deepEqual(l.usage(), { fills: N });
    await clock.advance(SPAN - 1);
    assert.equal(at.length, N, 'not before the first booking has left the window');
    await clock.advance(1);
    assert.deepEqual(at.slice(N), [SPAN, SPAN]);
  });

  it('a stalled request counts from its answer: the exchange may have seen it only then', async () => {
    const clock = createManualClock(0);
    const l = createRateLimiter({ pools: [rollingPool('fills', 1, W)], clock });
    void request(l, clock, 700); // granted at 0, answered at 700
    let next: number | undefined;
    void request(l, clock).then((t) => (next = t));
    await clock.advance(700 + SPAN - 1);
    assert.equal(next, undefined, 'not SPAN after the booking: SPAN after the answer');
    await clock.advance(1);
    assert.equal(next, 700 + SPAN);
  });

  it('a request never answered (network error) frees its slot after 30 s', async () => {
    const clock = createManualClock(0);
    const l = createRateLimiter({ pools: [rollingPool('fills', 1, W)], clock });
    await l.acquire({ fills: 1 }); // never observed
    let granted = false;
    void l.acquire({ fills: 1 }).then(() => (granted = true));
    await clock.advance(30_000 + SPAN - 100);
    assert.equal(granted, false);
    await clock.advance(200);
    assert.equal(granted, true);
  });

  it('never books more than n within SPAN of an answer, and keeps up n per SPAN', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 700 }), fc.integer({ min: 0, max: 300 })), {
          minLength: 30,
          maxLength: 60,
        }),
        async (reqs) => {
          const clock = createManualClock(0);
          const l = createRateLimiter({ pools: [rollingPool('fills', N, W)], clock });
          const log: { at: number; answered: number }[] = [];
          for (const [gap, latency] of reqs) {
            void request(l, clock, latency).then((at) => log.push({ at, answered: at + latency }));
            await clock.advance(gap);
          }
          await clock.advance(SPAN * reqs.length);
          assert.equal(log.length, reqs.length);
          // the exchange saw each request at some time in [at, answered]: every booking comes
          // at least SPAN after the answers of all but n − 1 of those before it
          log.sort((a, b) => a.at - b.at);
          for (let i = 0; i < log.length; i++) {
            const close = log.slice(0, i).filter((e) => e.answered + SPAN > log[i]!.at);
            assert.ok(close.length <= N - 1, `${close.length + 1} requests in one window`);
          }
        },
      ),
      { numRuns: 50 },
    );
  });
});
