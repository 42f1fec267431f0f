import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressWriter } from '../../../src/cli/progress.js';
import { formatProgress } from '../../../src/client/progress-text.js';

const p = (phase: 'fills' | 'sign', fills: number) => ({
  phase,
  symbol: phase === 'fills' ? 'ETHUSDT' : null,
  pages: 3,
  fills,
  rate_limit_waits: phase === 'fills' ? 1 : 0,
});

describe('CLI progress', () => {
  it('formats phase, symbol and counts', () => {
    assert.equal(
      formatProgress(p('fills', 2500)),
      '[#.....] downloading fills ETHUSDT · 3 pages · 2500 fills · 1 rate-limit waits',
    );
    assert.equal(formatProgress(p('sign', 2500)), '[######] signing · 3 pages · 2500 fills');
  });

  it('redraws in place on a terminal and prints one line per phase otherwise', () => {
    const tty: string[] = [];
    const t = progressWriter({ isTTY: true, write: (s) => tty.push(s) });
    t.update(p('fills', 1));
    t.update(p('fills', 2));
    t.end();
    assert.equal(tty.length, 3);
    assert.ok(tty[1]!.startsWith('\r\x1b[2K'));
    assert.equal(tty[2], '\n');
    const log: string[] = [];
    const l = progressWriter({ write: (s) => log.push(s) });
    l.update(p('fills', 1));
    l.update(p('fills', 2));
    l.update(p('sign', 2));
    l.end();
    assert.equal(log.length, 2);
  });
});
