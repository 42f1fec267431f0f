/**
 * The local key service checks what AWS KMS and the production key policy check: SigV4, the
 * attestation document (root, freshness, debug PCRs), PCR0 against the policy, the key id and the
 * encryption context. Driven with the real @aws-sdk/client-kms over loopback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { toHex } from '../../../src/common/bytes.js';
import { createDevNsm, type DevNsm } from '../../../src/enclave/dev-nsm.js';
import { createRecipientKey } from '../../../src/enclave/recipient-key.js';
import { KEYRING_CONTEXT } from '../../../src/enclave/kms-key-service.js';
import { nodePlatform } from '../../../src/platform/node.js';
import { startLocalKms, type LocalKms } from '../../helpers/inprocess-enclave.js';

const PCR0 = nodePlatform.sha384(new TextEncoder().encode('allowed image'));
const OTHER = nodePlatform.sha384(new TextEncoder().encode('other image'));
const ZERO = new Uint8Array(48);

describe('local key service (KMS API subset)', { timeout: 60_000 }, () => {
  let kms: LocalKms;
  let nsm: DevNsm;
  let kmsClient: KMSClient;

  const client = (secret?: string, accessKeyId?: string): KMSClient =>
    new KMSClient({
      region: 'local',
      endpoint: kms.url,
      maxAttempts: 1,
      credentials: {
        accessKeyId: accessKeyId ?? kms.credentials.access_key_id,
        secretAccessKey: secret ?? kms.credentials.secret_access_key,
      },
    });

  const recipient = async (n = nsm) => {
    const key = createRecipientKey();
    const doc = await n.attest({ publicKey: key.publicKeyDer });
    return {
      key,
      info: { AttestationDocument: doc, KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' as const },
    };
  };

  const nsmWith = (pcr0: Uint8Array, dataDir = kms.dataDir, now?: () => number) =>
    createDevNsm({ dataDir, moduleId: 't', pcrs: new Map([[0, pcr0]]), ...(now && { now }) });

  const rejectsWith = async (p: Promise<unknown>, name: string, reason?: string) => {
    const before = kms.logs.length;
    await assert.rejects(p, (e) => (e as { name?: string }).name === name);
    if (reason !== undefined)
      assert.ok(
        kms.logs.slice(before).some((l) => l['reason'] === reason),
        `logged reason ${reason}: ${JSON.stringify(kms.logs.slice(before))}`,
      );
  };

  before(async () => {
    kms = await startLocalKms([toHex(PCR0), toHex(ZERO)]);
    nsm = await nsmWith(PCR0);
    kmsClient = client();
  });
  after(async () => {
    kmsClient?.destroy();
    await kms?.close();
  });

  it('GenerateDataKey then Decrypt: the data key reaches only the recipient key', async () => {
    const r1 = await recipient();
    const g = await kmsClient.send(
      new GenerateDataKeyCommand({
        KeyId: kms.keyArn,
        KeySpec: 'AES_256',
        EncryptionContext: KEYRING_CONTEXT,
        Recipient: r1.info,
      }),
    );
    assert.equal(g.KeyId, kms.keyArn);
    assert.equal(g.Plaintext, undefined, 'no plaintext when a Recipient is given');
    const dk = r1.key.open(g.CiphertextForRecipient!);
    assert.equal(dk.length, 32);
    const r2 = await recipient();
    const d = await kmsClient.send(
      new DecryptCommand({
        KeyId: kms.keyArn,
        CiphertextBlob: g.CiphertextBlob,
        EncryptionContext: KEYRING_CONTEXT,
        Recipient: r2.info,
      }),
    );
    assert.deepEqual(r2.key.open(d.CiphertextForRecipient!), dk);
    assert.throws(() => r1.key.open(d.CiphertextForRecipient!), 'another RSA key cannot open it');

    // The wrapped key is bound to its encryption context and to its bytes.
    await rejectsWith(
      kmsClient.send(
        new DecryptCommand({
          CiphertextBlob: g.CiphertextBlob,
          EncryptionContext: { ...KEYRING_CONTEXT, v: '3' },
          Recipient: (await recipient()).info,
        }),
      ),
      'InvalidCiphertextException',
    );
    const flipped = new Uint8Array(g.CiphertextBlob!);
    flipped[20]! ^= 1;
    await rejectsWith(
      kmsClient.send(
        new DecryptCommand({
          CiphertextBlob: flipped,
          EncryptionContext: KEYRING_CONTEXT,
          Recipient: (await recipient()).info,
        }),
      ),
      'InvalidCiphertextException',
    );
  });

  it('denies requests without Recipient, for another PCR0, debug PCRs, stale or foreign documents', async () => {
    const gen = (info?: unknown, c = kmsClient) =>
      c.send(
        new GenerateDataKeyCommand({
          KeyId: kms.keyArn,
          KeySpec: 'AES_256',
          ...(info !== undefined && { Recipient: info as never }),
        }),
      );
    await rejectsWith(gen(), 'AccessDeniedException', 'no_recipient');
    await rejectsWith(
      gen((await recipient(await nsmWith(OTHER))).info),
      'AccessDeniedException',
      'image_sha384_not_allowed',
    );
    await rejectsWith(
      // Even when listed: a debug-mode enclave (all-zero PCRs) is never trusted.
      gen((await recipient(await nsmWith(ZERO))).info),
      'AccessDeniedException',
      'attestation:ERR_ATTESTATION_DEBUG',
    );
    // A key service whose clock is 6 minutes ahead sees a document from now as too old.
    const ahead = await startLocalKms([toHex(PCR0)], kms.dataDir, () => Date.now() + 6 * 60_000);
    const aheadClient = new KMSClient({
      region: 'local',
      endpoint: ahead.url,
      maxAttempts: 1,
      credentials: {
        accessKeyId: ahead.credentials.access_key_id,
        secretAccessKey: ahead.credentials.secret_access_key,
      },
    });
    try {
      await assert.rejects(
        gen((await recipient()).info, aheadClient),
        (e) => (e as { name?: string }).name === 'AccessDeniedException',
      );
      assert.ok(ahead.logs.some((l) => l['reason'] === 'attestation:ERR_ATTESTATION_STALE'));
    } finally {
      aheadClient.destroy();
      await ahead.close();
    }
    const foreign = await nsmWith(PCR0, mkdtempSync(join(tmpdir(), 'pa-foreign-')));
    await rejectsWith(
      gen((await recipient(foreign)).info),
      'AccessDeniedException',
      'attestation:ERR_ATTESTATION_UNTRUSTED_ROOT',
    );
  });

  it('checks SigV4: unknown access key, wrong secret, missing Authorization', async () => {
    const info = (await recipient()).info;
    const req = new GenerateDataKeyCommand({
      KeyId: kms.keyArn,
      KeySpec: 'AES_256',
      Recipient: info,
    });
    const wrongSecret = client('x'.repeat(40));
    const unknownKey = client(undefined, 'AKIA0000000000000000');
    await rejectsWith(wrongSecret.send(req), 'InvalidSignatureException');
    await rejectsWith(unknownKey.send(req), 'UnrecognizedClientException');
    wrongSecret.destroy();
    unknownKey.destroy();
    const raw = await fetch(kms.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'TrentService.GenerateDataKey',
      },
      body: JSON.stringify({ KeyId: kms.keyArn, KeySpec: 'AES_256' }),
    });
    assert.equal(raw.status, 400);
    assert.equal(
      ((await raw.json()) as { __type: string }).__type,
      'MissingAuthenticationTokenException',
    );
  });

  it('refuses another key id', async () => {
    await rejectsWith(
      kmsClient.send(
        new GenerateDataKeyCommand({
          KeyId: kms.keyArn.replace(/.{4}$/, '0000'),
          KeySpec: 'AES_256',
          Recipient: (await recipient()).info,
        }),
      ),
      'NotFoundException',
    );
  });
});
