import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jcs } from '../../../src/crypto/jcs.js';
import { keyId } from '../../../src/crypto/key-id.js';
import { signJson, verifySignedJson } from '../../../src/crypto/signed-json.js';
import { nodePlatform } from '../../../src/platform/node.js';
import { webPlatform } from '../../../src/platform/web.js';

describe('signed JSON (Ed25519 over JCS)', () => {
  const k = nodePlatform.ed25519Generate();

  it('JCS sorts keys and uses ECMAScript number forms (RFC 8785 §3.2)', () => {
    assert.equal(jcs({ b: 1, a: [1e21, 0.000001, -0, 'é'] }), '{"a":[1e+21,0.000001,0,"é"],"b":1}');
    assert.throws(() => jcs(undefined), { code: 'ERR_JCS' });
  });

  it('a signature verifies on both platforms regardless of key order, and fails when a value changes', () => {
    const signed = signJson(nodePlatform, k.privateKey, { pnl: 1.5, trades: 3, sharpe: null });
    assert.equal(
      verifySignedJson(webPlatform, k.publicKey, {
        signature: signed.signature,
        payload: { trades: 3, sharpe: null, pnl: 1.5 },
      }),
      true,
    );
    assert.equal(
      verifySignedJson(nodePlatform, k.publicKey, {
        ...signed,
        payload: { ...signed.payload, pnl: 1.51 },
      }),
      false,
    );
    assert.equal(
      verifySignedJson(nodePlatform, k.publicKey, { ...signed, signature: 'not base64' }),
      false,
    );
    assert.equal(
      verifySignedJson(nodePlatform, nodePlatform.ed25519Generate().publicKey, signed),
      false,
    );
  });

  it('key_id is the first 16 hex chars of SHA-256(public key)', () => {
    const id = keyId(nodePlatform, k.publicKey);
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.equal(id, Buffer.from(nodePlatform.sha256(k.publicKey)).toString('hex').slice(0, 16));
  });
});
