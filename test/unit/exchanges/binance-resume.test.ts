/**
 * Incremental downloads (issue #3, stored history): Binance spot and USD-M resume each symbol's
 * fromId walk at the given trade id, return exactly the trades from there on (even ones whose
 * timestamps precede `since`), and walk symbols without a resume point from their first trade.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createBinanceClient } from '../../../src/exchanges/binance.js';
import { createBinanceUsdmClient } from '../../../src/exchanges/binance-usdm.js';
import { LimiterRegistry } from '../../../src/exchanges/limiter.js';
import { startBinanceSim, type BinanceSim } from '../../../src/sim/binance.js';

const SPOT = { apiKey: 'resume-spot', apiSecret: 'resume-spot-secret', fills: 300 };
const USDM = {
  apiKey: 'resume-usdm',
  apiSecret: 'resume-usdm-secret',
  fills: 0,
  usdm: { fills: 300, bnbFees: false },
};

describe('Binance fromId resume points (FetchFillsOptions.fromIds)', () => {
  let sim: BinanceSim;
  before(async () => {
    sim = await startBinanceSim({ port: 0, seed: 21 });
    sim.addAccount(SPOT);
    sim.addAccount(USDM);
  });
  after(() => sim.close());
  const opts = (creds: { apiKey: string; apiSecret: string }) => ({
    apiKey: creds.apiKey,
    apiSecret: creds.apiSecret,
    baseUrl: sim.url,
    allowHosts: [new URL(sim.url).host],
    limiters: new LimiterRegistry({ backoffBaseMs: 5, backoffMaxMs: 20 }),
  });

  it('spot: per symbol from the resume id on, other symbols in full; rows served = rows returned', async () => {
    const truth = sim.truth(SPOT.apiKey);
    const symbols = [...new Set(truth.map((t) => t.symbol))].sort();
    assert.ok(symbols.length >= 2, 'the account trades several symbols');
    const [first] = symbols;
    const ofFirst = truth.filter((t) => t.symbol === first);
    const cut = ofFirst[Math.floor(ofFirst.length / 2)]!;
    const c = await createBinanceClient(opts(SPOT));
    const unified = first!.replace(/USDT$/, '/USDT');
    const before = sim.tradeRowsServed(SPOT.apiKey);
    // `since` far in the future: with resume points it filters nothing (the cursor decides)
    const fills = await c.fetchFills({
      since: Date.now() + 86_400_000,
      fromIds: { [unified]: String(cut.id) },
    });
    const want = truth.filter((t) => t.symbol !== first || t.id >= cut.id);
    assert.deepEqual(
      fills.map((f) => `${f.symbol}#${f.id}`).sort(),
      want.map((t) => `${t.symbol.replace(/USDT$/, '/USDT')}#${t.id}`).sort(),
    );
    assert.equal(sim.tradeRowsServed(SPOT.apiKey) - before, want.length);
  });

  it('USD-M: the same, through userTrades', async () => {
    const trades = sim.usdmTruth(USDM.apiKey).trades;
    const bySymbol = new Map<string, number[]>();
    for (const t of trades) bySymbol.set(t.symbol, [...(bySymbol.get(t.symbol) ?? []), t.id]);
    const [sym, ids] = [...bySymbol].sort()[0]!;
    const cut = ids.sort((a, b) => a - b)[Math.floor(ids.length / 2)]!;
    const c = await createBinanceUsdmClient(opts(USDM));
    const all = await c.fetchFills({});
    const resumed = await c.fetchFills({
      fromIds: { [all.find((f) => f.id === String(cut))!.symbol]: String(cut) },
    });
    const want = trades.filter((t) => t.symbol !== sym || t.id >= cut);
    assert.equal(resumed.length, want.length);
    assert.deepEqual(resumed.map((f) => f.id).sort(), want.map((t) => String(t.id)).sort());
    assert.ok(resumed.length < all.length);
  });
});
