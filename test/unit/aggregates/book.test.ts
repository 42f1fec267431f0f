import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Holding, move, openLots, type CostBasis } from '../../../src/aggregates/book.js';

/** A move: signed quantity and a unit price, so the value has the quantity's sign. */
const moves = fc.array(
  fc.record({
    q: fc.integer({ min: -5_000_000_000, max: 5_000_000_000 }).filter((x) => x !== 0),
    px: fc.integer({ min: 1, max: 100_000 }),
  }),
  { maxLength: 40 },
);

const state = (h: Holding) => ({
  qty: BigInt(h.qty),
  cost: BigInt(h.cost),
  lots: h.lotQty.slice(h.head).map((x, i) => [BigInt(x), BigInt(h.lotCost[h.head + i]!)]),
});

describe('book › move', () => {
  for (const basis of ['average', 'fifo'] as CostBasis[]) {
    it(`${basis}: the double fast path and the general (BigInt-capable) path agree exactly`, () => {
      fc.assert(
        fc.property(moves, (ms) => {
          // BigInt arguments always take the general path; numbers take the fast one
          const fast = new Holding('X', false);
          const general = new Holding('X', false);
          for (const { q, px } of ms) {
            const v = (q * px) / 1000;
            const vi = Math.trunc(v);
            const a = move(fast, q, vi, basis);
            const b = move(general, BigInt(q), BigInt(vi), basis);
            assert.equal(BigInt(a), BigInt(b));
            assert.deepEqual(state(fast), state(general));
          }
        }),
        { numRuns: 500 },
      );
    });
  }

  it('realized PnL over a flat-to-flat history is the same for FIFO and average cost', () => {
    fc.assert(
      fc.property(moves, (ms) => {
        const a = new Holding('X', false);
        const f = new Holding('X', false);
        let ra = 0n;
        let rf = 0n;
        for (const { q, px } of ms) {
          const v = Math.trunc((q * px) / 1000);
          ra += BigInt(move(a, q, v, 'average'));
          rf += BigInt(move(f, q, v, 'fifo'));
        }
        // close what is left at one reporting tick per tick
        const q = -Number(a.qty);
        if (q !== 0) {
          ra += BigInt(move(a, q, Math.trunc(q * 1), 'average'));
          rf += BigInt(move(f, q, Math.trunc(q * 1), 'fifo'));
        }
        assert.equal(ra, rf);
        assert.equal(openLots(f), 0);
      }),
      { numRuns: 500 },
    );
  });

  it('a par holding is cash: no cost, nothing realized', () => {
    const h = new Holding('USDT', true);
    assert.equal(move(h, 100, 100, 'fifo'), 0);
    assert.equal(move(h, -300, -300, 'average'), 0);
    assert.equal(h.qty, -200);
    assert.equal(h.cost, 0);
  });
});
