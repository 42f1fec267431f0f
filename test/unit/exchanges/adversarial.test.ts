/**
 * Every seeded fill, fee and funding row comes back exactly once, for Binance spot and USD-M, in
 * each adversarial mode of the simulator; an auth failure halfway is never retried; the weight
 * limit is never passed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBinanceClient } from '../../../src/exchanges/binance.js';
import { createBinanceUsdmClient } from '../../../src/exchanges/binance-usdm.js';
import { LimiterRegistry } from '../../../src/exchanges/limiter.js';
import { ExchangeError, type AccountEvent } from '../../../src/exchanges/types.js';
import type { FuturesFill } from '../../../src/aggregates/ledger.js';
import {
  DEMO_ACCOUNT,
  startBinanceSim,
  type BinanceSim,
  type SimAccountSpec,
} from '../../../src/sim/binance.js';

async function withSim<T>(fn: (sim: BinanceSim) => Promise<T>): Promise<T> {
  const sim = await startBinanceSim({ seed: 77 });
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

const opts = (sim: BinanceSim, creds: { apiKey: string; apiSecret: string }) => ({
  apiKey: creds.apiKey,
  apiSecret: creds.apiSecret,
  baseUrl: sim.url,
  allowHosts: [new URL(sim.url).host],
  limiters: new LimiterRegistry({ backoffBaseMs: 5, backoffMaxMs: 20 }),
});

/** USD-M: fills (with realizedPnl and commission) and funding/transfer rows, exactly the truth. */
async function assertUsdmComplete(
  sim: BinanceSim,
  apiKey: string,
  c: { fills: FuturesFill[]; flows: AccountEvent[] },
) {
  const truth = sim.usdmTruth(apiKey);
  const got = c.fills.map(
    (f) =>
      `${f.base}${f.quote}#${f.id}|${f.side}|${f.price}|${f.qty}|${f.realizedPnl}|${f.fee}|${f.feeAsset}|${f.ts}`,
  );
  assert.equal(new Set(got).size, got.length, 'no duplicate fills');
  const want = truth.trades.map(
    (t) =>
      `${t.symbol}#${t.id}|${t.side.toLowerCase()}|${t.price}|${t.qty}|${t.realizedPnl}|${t.commission}|${t.commissionAsset}|${t.time}`,
  );
  assert.equal(got.length, want.length, 'every fill');
  assert.deepEqual(got.sort(), want.sort());
  const rows = c.flows.map((e) => `${e.type}|${e.id}|${e.asset}|${e.amount}|${e.ts}`);
  assert.equal(new Set(rows).size, rows.length, 'no duplicate income rows');
  const wantRows = truth.income
    .filter((r) => r.incomeType === 'FUNDING_FEE' || r.incomeType === 'TRANSFER')
    .map(
      (r) =>
        `${r.incomeType === 'FUNDING_FEE' ? 'funding' : 'transfer'}|${r.tranId}|${r.asset}|${r.income}|${r.time}`,
    );
  assert.deepEqual(rows.sort(), wantRows.sort());
  assert.ok(
    wantRows.some((r) => r.startsWith('funding')) && wantRows.some((r) => r.startsWith('transfer')),
  );
}

const USDM_MODES: [string, Partial<SimAccountSpec>][] = [
  ['2,000 fills in one millisecond', { usdm: { fills: 120, burst: 2000 } }],
  ['page-edge duplicates', { pageEdgeDuplicates: true, usdm: { fills: 1500, burst: 1200 } }],
  ['a three-week gap', { usdm: { fills: 200, gapDays: 21 } }],
  ['a delisted symbol', { usdm: { fills: 200, delisted: true } }],
  ['5xx bursts', { outage: { every: 6, length: 2 }, usdm: { fills: 150 } }],
  [
    'fromId before the kept history answers nothing',
    { usdm: { fills: 300, burst: 1500, strictFromId: true, delisted: true } },
  ],
];

