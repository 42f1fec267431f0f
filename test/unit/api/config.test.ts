import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadApiConfig } from '../../../src/api/config.js';
import { loadEnclaveConfig } from '../../../src/enclave/config.js';
import { ConfigError } from '../../../src/runtime/config.js';

describe('config', () => {
  it('applies the documented defaults and freezes the result', () => {
    const c = loadApiConfig({});
    assert.equal(c.ENCLAVE_PORT, 3000);
    assert.equal(c.MAX_TTL_SECONDS, 604800);
    assert.equal(c.RATE_LIMIT_MAX, 100);
    assert.equal(c.RATE_LIMIT_WINDOW, 900000);
    assert.equal(c.DATA_DIR, './.data');
    assert.equal(c.DATABASE_URL, undefined);
    assert.deepEqual(c.ALLOWED_ORIGINS, []);
    assert.ok(Object.isFrozen(c));
  });

  it('parses origins and per-exchange base URLs', () => {
    const c = loadApiConfig({
      ALLOWED_ORIGINS: 'https://a.example,https://b.example',
      EXCHANGE_BASE_URL_BINANCE: 'http://127.0.0.1:9100',
    });
    assert.deepEqual(c.ALLOWED_ORIGINS, ['https://a.example', 'https://b.example']);
    assert.deepEqual(c.exchangeBaseUrls, { binance: 'http://127.0.0.1:9100' });
  });

  it('names every bad variable, never its value', () => {
    const secretish = 'postgres://user:hunter2@db/x';
    try {
      loadApiConfig({
        ENCLAVE_PORT: 'abc',
        RATE_LIMIT_MAX: '0',
        DATABASE_URL: `mysql${secretish}`,
        ALLOWED_ORIGINS: 'not a url',
      });
      assert.fail('expected a ConfigError');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual([...e.variables].sort(), [
        'ALLOWED_ORIGINS',
        'DATABASE_URL',
        'ENCLAVE_PORT',
        'RATE_LIMIT_MAX',
      ]);
      assert.ok(!e.message.includes('hunter2'));
    }
    assert.throws(
      () => loadApiConfig({ EXCHANGE_BASE_URL_BINANCE: 'ftp://x' }),
      (e: unknown) => e instanceof ConfigError && e.variables.includes('EXCHANGE_BASE_URL_BINANCE'),
    );
    assert.throws(
      () => loadEnclaveConfig({}),
      (e: unknown) => e instanceof ConfigError && e.variables.includes('ENCLAVE_SOCKET'),
    );
    assert.throws(
      () => loadApiConfig({ MAX_TTL_SECONDS: '30' }),
      (e: unknown) => e instanceof ConfigError && e.variables.includes('MAX_TTL_SECONDS'),
    );
  });
});
