/**
 * fast-check properties of the ledger engine. Random ledgers: three assets against USDT, prices
 * constant within each UTC day (so a flow is valued at the price of the day's mark), exact
 * decimal amounts, fees in the base, the quote or BNB, deposits and withdrawals, funding, and
 * many events sharing a millisecond.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { computeMetrics, MetricsEngine, type Metrics } from '../../../src/aggregates/compute.js';
import type { Fill } from '../../../src/aggregates/fill.js';
import {
  compareEvents,
  isFill,
  type LedgerEvent,
  type PriceOracle,
} from '../../../src/aggregates/ledger.js';
import { D, T0 } from './helpers.js';

const DAYS = 5;
const ASSETS = ['BTC', 'ETH', 'BNB'] as const;
const WINDOW = { from: T0, to: T0 + DAYS * D - 1 };

/** An integer count of 10^-decimals units as an exact decimal string. */
function dec(units: bigint, decimals: number): string {
  const neg = units < 0n;
  const s = (neg ? -units : units).toString().padStart(decimals + 1, '0');
  const cut = s.length - decimals;
  return `${neg ? '-' : ''}${s.slice(0, cut)}${decimals > 0 ? `.${s.slice(cut)}` : ''}`;
}

/** Price of `asset` in cents for UTC day d, and the oracle: one price per day, the day's close. */
type Prices = Record<(typeof ASSETS)[number], number[]>;
function oracleOf(prices: Prices): PriceOracle {
  return {
    price(asset, ts) {
      const p = prices[asset as keyof Prices];
      if (!p) return null;
      // an event inside day d and the mark closing day d (next 00:00) both see day d's price
      const d = Math.min(DAYS - 1, Math.max(0, Math.ceil((ts - T0) / D) - 1));
      return dec(BigInt(p[d]!), 2);
    },
  };
}

interface FillSpec {
  kind: 'fill';
  slot: number;
  asset: number;
  buy: boolean;
  qty: number; // 1e-4 units
  tweak: number; // price offset in cents
  fee: 'none' | 'base' | 'quote' | 'bnb';
  feeUnits: number; // 1e-8 units
  futures: boolean;
}
interface FlowSpec {
  kind: 'deposit' | 'withdrawal' | 'funding';
  slot: number;
  usdt: number; // cents
}
type Spec = FillSpec | FlowSpec;

/** Event times: a handful of slots per day (never exactly 00:00), so events often share a ms. */
const slotTime = (slot: number): number =>
  T0 + Math.floor(slot / 4) * D + 1 + (slot % 4) * 6 * 3_600_000;
const SLOTS = DAYS * 4;

const fillSpec: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constant('fill' as const),
  slot: fc.integer({ min: 0, max: SLOTS - 1 }),
  asset: fc.integer({ min: 0, max: 2 }),
  buy: fc.boolean(),
  qty: fc.integer({ min: 1, max: 50_000 }),
  tweak: fc.integer({ min: -500, max: 500 }),
  fee: fc.constantFrom('none', 'base', 'quote', 'bnb'),
  feeUnits: fc.integer({ min: 1, max: 2_000_000 }),
  futures: fc.boolean(),
});
const flowSpec: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constantFrom('deposit', 'withdrawal', 'funding'),
  slot: fc.integer({ min: 0, max: SLOTS - 1 }),
  usdt: fc.integer({ min: 1, max: 5_000_000 }),
});
const prices: fc.Arbitrary<Prices> = fc.record({
  BTC: fc.array(fc.integer({ min: 2_000_000, max: 6_000_000 }), {
    minLength: DAYS,
    maxLength: DAYS,
  }),
  ETH: fc.array(fc.integer({ min: 100_000, max: 400_000 }), { minLength: DAYS, maxLength: DAYS }),
  BNB: fc.array(fc.integer({ min: 20_000, max: 60_000 }), { minLength: DAYS, maxLength: DAYS }),
});
const ledgerSpec = fc.record({
  prices,
  specs: fc.array(
    fc.oneof({ weight: 4, arbitrary: fillSpec }, { weight: 1, arbitrary: flowSpec }),
    {
      maxLength: 40,
    },
  ),
});

