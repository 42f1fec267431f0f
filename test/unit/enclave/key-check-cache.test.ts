import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyCheckCache } from '../../../src/enclave/key-check-cache.js';
import type { KeyPermissions } from '../../../src/exchanges/types.js';
import { nodePlatform } from '../../../src/platform/node.js';

const READ: KeyPermissions = {
  read: true,
  trade: false,
  withdraw: false,
  transfer: false,
  futures: false,
  margin: false,
};
const creds = (apiSecret: string, passphrase?: string) => ({
  exchange: 'binance',
  apiKey: 'k',
  apiSecret,
  ...(passphrase !== undefined && { passphrase }),
});

describe('KeyCheckCache', () => {
  it('remembers a pass for the TTL, per exact credential', () => {
    let now = 1_000;
    const c = new KeyCheckCache(nodePlatform, 60_000, () => now);
    assert.equal(c.get(creds('s')), null);
    c.pass(creds('s'), READ);
    assert.deepEqual(c.get(creds('s')), READ);
    assert.equal(c.get(creds('s2')), null, 'another secret is another credential');
    assert.equal(c.get(creds('s', 'p')), null, 'a passphrase makes another credential');
    now += 59_999;
    assert.deepEqual(c.get(creds('s')), READ);
    now += 1;
    assert.equal(c.get(creds('s')), null, 'expired at the TTL');
  });

  it('field boundaries are part of the identity', () => {
    const c = new KeyCheckCache(nodePlatform, 60_000, () => 0);
    c.pass({ exchange: 'binance', apiKey: 'ab', apiSecret: 'c' }, READ);
    assert.equal(c.get({ exchange: 'binance', apiKey: 'a', apiSecret: 'bc' }), null);
  });

  it('keeps no plaintext, is bounded (oldest first), and a TTL of 0 turns it off', () => {
    const c = new KeyCheckCache(nodePlatform, 60_000, () => 0, 2);
    c.pass(creds('secret-one'), READ);
    c.pass(creds('secret-two'), READ);
    c.pass(creds('secret-three'), READ);
    assert.equal(c.get(creds('secret-one')), null);
    assert.deepEqual(c.get(creds('secret-three')), READ);
    const dump = JSON.stringify([...(c as unknown as { passed: Map<string, unknown> }).passed]);
    assert.ok(!dump.includes('secret'), dump);
    const off = new KeyCheckCache(nodePlatform, 0, () => 0);
    off.pass(creds('s'), READ);
    assert.equal(off.get(creds('s')), null);
  });
});
