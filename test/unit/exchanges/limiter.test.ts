import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  LimiterRegistry,
  createRateLimiter,
  withRetries,
  type Ticket,
  type WeightPool,
} from '../../../src/exchanges/limiter.js';
import { ExchangeError } from '../../../src/exchanges/types.js';
import { createManualClock } from '../../helpers/manual-clock.js';

const MINUTE = 60_000;
const api: WeightPool = {
  name: 'api',
  limit: 100,
  windowMs: MINUTE,
  header: 'X-MBX-USED-WEIGHT-1M',
};
// guard = min(1000, windowMs / 20): how far the exchange's clock may be off ours, either way;
// within it of a window edge a request is booked in both windows
const GUARD = 1000;

/** Starts an acquire and records when (virtual time) it was granted. */
function track(p: Promise<Ticket>, clock: { now(): number }) {
  const r: { at?: number; ticket?: Ticket } = {};
  void p.then((ticket) => {
    r.at = clock.now();
    r.ticket = ticket;
  });
  return r;
}

describe('createRateLimiter', () => {
  it('grants within the budget at once and holds the excess until the next window', async () => {
    const clock = createManualClock(GUARD); // window 0 starts at t = GUARD on our clock
    const l = createRateLimiter({ pools: [api], clock });
    const a = track(l.acquire({ api: 60 }), clock);
    const b = track(l.acquire({ api: 40 }), clock);
    const c = track(l.acquire({ api: 1 }), clock);
    await clock.advance(0);
    assert.equal(a.at, GUARD);
    assert.equal(b.at, GUARD);
    assert.equal(c.at, undefined, '101 > 100: must wait');
    assert.deepEqual(l.usage(), { api: 100 });
    await clock.advance(MINUTE - 1);
    assert.equal(c.at, undefined);
    await clock.advance(1);
    assert.equal(c.at, MINUTE + GUARD);
    assert.deepEqual(l.usage(), { api: 1 });
  });

  it('serves in FIFO order: a heavy request is not starved by lighter ones behind it', async () => {
    const clock = createManualClock(GUARD);
    const l = createRateLimiter({ pools: [api], clock });
    const order: string[] = [];
    await l.acquire({ api: 90 });
    const heavy = l.acquire({ api: 50 }).then(() => order.push('heavy'));
    const light = l.acquire({ api: 5 }).then(() => order.push('light'));
    await clock.advance(0);
    assert.deepEqual(order, [], 'the light one fits but must not overtake');
    await clock.advance(MINUTE);
    await Promise.all([heavy, light]);
    assert.deepEqual(order, ['heavy', 'light']);
  });

  it('is FIFO per pool: a request on another pool does not wait behind a held one', async () => {
    const clock = createManualClock(GUARD);
    const keyCheck: WeightPool = { name: 'sapi', limit: 10, windowMs: MINUTE };
    const l = createRateLimiter({ pools: [api, keyCheck], clock });
    await l.acquire({ api: 90 });
    const heavy = track(l.acquire({ api: 50 }), clock); // held until the next window
    const check = track(l.acquire({ sapi: 1 }), clock); // queued behind it, other pool
    const both = track(l.acquire({ api: 1, sapi: 1 }), clock); // also needs the held pool: waits
    await clock.advance(0);
    assert.equal(heavy.at, undefined);
    assert.equal(check.at, GUARD, 'the key check goes at once');
    assert.equal(both.at, undefined, 'api is held by an earlier waiter');
    // one arriving while the pump sleeps is woken at once, not at the end of the sleep
    await clock.advance(1000);
    const late = track(l.acquire({ sapi: 1 }), clock);
    await clock.advance(0);
    assert.equal(late.at, GUARD + 1000);
    await clock.advance(MINUTE);
    assert.equal(heavy.at, MINUTE + GUARD);
    assert.equal(both.at, MINUTE + GUARD);
    assert.equal(clock.pending(), 0, 'no sleeper left behind');
  });

  it('leaky pool: the burst at once, then the drain rate; an unanswered booking does not drain', async () => {
    const clock = createManualClock(0);
    const counter: WeightPool = {
      name: 'counter',
      limit: 10,
      windowMs: 10_000,
      leaky: { drainPerSec: 1 },
    };
    const l = createRateLimiter({ pools: [counter], clock });
    const answered = (tk: Ticket) => l.observe(tk, { status: 200, headers: {} });
    for (let i = 0; i < 5; i++) answered(await l.acquire({ counter: 2 })); // the burst: 10 at t=0
    assert.equal(l.usage()['counter'], 10);
    const next = track(l.acquire({ counter: 2 }), clock);
    await clock.advance(1999);
    assert.equal(next.at, undefined, 'level 8.001 + 2 > 10');
    await clock.advance(1);
    assert.equal(next.at, 2000, 'two units drained in 2 s');
    answered(next.ticket!);
    // unanswered: it counts in full, undrained, however long it is in flight
    await clock.advance(20_000); // empty again
    const big = await l.acquire({ counter: 10 });
    const small = track(l.acquire({ counter: 1 }), clock);
    await clock.advance(10_000);
    assert.equal(small.at, undefined, 'the 10 booked at t=22000 may not have arrived yet');
    answered(big); // it arrived by now (t=32000) at the latest: it drains from here
    await clock.advance(999);
    assert.equal(small.at, undefined);
    await clock.advance(1);
    assert.equal(small.at, 33_000);
    // a Kraken-like counter never passes its limit at the exchange (arrival = answer time)
    assert.ok(l.usage()['counter']! <= 10);
  });

  it('resynchronises from the usage header, only for a ticket of the current window', async () => {
    const clock = createManualClock(GUARD);
    const l = createRateLimiter({ pools: [api], clock });
    const t1 = await l.acquire({ api: 10 });
    // other clients behind the same IP spent 80: the server says 90
    l.observe(t1, { status: 200, headers: { 'x-mbx-used-weight-1m': '90' } });
    assert.deepEqual(l.usage(), { api: 90 });
    const late = track(l.acquire({ api: 20 }), clock);
    await clock.advance(0);
    assert.equal(late.at, undefined);
    await clock.advance(MINUTE);
    assert.equal(late.at, MINUTE + GUARD);
    // an answer to a request booked last window does not carry its count into this one
    l.observe(t1, { status: 200, headers: { 'X-Mbx-Used-Weight-1m': '99' } });
    assert.deepEqual(l.usage(), { api: 20 });
    // a lower count never lowers ours (requests of ours may still be in flight)
    l.observe(late.ticket, { status: 200, headers: { 'X-MBX-USED-WEIGHT-1M': '3' } });
    assert.deepEqual(l.usage(), { api: 20 });
  });

  it('after a 429 pauses every caller until Retry-After, whatever their weight', async () => {
    const clock = createManualClock(GUARD);
    const l = createRateLimiter({ pools: [api], clock });
    const t = await l.acquire({ api: 1 });
    l.observe(t, { status: 429, headers: { 'Retry-After': '7' } });
    assert.equal(l.pausedForMs(), 7000);
    const granted = [1, 2, 3].map(() => track(l.acquire({ api: 1 }), clock));
    await clock.advance(6999);
    assert.ok(
      granted.every((g) => g.at === undefined),
      'nothing is sent inside the pause',
    );
    await clock.advance(1);
    assert.ok(granted.every((g) => g.at === GUARD + 7000));
  });

  it('a 418 or a 429 without Retry-After still pauses: the longest window + 1 s by default', async () => {
    const clock = createManualClock(GUARD);
    const sec: WeightPool = { name: 'sec', limit: 10, windowMs: 1000 };
    const l = createRateLimiter({ pools: [api, sec], clock });
    const t = await l.acquire({ sec: 1 });
    l.observe(t, { status: 429, headers: {} });
    assert.equal(l.pausedForMs(), MINUTE + 1000);
    l.observe(t, { status: 418, headers: { 'retry-after': '120' } });
    assert.equal(l.pausedForMs(), 120_000, 'the longer pause wins');
    l.observe(t, { status: 429, headers: { 'Retry-After': '1' } });
    assert.equal(l.pausedForMs(), 120_000, 'a shorter one never shortens it');
  });

  it('meters several pools at once: a per-second pool spaces requests (10/s withdraw history)', async () => {
    const clock = createManualClock(0);
    const perSec: WeightPool = { name: 'w1s', limit: 180_000, windowMs: 1000 };
    const l = createRateLimiter({ pools: [api, perSec], clock });
    const times: number[] = [];
    const all = Array.from({ length: 25 }, () =>
      l.acquire({ w1s: 18_000 }).then(() => times.push(clock.now())),
    );
    await clock.advance(5000);
    await Promise.all(all);
    const perWindow = new Map<number, number>();
    // guard for a 1 s window is 50 ms: a request's window is floor((t - 50) / 1000)
    for (const t of times)
      perWindow.set(
        Math.floor((t - 50) / 1000),
        (perWindow.get(Math.floor((t - 50) / 1000)) ?? 0) + 1,
      );
    assert.ok(
      [...perWindow.values()].every((n) => n <= 10),
      JSON.stringify([...perWindow]),
    );
    assert.equal(times.length, 25);
  });

  it('rejects a cost no window can hold, or for a pool it does not meter', () => {
    const l = createRateLimiter({ pools: [api], clock: createManualClock() });
    assert.throws(() => l.acquire({ api: 101 }), RangeError);
    assert.throws(() => l.acquire({ other: 1 }), RangeError);
    assert.throws(() => l.acquire({ api: -1 }), RangeError);
  });

  it('backs off exponentially with full jitter, capped', () => {
    const lo = createRateLimiter({
      pools: [api],
      random: () => 0,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
    });
    const hi = createRateLimiter({
      pools: [api],
      random: () => 0.999999,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
    });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 9].map((n) => lo.backoffMs(n)),
      [0, 0, 0, 0, 0, 0],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5, 9].map((n) => hi.backoffMs(n)),
      [99, 199, 399, 799, 999, 999],
    );
  });

  it('property: weight granted in any window never exceeds the limit, clocks off by ±guard', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            w: fc.integer({ min: 1, max: 100 }),
            gap: fc.integer({ min: 0, max: 20_000 }),
          }),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        async (reqs) => {
          const clock = createManualClock(0);
          const l = createRateLimiter({ pools: [api], clock });
          const grants: { at: number; w: number }[] = [];
          const all: Promise<unknown>[] = [];
          for (const r of reqs) {
            all.push(l.acquire({ api: r.w }).then(() => grants.push({ at: clock.now(), w: r.w })));
            await clock.advance(r.gap);
          }
          await clock.advance(reqs.length * MINUTE);
          await Promise.all(all);
          // whether the exchange's clock is GUARD behind ours, equal, or GUARD ahead
          return (
            grants.length === reqs.length &&
            [-GUARD, 0, GUARD].every((skew) => {
              const per = new Map<number, number>();
              for (const g of grants) {
                const b = Math.floor((g.at + skew) / MINUTE);
                per.set(b, (per.get(b) ?? 0) + g.w);
              }
              return [...per.values()].every((v) => v <= api.limit);
            })
          );
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('LimiterRegistry', () => {
  it('hands every session of one venue and egress the same limiter', () => {
    const r = new LimiterRegistry();
    const a = r.get('binance|https://api.binance.com', 'egress-1', [api]);
    assert.equal(r.get('binance|https://api.binance.com', 'egress-1', [api]), a);
    assert.notEqual(r.get('binance|https://api.binance.com', 'egress-2', [api]), a);
    assert.notEqual(r.get('binanceusdm|https://fapi.binance.com', 'egress-1', [api]), a);
  });
});

describe('withRetries', () => {
  class Transient extends Error {}
  class Limited extends Error {}
  const classify = (e: unknown) =>
    e instanceof Limited
      ? ('rate-limited' as const)
      : e instanceof Transient
        ? ('transient' as const)
        : ('fatal' as const);

  it('retries transient failures with backoff, then succeeds', async () => {
    const clock = createManualClock(0);
    const l = createRateLimiter({ pools: [api], clock, random: () => 0.5 });
    let calls = 0;
    const p = withRetries(
      l,
      async () => {
        if (++calls < 3) throw new Transient('503');
        return 'ok';
      },
      classify,
    );
    await clock.advance(10_000);
    assert.equal(await p, 'ok');
    assert.equal(calls, 3);
  });

  it('never retries a fatal (auth) failure', async () => {
    const l = createRateLimiter({ pools: [api], clock: createManualClock() });
    let calls = 0;
    const auth = new ExchangeError('EXCHANGE_AUTH_FAILED', 'rejected');
    await assert.rejects(
      withRetries(
        l,
        async () => {
          calls++;
          throw auth;
        },
        classify,
      ),
      (e) => e === auth,
    );
    assert.equal(calls, 1);
  });

  it('gives up with EXCHANGE_UNAVAILABLE after maxRetries transient failures', async () => {
    const clock = createManualClock(0);
    const l = createRateLimiter({ pools: [api], clock, random: () => 0.5 });
    let calls = 0;
    const p = withRetries(
      l,
      async () => {
        calls++;
        throw new Transient('timeout');
      },
      classify,
      { maxRetries: 2 },
    );
    const settled = p.catch((e: unknown) => e);
    await clock.advance(60_000);
    const e = await settled;
    assert.ok(e instanceof ExchangeError && e.code === 'EXCHANGE_UNAVAILABLE');
    assert.equal(calls, 3);
  });

  it('waits a 429 pause out through the limiter, and refuses one longer than maxPauseMs', async () => {
    const clock = createManualClock(GUARD);
    const l = createRateLimiter({ pools: [api], clock });
    let calls = 0;
    const p = withRetries(
      l,
      async () => {
        const t = await l.acquire({ api: 1 });
        if (++calls === 1) {
          l.observe(t, { status: 429, headers: { 'Retry-After': '5' } });
          throw new Limited();
        }
        return clock.now();
      },
      classify,
    );
    await clock.advance(5000);
    assert.equal(await p, GUARD + 5000, 'the retry went out exactly when the pause ended');

    const t = await l.acquire({ api: 1 });
    l.observe(t, { status: 418, headers: { 'Retry-After': '600' } });
    await assert.rejects(
      withRetries(
        l,
        async () => {
          throw new Limited();
        },
        classify,
        { maxPauseMs: 65_000 },
      ),
      (e) => e instanceof ExchangeError && e.code === 'EXCHANGE_RATE_LIMITED',
    );
  });
});
