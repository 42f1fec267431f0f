/**
 * The enclave's side of a KMS `Recipient` exchange: an ephemeral RSA-2048 key pair whose public
 * half (SPKI DER) goes into the attestation document's `public_key`, and the unwrapping of the CMS
 * `CiphertextForRecipient` KMS encrypts to it (RSAES-OAEP-SHA-256 key transport, AES-256-CBC
 * content). A fresh key per request: nothing KMS returns can be opened later by a leaked key.
 */
import {
  createDecipheriv,
  generateKeyPairSync,
  privateDecrypt,
  constants,
  type KeyObject,
} from 'node:crypto';
import { decodeRecipientEnvelope } from '../crypto/cms-recipient.js';
import { CodedError } from '../common/errors.js';

export class RecipientError extends CodedError<'ERR_RECIPIENT_DECRYPT'> {}

export interface RecipientKey {
  /** SPKI DER of the RSA-2048 public key, for the attestation document. */
  publicKeyDer: Uint8Array;
  /** Opens a `CiphertextForRecipient`; throws RecipientError on any failure. */
  open(cms: Uint8Array): Uint8Array;
}

export function openRecipientEnvelope(privateKey: KeyObject, cms: Uint8Array): Uint8Array {
  const env = decodeRecipientEnvelope(cms);
  try {
    const cek = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      env.encryptedKey,
    );
    if (cek.length !== 32) throw new Error('content key length');
    const d = createDecipheriv('aes-256-cbc', cek, env.iv);
    return new Uint8Array(Buffer.concat([d.update(env.encryptedContent), d.final()]));
  } catch (cause) {
    throw new RecipientError('ERR_RECIPIENT_DECRYPT', 'CiphertextForRecipient did not open', {
      cause,
    });
  }
}

export function createRecipientKey(): RecipientKey {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    publicKeyDer: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    open: (cms) => openRecipientEnvelope(privateKey, cms),
  };
}