describe('Binance USD-M adapter against the simulator', { concurrency: true }, () => {
  for (const [mode, spec] of USDM_MODES) {
    it(`${mode} › every fill, funding and transfer row exactly once`, () =>
      withSim(async (sim) => {
        const creds = { apiKey: `usdm-${mode.replace(/\W+/g, '-')}`, apiSecret: 's3cret' };
        sim.addAccount({ ...creds, fills: 5, ...spec });
        const c = await createBinanceUsdmClient(opts(sim, creds));
        const fills = (await c.fetchFills({})) as FuturesFill[];
        const flows = await c.fetchFlows({ since: 0 });
        await assertUsdmComplete(sim, creds.apiKey, { fills, flows });
        assert.ok(fills.every((f) => f.market === 'futures' && f.exchange === 'binanceusdm'));
        if (mode === 'a delisted symbol') assert.ok(fills.some((f) => f.base === 'LUNA'));
        const s = sim.stats();
        assert.equal(s.rejected429 + s.rejected418, 0);
        assert.ok((s.peakUsed['fapi'] ?? 0) <= 2400);
      }));
  }

  it('the demo account: wallet balances are Σ transfers + Σ realizedPnl − Σ commission + Σ funding', () =>
    withSim(async (sim) => {
      const c = await createBinanceUsdmClient(opts(sim, DEMO_ACCOUNT));
      const want = new Map<string, bigint>();
      for (const r of sim.usdmTruth(DEMO_ACCOUNT.apiKey).income)
        want.set(r.asset, (want.get(r.asset) ?? 0n) + BigInt(r.income.replace('.', '')));
      const got = await c.balances();
      for (const [asset, v] of want) assert.equal(BigInt(got[asset]!.replace('.', '')), v, asset);
      assert.equal(c.historySince(Date.UTC(2026, 0, 1)), Date.UTC(2026, 0, 1) - 90 * 86_400_000);
    }));

  it('when the key is deleted halfway › EXCHANGE_AUTH_FAILED, never retried', () =>
    withSim(async (sim) => {
      const creds = { apiKey: 'usdm-auth-halfway', apiSecret: 's3cret' };
      sim.addAccount({ ...creds, authFailAfter: 12, usdm: { fills: 400 } });
      const c = await createBinanceUsdmClient(opts(sim, creds));
      await assert.rejects(
        c.fetchFills({}),
        (e) => e instanceof ExchangeError && e.code === 'EXCHANGE_AUTH_FAILED',
      );
    }));
});

const SPOT_MODES: [string, Partial<SimAccountSpec>][] = [
  ['2,000 fills in one millisecond', { fills: 200, burst: 2000 }],
  ['page-edge duplicates', { fills: 1500, burst: 1200, pageEdgeDuplicates: true }],
  ['5xx bursts', { fills: 300, outage: { every: 5, length: 2 } }],
  ['a long history (BNB fees, halted symbol)', { fills: 600, days: 100 }],
];

describe('Binance spot adapter against the simulator', { concurrency: true }, () => {
  for (const [mode, spec] of SPOT_MODES) {
    it(`${mode} › every fill and fee exactly once`, () =>
      withSim(async (sim) => {
        const creds = { apiKey: `spot-${mode.replace(/\W+/g, '-')}`, apiSecret: 's3cret' };
        sim.addAccount({ ...creds, ...spec });
        const c = await createBinanceClient(opts(sim, creds));
        const fills = await c.fetchFills({});
        const got = fills.map((f) => `${f.base}${f.quote}#${f.id}|${f.fee}|${f.feeAsset}|${f.ts}`);
        assert.equal(new Set(got).size, got.length, 'no duplicates');
        const want = sim
          .truth(creds.apiKey)
          .map((t) => `${t.symbol}#${t.id}|${t.commission}|${t.commissionAsset}|${t.time}`);
        assert.deepEqual(got.sort(), want.sort());
        const s = sim.stats();
        assert.equal(s.rejected429 + s.rejected418, 0);
      }));
  }

  it('when the key is deleted halfway › EXCHANGE_AUTH_FAILED, never retried', () =>
    withSim(async (sim) => {
      const creds = { apiKey: 'spot-auth-halfway', apiSecret: 's3cret' };
      sim.addAccount({ ...creds, fills: 300, authFailAfter: 3 });
      const c = await createBinanceClient(opts(sim, creds));
      await assert.rejects(
        c.fetchFills({}),
        (e) => e instanceof ExchangeError && e.code === 'EXCHANGE_AUTH_FAILED',
      );
    }));
});