function build(prices: Prices, specs: Spec[], opts: { uniqueTimes?: boolean } = {}): LedgerEvent[] {
  const out: LedgerEvent[] = [
    { type: 'deposit', ts: T0 - 1, asset: 'USDT', amount: '1000000' },
    { type: 'deposit', ts: T0 - 1, asset: 'BNB', amount: '10' },
  ];
  specs.forEach((s, i) => {
    const ts = opts.uniqueTimes
      ? T0 + 1 + i * Math.floor((DAYS * D - 10) / Math.max(1, specs.length))
      : slotTime(s.slot);
    if (s.kind !== 'fill') {
      const amount = dec(BigInt(s.kind === 'funding' && i % 2 ? -s.usdt : s.usdt), 2);
      out.push(
        s.kind === 'funding'
          ? { type: 'funding', ts, asset: 'USDT', amount, symbol: 'BTC/USDT:USDT' }
          : { type: s.kind, ts, asset: 'USDT', amount },
      );
      return;
    }
    const base = ASSETS[s.asset]!;
    const day = Math.floor((ts - T0) / D);
    const cents = BigInt(Math.max(1, prices[base][day]! + s.tweak));
    const qty = BigInt(s.qty);
    const feeAsset = s.fee === 'base' ? base : s.fee === 'bnb' ? 'BNB' : 'USDT';
    const f: Fill = {
      exchange: 'binance',
      symbol: s.futures ? `${base}/USDT:USDT` : `${base}/USDT`,
      base,
      quote: 'USDT',
      id: String(i),
      orderId: String(i),
      side: s.buy ? 'buy' : 'sell',
      price: dec(cents, 2),
      qty: dec(qty, 4),
      quoteQty: dec(qty * cents, 6),
      fee: s.fee === 'none' ? '0' : dec(BigInt(s.feeUnits), 8),
      feeAsset,
      maker: false,
      ts,
    };
    out.push(s.futures ? { ...f, market: 'futures' } : f);
  });
  return out;
}

const opts = (p: Prices) => ({ ...WINDOW, oracle: oracleOf(p), dailySeries: true, bySymbol: true });

function shuffleWithinMs(events: LedgerEvent[], rnd: () => number): LedgerEvent[] {
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  const out: LedgerEvent[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j]!.ts === sorted[i]!.ts) j++;
    const g = sorted.slice(i, j);
    for (let k = g.length - 1; k > 0; k--) {
      const r = Math.floor(rnd() * (k + 1));
      [g[k], g[r]] = [g[r]!, g[k]!];
    }
    out.push(...g);
    i = j;
  }
  return out;
}

const close = (a: number | null, b: number | null, tol: number): boolean =>
  a === null || b === null ? a === b : Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

