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

  it('validates the key ring and secret settings together', () => {
    const names = (
      env: NodeJS.ProcessEnv,
      load: (e: NodeJS.ProcessEnv) => unknown = loadApiConfig,
    ) => {
      try {
        load(env);
        return [];
      } catch (e) {
        assert.ok(e instanceof ConfigError);
        return [...e.variables].sort();
      }
    };
    const c = loadApiConfig({});
    assert.equal(c.KEY_SERVICE, 'local');
    assert.equal(c.KEY_ROTATION_HOURS, 24);
    assert.deepEqual(names({ KEY_SERVICE: 'aws-kms' }), ['KMS_KEY_ID', 'KMS_REGION']);
    const arn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    assert.deepEqual(
      names({ KEY_SERVICE: 'aws-kms', KMS_KEY_ID: arn, KMS_REGION: 'eu-west-1' }),
      [],
    );
    assert.deepEqual(names({ KMS_KEY_ID: 'alias/perf' }), ['KMS_KEY_ID']);
    assert.deepEqual(names({ KMS_ENDPOINT: 'http://kms.example' }), ['KMS_ENDPOINT'], 'https only');
    const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:perf/db-AbCdEf';
    assert.deepEqual(names({ DATABASE_SECRET_ARN: secret }), ['AWS_REGION']);
    assert.deepEqual(
      names({ DATABASE_SECRET_ARN: secret, AWS_REGION: 'eu-west-1', DATABASE_URL: 'postgres://x' }),
      ['DATABASE_SECRET_ARN', 'DATABASE_URL'],
    );
    assert.deepEqual(names({ KEY_ROTATION_HOURS: '0' }), ['KEY_ROTATION_HOURS']);
    // More than ~1000 keys alive at once (7 days of TTL, a key every 6 minutes) is refused.
    assert.deepEqual(names({ KEY_ROTATION_HOURS: '0.1' }), [
      'KEY_ROTATION_HOURS',
      'MAX_TTL_SECONDS',
    ]);
    assert.deepEqual(names({ KEY_ROTATION_HOURS: '0.1', MAX_TTL_SECONDS: '3600' }), []);

    const enclave = { ENCLAVE_SOCKET: '/tmp/e.sock', KMS_KEY_ID: arn };
    assert.deepEqual(names({ ENCLAVE_SOCKET: '/tmp/e.sock' }, loadEnclaveConfig), ['KMS_KEY_ID']);
    assert.deepEqual(names(enclave, loadEnclaveConfig), []);
    // Plain http only to a loopback key service; anything else must be TLS ending in the enclave.
    for (const [url, bad] of [
      ['http://127.0.0.1:4000', false],
      ['https://kms.eu-west-1.amazonaws.com', false],
      ['http://kms.eu-west-1.amazonaws.com', true],
      ['http://10.0.0.5:4000', true],
    ] as const)
      assert.deepEqual(
        names({ ...enclave, KMS_ENDPOINT: url }, loadEnclaveConfig),
        bad ? ['KMS_ENDPOINT'] : [],
        url,
      );
    assert.deepEqual(names({ ...enclave, KEY_ROTATION_HOURS: '0.001' }, loadEnclaveConfig), [
      'KEY_ROTATION_HOURS',
      'MAX_TTL_SECONDS',
    ]);
  });

  it('TRUST_PROXY: false by default, true, or a list of addresses, CIDRs and proxy-addr keywords', () => {
    assert.equal(loadApiConfig({}).TRUST_PROXY, false);
    assert.equal(loadApiConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY, true);
    assert.deepEqual(
      loadApiConfig({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,fd00::/8,loopback' }).TRUST_PROXY,
      ['10.0.0.1', '192.168.0.0/16', 'fd00::/8', 'loopback'],
    );
    for (const bad of ['yes', '10.0.0.1/33', '10.0.0.300', 'fd00::/129', '10.0.0.1,', 'a/b/c'])
      assert.throws(
        () => loadApiConfig({ TRUST_PROXY: bad }),
        (e: unknown) => e instanceof ConfigError && e.variables.includes('TRUST_PROXY'),
        bad,
      );
  });

  it('REDIS_URL must be a redis URL; shutdown grace and enclave capacity have defaults', () => {
    const c = loadApiConfig({});
    assert.equal(c.REDIS_URL, undefined);
    assert.equal(c.SHUTDOWN_GRACE_MS, 10000);
    assert.equal(c.ENCLAVE_MAX_INFLIGHT, 64);
    assert.equal(
      loadApiConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).REDIS_URL,
      'redis://127.0.0.1:6379',
    );
    assert.throws(() => loadApiConfig({ REDIS_URL: 'http://x' }), ConfigError);
  });
});
