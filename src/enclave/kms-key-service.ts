/**
 * The enclave's key service client: AWS KMS `GenerateDataKey` / `Decrypt` with `Recipient`
 * (@aws-sdk/client-kms), the same code against AWS and against the local key service
 * (src/keyservice/, which speaks the same API). Each call makes a fresh RSA-2048 key, puts its
 * public half in an attestation document, and opens the CMS `CiphertextForRecipient` here: the
 * data key exists in plaintext only inside the enclave.
 *
 * Trust: in production the endpoint is https and TLS terminates inside the enclave: with
 * `egressProxy` set (Nitro: EGRESS_PROXY_URL, the enclave end of the vsock bridge to the host's
 * CONNECT proxy) every https request is tunnelled by ConnectTunnelAgent, so the host relays TLS
 * bytes only, so the host can neither read nor forge KMS answers; the
 * answer's KeyId must also be the pinned key ARN. In development the local key service is plain
 * HTTP on loopback; the dev root key sits in DATA_DIR anyway, so dev mode proves the format and
 * the policy logic, not confidentiality against the host.
 */
import {
  DecryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  type RecipientInfo,
} from '@aws-sdk/client-kms';
import { CodedError } from '../common/errors.js';
import { ConnectTunnelAgent } from './connect-tunnel-agent.js';
import { createRecipientKey } from './recipient-key.js';

export type KeyServiceCode =
  | 'KEY_SERVICE_DENIED' // the key policy refused this enclave (PCR0, attestation, no Recipient)
  | 'KEY_SERVICE_INVALID_CIPHERTEXT' // the wrapped key is not this key's, or its context differs
  | 'KEY_SERVICE_BAD_RESPONSE' // an answer that does not open or names another key
  | 'KEY_SERVICE_UNAVAILABLE'; // network, throttling, credentials, anything else

export class KeyServiceError extends CodedError<KeyServiceCode> {}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface KeyService {
  readonly keyArn: string;
  generateDataKey(creds: AwsCredentials): Promise<{ plaintext: Uint8Array; wrapped: Uint8Array }>;
  decrypt(wrapped: Uint8Array, creds: AwsCredentials): Promise<Uint8Array>;
}

export interface KmsKeyServiceOptions {
  keyArn: string;
  region: string;
  /** Override (the local key service, or a VPC endpoint); default the regional KMS endpoint. */
  endpoint?: string | undefined;
  /**
   * CONNECT proxy for https endpoints (the enclave's only route out in Nitro); TLS to KMS still
   * starts here and is checked against the KMS host name. Plain-http endpoints (the dev key
   * service on loopback) are reached directly.
   */
  egressProxy?: string | undefined;
  /** Attestation document with `public_key` set (the enclave's NSM). */
  attest(publicKey: Uint8Array): Promise<Uint8Array>;
}

/** Bound into every wrapped key: a ring's data key cannot be passed off as anything else's. */
export const KEYRING_CONTEXT = { purpose: 'perf-aggregator/keyring', v: '2' };

function mapError(e: unknown): KeyServiceError {
  const name = (e as { name?: string }).name ?? '';
  if (name === 'AccessDeniedException')
    return new KeyServiceError('KEY_SERVICE_DENIED', 'the key service denied this enclave');
  if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException')
    return new KeyServiceError('KEY_SERVICE_INVALID_CIPHERTEXT', 'the wrapped key is not valid');
  if (e instanceof KeyServiceError) return e;
  return new KeyServiceError('KEY_SERVICE_UNAVAILABLE', 'the key service is unavailable');
}

export function createKmsKeyService(opts: KmsKeyServiceOptions): KeyService {
  const clients = new Map<string, KMSClient>();
  // One agent for the life of the service: its pooled tunnels outlive credential refreshes.
  const httpsAgent =
    opts.egressProxy === undefined
      ? undefined
      : new ConnectTunnelAgent({ proxy: opts.egressProxy });
  const client = (creds: AwsCredentials): KMSClient => {
    // One client per credential set (temporary credentials change when the host refreshes them).
    const id = `${creds.accessKeyId}:${creds.sessionToken ?? ''}`;
    let c = clients.get(id);
    if (!c) {
      for (const old of clients.values()) old.destroy();
      clients.clear();
      c = new KMSClient({
        region: opts.region,
        ...(opts.endpoint && { endpoint: opts.endpoint }),
        credentials: { ...creds },
        maxAttempts: 3,
        ...(httpsAgent && { requestHandler: { httpsAgent } }),
      });
      clients.set(id, c);
    }
    return c;
  };

  const recipient = async (): Promise<{ info: RecipientInfo; open(c: Uint8Array): Uint8Array }> => {
    const key = createRecipientKey();
    const doc = await opts.attest(key.publicKeyDer);
    return {
      info: { AttestationDocument: doc, KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' },
      open: key.open,
    };
  };

  const checked = (
    keyId: string | undefined,
    forRecipient: Uint8Array | undefined,
    open: (c: Uint8Array) => Uint8Array,
  ): Uint8Array => {
    if (keyId !== opts.keyArn || !forRecipient)
      throw new KeyServiceError(
        'KEY_SERVICE_BAD_RESPONSE',
        'the key service answered for another key',
      );
    let plain: Uint8Array;
    try {
      plain = open(forRecipient);
    } catch {
      throw new KeyServiceError('KEY_SERVICE_BAD_RESPONSE', 'CiphertextForRecipient did not open');
    }
    if (plain.length !== 32)
      throw new KeyServiceError('KEY_SERVICE_BAD_RESPONSE', 'the data key is not 32 bytes');
    return plain;
  };

  return {
    keyArn: opts.keyArn,
    async generateDataKey(creds) {
      try {
        const r = await recipient();
        const out = await client(creds).send(
          new GenerateDataKeyCommand({
            KeyId: opts.keyArn,
            KeySpec: 'AES_256',
            EncryptionContext: KEYRING_CONTEXT,
            Recipient: r.info,
          }),
        );
        const plaintext = checked(out.KeyId, out.CiphertextForRecipient, r.open);
        if (!out.CiphertextBlob || out.CiphertextBlob.length === 0)
          throw new KeyServiceError('KEY_SERVICE_BAD_RESPONSE', 'no CiphertextBlob');
        return { plaintext, wrapped: new Uint8Array(out.CiphertextBlob) };
      } catch (e) {
        throw mapError(e);
      }
    },
    async decrypt(wrapped, creds) {
      try {
        const r = await recipient();
        const out = await client(creds).send(
          new DecryptCommand({
            KeyId: opts.keyArn,
            CiphertextBlob: wrapped,
            EncryptionContext: KEYRING_CONTEXT,
            Recipient: r.info,
          }),
        );
        return checked(out.KeyId, out.CiphertextForRecipient, r.open);
      } catch (e) {
        throw mapError(e);
      }
    },
  };
}
