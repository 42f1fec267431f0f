import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressReporter } from '../../../src/enclave/progress.js';
import type { RpcProgress } from '../../../src/wire/messages.js';

describe('progressReporter', () => {
  it('sums per-symbol pages, throttles page updates, always sends phase changes', () => {
    const sent: RpcProgress[] = [];
    const clock = { now: 0 };
    const r = progressReporter({ progress: (p) => sent.push(p) }, 100, () => clock.now);
    r.phase('fills');
    r.download({ symbol: 'BTCUSDT', pages: 1, fills: 1000 }); // throttled: just after the phase
    clock.now = 120;
    r.download({ symbol: 'BTCUSDT', pages: 2, fills: 1500 });
    clock.now = 150;
    r.download({ symbol: 'BTCUSDT', pages: 3, fills: 1600 }); // throttled
    clock.now = 260;
    r.download({ symbol: 'ETHUSDT', pages: 1, fills: 10, rateLimitWaits: 2 });
    r.phase('prices');
    assert.deepEqual(sent, [
      { phase: 'fills', symbol: null, pages: 0, fills: 0, rate_limit_waits: 0 },
      { phase: 'fills', symbol: 'BTCUSDT', pages: 2, fills: 1500, rate_limit_waits: 0 },
      { phase: 'fills', symbol: 'ETHUSDT', pages: 4, fills: 1610, rate_limit_waits: 2 },
      { phase: 'prices', symbol: null, pages: 4, fills: 1610, rate_limit_waits: 2 },
    ]);
  });

  it('never names a symbol the wire would refuse', () => {
    const sent: RpcProgress[] = [];
    progressReporter({ progress: (p) => sent.push(p) }).download({
      symbol: 'BTC USDT\n',
      pages: 1,
      fills: 1,
    });
    assert.equal(sent[0]!.symbol, null);
  });
});
