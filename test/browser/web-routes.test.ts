/**
 * The web client's server side and message tables, without a browser: helmet's headers on the web
 * routes only, the badge (escaping, states, the host's signature check), and a human message for
 * every protocol error code and every named check.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { API_ERRORS } from '../../src/api/errors.js';
import { renderBadge, webRoutes } from '../../src/api/routes/web.js';
import { checkAttestationDocument } from '../../src/attestation/nitro-verify.js';
import { toBase64 } from '../../src/common/bytes.js';
import { signJson } from '../../src/crypto/signed-json.js';
import { nodePlatform } from '../../src/platform/node.js';
import type { AccountLeaf } from '../../src/store/log-store.js';
import {
  API_MESSAGES,
  apiMessage,
  ATTESTATION_CHECKS,
  CHECK_CODES,
  RESULT_CHECKS,
} from '../../web/src/messages.js';
import { EXCHANGES } from '../../web/src/exchanges.js';
import { SUPPORTED_EXCHANGES } from '../../src/wire/exchanges.js';

const signer = nodePlatform.ed25519Generate();
const payload = {
  v: 1,
  exchange: 'binance',
  label: 'main',
  pnl: -1234.5,
  sharpe: null,
  trades: 7,
  currency: 'USDT',
};
const signed = signJson(nodePlatform, signer.privateKey, payload);

function leaf(over: Partial<AccountLeaf> = {}): AccountLeaf {
  return {
    leafIndex: 3,
    leafHash: new Uint8Array(32),
    sessionId: null,
    loggedAt: new Date(0),
    payloadJson: JSON.stringify(signed.payload),
    signature: signed.signature,
    ...over,
  };
}

async function app(leafAt: (i: number) => Promise<AccountLeaf | null>) {
  const a = Fastify();
  a.get('/api/json', async () => ({ ok: true }));
  await a.register(
    webRoutes({
      logStore: { leafAt } as never,
      enclave: { identity: async () => ({ signing_pubkey: toBase64(signer.publicKey) }) } as never,
    }),
  );
  await a.ready();
  return a;
}

describe('web routes', () => {
  it('set the strict CSP on pages only; a JSON route beside them keeps its headers', async () => {
    const a = await app(async () => null);
    const page = await a.inject({ url: '/' });
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.match(String(page.headers['content-security-policy']), /require-trusted-types-for/);
    assert.equal(page.headers['x-frame-options'], 'SAMEORIGIN');
    const json = await a.inject({ url: '/api/json' });
    assert.equal(json.headers['content-security-policy'], undefined);
    assert.equal(json.headers['x-frame-options'], undefined);
    assert.equal(json.headers['permissions-policy'], undefined);
    await a.close();
  });

  it('serve only the listed assets, with an ETag and 304', async () => {
    const a = await app(async () => null);
    const js = await a.inject({ url: '/assets/app.js' });
    assert.equal(js.statusCode, 200, 'run `npm run build` first');
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    const again = await a.inject({
      url: '/assets/app.js',
      headers: { 'if-none-match': String(js.headers['etag']) },
    });
    assert.equal(again.statusCode, 304);
    for (const url of [
      '/assets/x.js',
      '/assets/crypto-helper.js',
      '/crypto-helper.js',
      '/index.html',
    ])
      assert.equal((await a.inject({ url })).statusCode, 404, url);
    await a.close();
  });

  it('badge: headline numbers of a live entry the attested key signed', async () => {
    const a = await app(async (i) => (i === 3 ? leaf() : null));
    const r = await a.inject({ url: '/r/3/badge.svg' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^image\/svg\+xml/);
    assert.equal(r.headers['cross-origin-resource-policy'], 'cross-origin');
    assert.match(String(r.headers['content-security-policy']), /^default-src 'none'/);
    assert.match(r.body, /binance main · PnL −1,234\.50 USDT · Sharpe n\/a · 7 trades/);
    assert.equal((await a.inject({ url: '/r/4/badge.svg' })).statusCode, 404);
    assert.equal((await a.inject({ url: '/r/01/badge.svg' })).statusCode, 404);
    await a.close();
  });

  it('badge: a revoked entry, and a row whose signature does not verify', async () => {
    const a = await app(async (i) =>
      i === 1
        ? leaf({ payloadJson: null, signature: null })
        : leaf({ payloadJson: JSON.stringify({ ...payload, pnl: 1e9 }) }),
    );
    assert.match((await a.inject({ url: '/r/1/badge.svg' })).body, /revoked by the owner/);
    const bad = (await a.inject({ url: '/r/2/badge.svg' })).body;
    assert.match(bad, /signature does not verify/);
    assert.doesNotMatch(bad, /1,000,000,000/);
    await a.close();
  });

  it('renderBadge escapes every piece of text', () => {
    const svg = renderBadge(
      {
        status: 'live',
        payload: { exchange: '<script>x</script>', label: `a"b'c&d`, currency: '<b>', pnl: 1 },
      },
      0,
    );
    assert.doesNotMatch(svg, /<script|<b>|a"b/);
    assert.match(svg, /&lt;script&gt;x&lt;\/script&gt; a&quot;b&#39;c&amp;d/);
    assert.equal((svg.match(/</g) ?? []).length, (svg.match(/>/g) ?? []).length);
  });
});

describe('web messages', () => {
  it('every API error code of the registry and of docs/errors.md has a human message', () => {
    // The codes a client can receive: the table before "Codes inside the process boundary".
    const clientFacing = readFileSync('docs/errors.md', 'utf8').split(
      '## Codes inside the process boundary',
    )[0]!;
    const documented = [...clientFacing.matchAll(/^\| `((?!ERR_)[A-Z_]+)` \|/gm)];
    assert.ok(documented.length > 10);
    for (const code of [...Object.keys(API_ERRORS), ...documented.map((m) => m[1]!)])
      assert.ok(API_MESSAGES[code], code);
    assert.match(apiMessage('RATE_LIMITED', 30), /Try again in 30 s/);
    assert.equal(apiMessage('SOMETHING_NEW'), API_MESSAGES['HTTP_ERROR']);
  });

  it('every supported exchange is offered by the form, with the read-only permission to grant', () => {
    assert.deepEqual(EXCHANGES.map((e) => e.id).sort(), [...SUPPORTED_EXCHANGES].sort());
    for (const e of EXCHANGES) assert.ok(e.permission.length > 0 && e.name, e.id);
  });

  it('every attestation check and verifier code has a label', async () => {
    const v = await checkAttestationDocument(new Uint8Array([0]), { trustedRoots: [], at: 0 });
    assert.ok(v.checks.length > 10);
    for (const c of v.checks) assert.ok(ATTESTATION_CHECKS[c.name], c.name);
    for (const [, code] of readFileSync('docs/errors.md', 'utf8').matchAll(
      /`(ERR_ATTESTATION_[A-Z_]+)`/g,
    ))
      assert.ok(CHECK_CODES[code!], code);
    for (const name of ['attestation', 'key_binding', 'signature', 'image_hash', 'inclusion'])
      assert.ok(RESULT_CHECKS[name], name);
  });
});
