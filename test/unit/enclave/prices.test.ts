import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { candlePriceSource } from '../../../src/enclave/exchanges.js';
import { LimiterRegistry } from '../../../src/exchanges/limiter.js';
import type { ExchangeClient } from '../../../src/exchanges/types.js';
import { startBinanceSim } from '../../../src/sim/binance.js';

const HOUR = 3_600_000;

describe('candlePriceSource › venues without usable candles are priced from Binance', () => {
  it('values a Bybit session’s assets with Binance public candles, without a Binance key', async () => {
    const sim = await startBinanceSim({ seed: 3 });
    try {
      const prices = candlePriceSource(
        { binance: { baseUrl: sim.url, allowHosts: [new URL(sim.url).host] } },
        new LimiterRegistry(),
      );
      // a Bybit client whose own klines must not be asked
      const bybit = {
        venue: 'bybit|https://api.bybit.com',
        klines: () => Promise.reject(new Error('not this venue')),
      } as unknown as ExchangeClient;
      const to = Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR;
      const from = to - 48 * HOUR;
      const oracle = await prices(bybit, { assets: ['BTC', 'USDT', 'NOSUCHCOIN'], from, to });
      const t = from + 5 * HOUR + 123;
      assert.equal(oracle.price('BTC', t), sim.priceAt('BTCUSDT', from + 5 * HOUR));
      assert.equal(oracle.price('USDT', t), '1');
      assert.equal(oracle.price('NOSUCHCOIN', t), null); // -1121: no candles, not an error
    } finally {
      await sim.close();
    }
  });
});
