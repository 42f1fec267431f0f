import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrefer } from '../../../src/api/prefer.js';

describe('parsePrefer (RFC 7240)', () => {
  it('reads respond-async and wait, in any case, spacing and header split', () => {
    assert.deepEqual(parsePrefer('respond-async, wait=5'), { respondAsync: true, waitSeconds: 5 });
    assert.deepEqual(parsePrefer(['Respond-Async', 'WAIT = 0']), {
      respondAsync: true,
      waitSeconds: 0,
    });
    assert.deepEqual(parsePrefer('return=minimal'), { respondAsync: false, waitSeconds: null });
    assert.deepEqual(parsePrefer(undefined), { respondAsync: false, waitSeconds: null });
  });

  it('ignores malformed values rather than guessing', () => {
    assert.deepEqual(parsePrefer('respond-async=1, wait=-3, wait=1e3, wait=abc'), {
      respondAsync: false,
      waitSeconds: null,
    });
    assert.deepEqual(parsePrefer('respond-async;foo=bar'), {
      respondAsync: true,
      waitSeconds: null,
    });
  });
});
