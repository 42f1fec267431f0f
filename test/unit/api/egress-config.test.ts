import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadApiConfig } from '../../../src/api/config.js';
import { parseConnectTarget } from '../../../src/api/egress-proxy.js';
import { loadEnclaveConfig } from '../../../src/enclave/config.js';
import { exchangeEndpoints } from '../../../src/enclave/exchanges.js';
import { ConfigError } from '../../../src/runtime/config.js';

const badVars = (f: () => unknown): string[] => {
  try {
    f();
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.variables;
  }
};

describe('parseConnectTarget', () => {
  it('canonicalises names to lowercase host:port', () => {
    assert.deepEqual(parseConnectTarget('API.Binance.com:443'), {
      key: 'api.binance.com:443',
      host: 'api.binance.com',
      port: 443,
    });
    assert.equal(parseConnectTarget('[::1]:8443')?.key, '[::1]:8443');
  });
  for (const t of [
    undefined,
    '',
    'api.binance.com',
    'api.binance.com:0',
    'api.binance.com:65536',
    'api.binance.com:443/x',
    'user@api.binance.com:443',
    '-bad.example:443',
    'a..b:443',
    'http://api.binance.com:443',
  ]) {
    it(`refuses ${JSON.stringify(t)}`, () => assert.equal(parseConnectTarget(t), null));
  }
});

describe('egress config', () => {
  it('host: EGRESS_ALLOW_HOSTS is its own comma list of host:port; empty means no proxy', () => {
    assert.deepEqual(loadApiConfig({}).EGRESS_ALLOW_HOSTS, []);
    const c = loadApiConfig({ EGRESS_ALLOW_HOSTS: 'api.binance.com:443,api1.binance.com:443' });
    assert.deepEqual(c.EGRESS_ALLOW_HOSTS, ['api.binance.com:443', 'api1.binance.com:443']);
    assert.equal(c.EGRESS_PROXY_PORT, 3128);
    assert.deepEqual(
      badVars(() => loadApiConfig({ EGRESS_ALLOW_HOSTS: 'api.binance.com' })),
      ['EGRESS_ALLOW_HOSTS'],
    );
    assert.deepEqual(
      badVars(() => loadApiConfig({ EGRESS_ALLOW_HOSTS: 'a.example:70000' })),
      ['EGRESS_ALLOW_HOSTS'],
    );
    assert.deepEqual(
      badVars(() => loadApiConfig({ EGRESS_VSOCK_PORT: '8001' })),
      ['EGRESS_ALLOW_HOSTS'],
    );
  });

  it('enclave: EGRESS_PROXY_URL must be a local http:// proxy; the vsock leg needs it', () => {
    const env = {
      ENCLAVE_SOCKET: '/tmp/e.sock',
      KMS_KEY_ID: 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000',
    };
    const c = loadEnclaveConfig({ ...env, EGRESS_PROXY_URL: 'http://127.0.0.1:3128' });
    assert.equal(c.EGRESS_PROXY_URL, 'http://127.0.0.1:3128');
    for (const url of ['http://proxy.example:3128', 'https://127.0.0.1:3128', 'http://127.0.0.1']) {
      assert.deepEqual(
        badVars(() => loadEnclaveConfig({ ...env, EGRESS_PROXY_URL: url })),
        ['EGRESS_PROXY_URL'],
        url,
      );
    }
    assert.deepEqual(
      badVars(() => loadEnclaveConfig({ ...env, EGRESS_VSOCK_PORT: '8001' })),
      ['EGRESS_PROXY_URL'],
    );
  });

  it('enclave: the proxy applies to every exchange endpoint, official or overridden', () => {
    const eps = exchangeEndpoints({}, { httpsProxy: 'http://127.0.0.1:3128' });
    assert.equal(eps['binance']!.httpsProxy, 'http://127.0.0.1:3128');
    assert.equal(exchangeEndpoints({})['binance']!.httpsProxy, undefined);
  });
});
