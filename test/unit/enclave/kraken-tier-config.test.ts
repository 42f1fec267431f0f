import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadApiConfig } from '../../../src/api/config.js';
import { loadEnclaveConfig } from '../../../src/enclave/config.js';
import { ConfigError } from '../../../src/runtime/config.js';

const ENCLAVE = {
  ENCLAVE_SOCKET: '/tmp/e.sock',
  KMS_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000',
};

const badVars = (f: () => unknown): string[] => {
  try {
    f();
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.variables;
  }
};

describe('KRAKEN_TIER (the Kraken call counter the enclave paces keys to)', () => {
  it('defaults to Starter, the slowest tier, in the enclave and in the host that spawns it', () => {
    assert.equal(loadEnclaveConfig(ENCLAVE).KRAKEN_TIER, 'starter');
    assert.equal(loadApiConfig({}).KRAKEN_TIER, 'starter');
  });

  it("accepts Kraken's documented tiers only", () => {
    for (const tier of ['starter', 'intermediate', 'pro'])
      assert.equal(loadEnclaveConfig({ ...ENCLAVE, KRAKEN_TIER: tier }).KRAKEN_TIER, tier);
    assert.deepEqual(
      badVars(() => loadEnclaveConfig({ ...ENCLAVE, KRAKEN_TIER: 'gold' })),
      ['KRAKEN_TIER'],
    );
    assert.deepEqual(
      badVars(() => loadApiConfig({ KRAKEN_TIER: 'Pro' })),
      ['KRAKEN_TIER'],
    );
  });
});
