/**
 * The SDK (attestation, envelope, signatures, transparency-log verification) bundles for the
 * browser with no Node builtin, and the bundle works: it seals an envelope that opens with the
 * server-side code and verifies a signature.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
import { fromBase64, utf8 } from '../../../src/common/bytes.js';
import { openEnvelope } from '../../../src/crypto/envelope.js';
import { signJson } from '../../../src/crypto/signed-json.js';
import { nodePlatform } from '../../../src/platform/node.js';

describe('browser bundle of the client SDK', () => {
  it('builds for the browser without Node builtins, and the bundled code interoperates', async () => {
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const imported: string[] = [];
    const result = await build({
      entryPoints: ['src/client/crypto-helper.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      plugins: [
        {
          name: 'spy',
          setup: (b) =>
            b.onResolve(
              { filter: /.*/ },
              (a) => void (builtins.has(a.path) && imported.push(a.path)),
            ),
        },
      ],
    });
    assert.deepEqual(imported, []);
    assert.equal(result.errors.length, 0);
    const file = join(mkdtempSync(join(tmpdir(), 'pa-bundle-')), 'sdk.mjs');
    writeFileSync(file, result.outputFiles[0]!.contents);
    const { CryptoHelper } = (await import(
      pathToFileURL(file).href
    )) as typeof import('../../../src/client/crypto-helper.js');
    assert.equal(typeof CryptoHelper.verifyAggregates, 'function');

    const enclave = nodePlatform.x25519Generate();
    const sealed = CryptoHelper.encryptCredentials(
      { exchange: 'binance', apiKey: 'k', apiSecret: 's' },
      Buffer.from(enclave.publicKey).toString('base64'),
    );
    const plain = openEnvelope(nodePlatform, enclave, {
      ephemeralPub: fromBase64(sealed.ephemeral_pub),
      nonce: fromBase64(sealed.nonce),
      ciphertext: fromBase64(sealed.ciphertext),
      tag: fromBase64(sealed.tag),
    });
    assert.deepEqual(plain, utf8('{"exchange":"binance","apiKey":"k","apiSecret":"s"}'));
    const signer = nodePlatform.ed25519Generate();
    const signed = signJson(nodePlatform, signer.privateKey, { pnl: 1 });
    assert.equal(
      CryptoHelper.verifySignedAggregates(signed, Buffer.from(signer.publicKey).toString('base64')),
      true,
    );
  });
});