describe('ledger engine properties (fast-check)', () => {
  it('permuting events within one millisecond changes nothing (streaming and array entry points)', () => {
    fc.assert(
      fc.property(ledgerSpec, fc.integer(), ({ prices, specs }, seed) => {
        const ledger = build(prices, specs);
        const want = computeMetrics([...ledger].sort(compareEvents), opts(prices));
        let s = seed >>> 0;
        const rnd = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
        const engine = new MetricsEngine(opts(prices));
        for (const e of shuffleWithinMs(ledger, rnd)) engine.push(e);
        assert.deepEqual(engine.finish(), want);
        // any order at all through the array entry point
        const reversed = [...ledger].reverse();
        assert.deepEqual(computeMetrics(reversed, opts(prices)), want);
      }),
      { numRuns: 150 },
    );
  });

  it('splitting a fill into parts changes nothing but the fill count (money to rounding of ½ tick per split)', () => {
    fc.assert(
      fc.property(
        ledgerSpec,
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        ({ prices, specs }, pick, tenths) => {
          const ledger = build(prices, specs, { uniqueTimes: true });
          const fills = ledger
            .map((e, i) => [e, i] as const)
            .filter(([e]) => e.type === undefined || e.type === 'fill');
          fc.pre(fills.length > 0);
          const [f, at] = fills[pick % fills.length]! as [Fill, number];
          const qty = BigInt(f.qty.replace('.', ''));
          const q1 = (qty * BigInt(tenths)) / 10n;
          fc.pre(q1 > 0n && q1 < qty);
          const cents = BigInt(f.price.replace('.', ''));
          const feeTicks =
            BigInt(f.fee.replace('.', '').replace(/^0+(?=\d)/, '') || '0') *
            (f.fee === '0' ? 0n : 1n);
          const f1 = (feeTicks * q1) / qty;
          const part = (q: bigint, fee: bigint, id: string): Fill => ({
            ...f,
            id,
            qty: dec(q, 4),
            quoteQty: dec(q * cents, 6),
            fee: f.fee === '0' ? '0' : dec(fee, 8),
          });
          const split = [
            ...ledger.slice(0, at),
            part(q1, f1, `${f.id}a`),
            part(qty - q1, feeTicks - f1, `${f.id}b`),
            ...ledger.slice(at + 1),
          ];
          const a = computeMetrics(ledger, opts(prices));
          const b = computeMetrics(split, opts(prices));
          assert.equal(b.trades, a.trades + 1);
          // exact: everything that depends only on holdings and values at market
          for (const k of [
            'pnl',
            'volume',
            'start_equity',
            'end_equity',
            'net_flows',
            'funding',
            'round_trips',
          ] as const)
            assert.equal(b[k], a[k], k);
          for (const k of [
            'sharpe',
            'sortino',
            'max_drawdown',
            'cagr',
            'calmar',
            'total_return',
            'volatility',
          ] as const)
            assert.equal(b[k], a[k], k);
          assert.deepEqual(
            b.daily!.map((p) => p.equity),
            a.daily!.map((p) => p.equity),
          );
          // cost and fee splits round to the tick: a few ticks at most
          for (const k of ['realized_pnl', 'unrealized_pnl', 'fees'] as const)
            assert.ok(Math.abs(b[k] - a[k]) <= 4e-8, `${k}: ${a[k]} vs ${b[k]}`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a deposit does not change returns: withdrawn the same day, nothing but the flow totals moves', () => {
    fc.assert(
      fc.property(
        ledgerSpec,
        fc.integer({ min: 0, max: SLOTS - 1 }),
        fc.integer({ min: 1, max: 100_000_000 }),
        ({ prices, specs }, slot, cents) => {
          const ledger = build(prices, specs);
          const ts = slotTime(slot);
          const amount = dec(BigInt(cents), 2);
          const a = computeMetrics(ledger, opts(prices));
          const withDeposit = computeMetrics(
            [...ledger, { type: 'deposit', ts, asset: 'USDT', amount }],
            opts(prices),
          );
          // pnl is net of flows; the deposit day and every day before it keep their return
          assert.equal(withDeposit.pnl, a.pnl);
          const day = Math.floor((ts - T0) / D);
          for (let d = 0; d <= day; d++)
            assert.ok(close(withDeposit.daily![d]!.return, a.daily![d]!.return, 1e-12), `day ${d}`);
          // deposited and withdrawn within the day: identical returns and ratios
          const roundTrip = computeMetrics(
            [
              ...ledger,
              { type: 'deposit', ts, asset: 'USDT', amount },
              { type: 'withdrawal', ts: ts + 1000, asset: 'USDT', amount },
            ],
            opts(prices),
          );
          const strip = (m: Metrics) => {
            const { inflows: _i, outflows: _o, daily, ...rest } = m;
            return { ...rest, daily: daily!.map(({ flows: _f, ...p }) => p) };
          };
          const x = strip(roundTrip);
          const y = strip(a);
          for (const k of Object.keys(y) as (keyof typeof y)[]) {
            const u = x[k];
            const v = y[k];
            if (typeof v === 'number' || v === null)
              assert.ok(close(u as number | null, v, 1e-12), `${k}: ${u} vs ${v}`);
            else assert.deepEqual(u, v, k);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('FIFO and average cost agree exactly once every position is flat', () => {
    fc.assert(
      fc.property(ledgerSpec, ({ prices, specs }) => {
        const ledger = build(
          prices,
          specs
            .filter((s) => s.kind === 'fill' && !s.futures)
            .map((s) => ({ ...(s as FillSpec), fee: 'quote' as const })),
        ).slice(1); // keep the USDT deposit out: flows do not matter here; BNB deposit first
        const all: LedgerEvent[] = [
          { type: 'deposit', ts: T0 - 1, asset: 'USDT', amount: '1000000' },
          ...ledger,
        ];
        // close every holding at the end of the last day, at that day's price
        const held = new Map<string, bigint>([['BNB', 10n * 10n ** 8n]]);
        for (const e of ledger) {
          if (e.type === 'deposit' || e.type !== undefined) continue;
          const q = BigInt(e.qty.replace('.', '')) * 10n ** 4n; // 1e-4 → 1e-8
          held.set(e.base, (held.get(e.base) ?? 0n) + (e.side === 'buy' ? q : -q));
        }
        let id = 10_000;
        for (const [asset, q] of held) {
          if (q === 0n) continue;
          const cents = BigInt(prices[asset as keyof Prices][DAYS - 1]!);
          const abs = q < 0n ? -q : q;
          all.push({
            exchange: 'binance',
            symbol: `${asset}/USDT`,
            base: asset,
            quote: 'USDT',
            id: String(id++),
            orderId: '0',
            side: q > 0n ? 'sell' : 'buy',
            price: dec(cents, 2),
            qty: dec(abs, 8),
            quoteQty: dec(abs * cents, 10).replace(/(\.\d{8})\d*$/, '$1'),
            fee: '0',
            feeAsset: 'USDT',
            maker: false,
            ts: T0 + DAYS * D - 2,
          });
        }
        const avg = computeMetrics(all, { ...opts(prices), costBasis: 'average' });
        const fifo = computeMetrics(all, { ...opts(prices), costBasis: 'fifo' });
        assert.equal(avg.unrealized_pnl_end, 0);
        assert.equal(fifo.unrealized_pnl_end, 0);
        for (const k of [
          'realized_pnl',
          'unrealized_pnl',
          'pnl',
          'fees',
          'end_equity',
          'sharpe',
          'max_drawdown',
        ] as const)
          assert.equal(fifo[k], avg[k], k);
      }),
      { numRuns: 200 },
    );
  });

  it('the textual form of an amount changes nothing (fast double path = general path)', () => {
    // "0.1" and "0.1000000000" are the same amount; the second is too long for the engine's
    // allocation-free path, so this compares the two implementations on every random ledger
    const pad = (x: string): string => (x.includes('.') ? x : `${x}.`).padEnd(x.length + 12, '0');
    fc.assert(
      fc.property(ledgerSpec, fc.constantFrom('average', 'fifo'), ({ prices, specs }, basis) => {
        const o = { ...opts(prices), costBasis: basis as 'average' | 'fifo' };
        const ledger = build(prices, specs);
        const padded = ledger.map((e): LedgerEvent =>
          isFill(e)
            ? { ...e, qty: pad(e.qty), quoteQty: pad(e.quoteQty), fee: pad(e.fee) }
            : { ...e, amount: pad(e.amount) },
        );
        assert.deepEqual(computeMetrics(padded, o), computeMetrics(ledger, o));
      }),
      { numRuns: 200 },
    );
  });

  it('the accounting identity holds: pnl = end − start − flows = realized + unrealized − fees + funding', () => {
    fc.assert(
      fc.property(
        ledgerSpec,
        fc.constantFrom('average', 'fifo'),
        ({ prices, specs }, costBasis) => {
          const m = computeMetrics(build(prices, specs), {
            ...opts(prices),
            costBasis: costBasis as 'average' | 'fifo',
          });
          const tol = 1e-6;
          assert.ok(Math.abs(m.pnl - (m.end_equity - m.start_equity - m.net_flows)) <= tol);
          assert.ok(
            Math.abs(m.pnl - (m.realized_pnl + m.unrealized_pnl - m.fees + m.funding)) <= tol,
          );
          const daily = m.daily!.reduce((s, p) => s + p.pnl, 0);
          assert.ok(Math.abs(m.pnl - daily) <= tol);
          assert.equal(m.unpriced_fills + m.unpriced_fees + m.unpriced_marks, 0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
