/**
 * The local key service: a development stand-in for AWS KMS that speaks the same wire API subset
 * (JSON 1.1 over HTTP, `X-Amz-Target: TrentService.GenerateDataKey | TrentService.Decrypt`, SigV4),
 * so the enclave's one KMS client code path (@aws-sdk/client-kms) runs unchanged against it.
 *
 * It enforces what the production key policy enforces (docs/architecture.md, "Key ring"):
 * - every request must carry `Recipient` with a valid attestation document (the lab policy's
 *   DenyUnattestedDecrypt: "Deny when the condition key is absent");
 * - the document must chain to the dev root and be fresh (KMS checks the AWS root and age);
 * - its PCR0 must be one of the allowed values: `kms:RecipientAttestation:ImageSha384`;
 * - the answer goes only into `CiphertextForRecipient`, encrypted to the document's `public_key`.
 * Data keys are wrapped under a master key (AES-256-GCM) with the encryption context as AAD.
 */
import {
  constants,
  createCipheriv,
  createHash,
  createPublicKey,
  publicEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fromBase64, toBase64, toHex, utf8, concatBytes } from '../common/bytes.js';
import { jcsBytes } from '../crypto/jcs.js';
import { encodeRecipientEnvelope } from '../crypto/cms-recipient.js';
import { verifyAttestationDocument } from '../attestation/nitro-verify.js';
import { nodePlatform } from '../platform/node.js';
import { verifySigV4, type SigV4Credentials } from './sigv4.js';

export interface KeyServiceOptions {
  masterKey: Uint8Array;
  keyArn: string;
  region: string;
  credentials: SigV4Credentials;
  /** Allowed PCR0 values, lowercase hex (the key policy's ImageSha384 condition). */
  allowedPcr0: readonly string[];
  /** The attestation trust root (DER), or null while none exists yet. */
  trustedRoot: () => Uint8Array | null;
  now: () => number;
  log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
}

type KmsErrorType =
  | 'AccessDeniedException'
  | 'InvalidCiphertextException'
  | 'NotFoundException'
  | 'ValidationException'
  | 'UnknownOperationException'
  | 'SerializationException'
  | 'IncorrectKeyException';

class KmsFault extends Error {
  constructor(
    readonly type: KmsErrorType,
    message: string,
    /** Why, for the service's own log (never sent). */
    readonly reason: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 64 * 1024;
const BLOB_MAGIC = utf8('PAK1');
const BLOB_AAD = 'perf-aggregator/local-kms/v1';
const ATTESTATION_MAX_AGE_MS = 5 * 60_000;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) {
        reject(new KmsFault('ValidationException', 'request too large', 'body_too_large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function context(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (
    typeof v !== 'object' ||
    Array.isArray(v) ||
    !Object.values(v as object).every((x) => typeof x === 'string')
  )
    throw new KmsFault(
      'ValidationException',
      'EncryptionContext must map strings to strings',
      'context',
    );
  return v as Record<string, string>;
}

function b64Field(o: Record<string, unknown>, key: string, max: number): Uint8Array {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw new KmsFault('ValidationException', `${key} is required`, `missing_${key}`);
  try {
    return fromBase64(v);
  } catch {
    throw new KmsFault('SerializationException', `${key} is not base64`, `b64_${key}`);
  }
}

export function createKeyService(opts: KeyServiceOptions): Server {
  const keyId = opts.keyArn.slice(opts.keyArn.lastIndexOf('/') + 1);
  const allowed = new Set(opts.allowedPcr0.map((p) => p.toLowerCase()));

  const checkKeyId = (v: unknown): void => {
    if (v !== opts.keyArn && v !== keyId)
      throw new KmsFault('NotFoundException', 'key not found', 'unknown_key_id');
  };

  const aad = (ctx: Record<string, string>): Uint8Array =>
    concatBytes(utf8(`${BLOB_AAD}\n${opts.keyArn}\n`), jcsBytes(ctx));

  const wrap = (dk: Uint8Array, ctx: Record<string, string>): Uint8Array => {
    const nonce = nodePlatform.randomBytes(12);
    return concatBytes(
      BLOB_MAGIC,
      nonce,
      nodePlatform.aesGcmSeal(opts.masterKey, nonce, dk, aad(ctx)),
    );
  };

  const unwrap = (blob: Uint8Array, ctx: Record<string, string>): Uint8Array => {
    const ok = blob.length === 4 + 12 + 32 + 16 && BLOB_MAGIC.every((b, i) => blob[i] === b);
    const dk = ok
      ? nodePlatform.aesGcmOpen(opts.masterKey, blob.subarray(4, 16), blob.subarray(16), aad(ctx))
      : null;
    if (!dk)
      throw new KmsFault('InvalidCiphertextException', 'ciphertext is invalid', 'blob_or_context');
    return dk;
  };

  /** The key policy: attested, fresh, chained to the trusted root, PCR0 allowed. */
  const recipientKey = async (r: unknown): Promise<{ key: KeyObject; pcr0: string }> => {
    if (typeof r !== 'object' || r === null)
      throw new KmsFault('AccessDeniedException', 'access denied', 'no_recipient');
    const rec = r as Record<string, unknown>;
    if (rec['KeyEncryptionAlgorithm'] !== 'RSAES_OAEP_SHA_256')
      throw new KmsFault(
        'ValidationException',
        'KeyEncryptionAlgorithm must be RSAES_OAEP_SHA_256',
        'key_encryption_algorithm',
      );
    const docBytes = b64Field(rec, 'AttestationDocument', 16384);
    const root = opts.trustedRoot();
    if (!root) throw new KmsFault('AccessDeniedException', 'access denied', 'no_trusted_root');
    let verified;
    try {
      verified = await verifyAttestationDocument(docBytes, {
        trustedRoots: [root],
        at: opts.now(),
        maxAgeMs: ATTESTATION_MAX_AGE_MS,
      });
    } catch (e) {
      throw new KmsFault(
        'AccessDeniedException',
        'access denied',
        `attestation:${(e as { code?: string }).code ?? 'invalid'}`,
      );
    }
    if (verified.debug || !allowed.has(verified.imageHash))
      throw new KmsFault('AccessDeniedException', 'access denied', 'image_sha384_not_allowed');
    const pub = verified.document.public_key;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: Buffer.from(pub ?? []), format: 'der', type: 'spki' });
    } catch {
      throw new KmsFault(
        'ValidationException',
        'attestation public_key is not an RSA SPKI',
        'public_key',
      );
    }
    if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new KmsFault(
        'ValidationException',
        'attestation public_key must be RSA-2048 or larger',
        'public_key_size',
      );
    return { key, pcr0: verified.imageHash };
  };

  /** CMS EnvelopedData of `plain` to the recipient key, as KMS builds `CiphertextForRecipient`. */
  const forRecipient = (key: KeyObject, plain: Uint8Array): string => {
    const cek = randomBytes(32);
    const iv = randomBytes(16);
    const c = createCipheriv('aes-256-cbc', cek, iv);
    const spki = key.export({ type: 'spki', format: 'der' });
    return toBase64(
      encodeRecipientEnvelope({
        // RFC 5280 §4.2.1.2 suggests SHA-1 of the key; it only names the recipient.
        subjectKeyId: new Uint8Array(createHash('sha1').update(spki).digest()),
        encryptedKey: publicEncrypt(
          { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          cek,
        ),
        iv,
        encryptedContent: Buffer.concat([c.update(plain), c.final()]),
      }),
    );
  };

  const ops: Record<string, (body: Record<string, unknown>) => Promise<Record<string, unknown>>> = {
    async GenerateDataKey(body) {
      checkKeyId(body['KeyId']);
      if (!(body['KeySpec'] === 'AES_256' || body['NumberOfBytes'] === 32))
        throw new KmsFault(
          'ValidationException',
          'only AES_256 data keys are supported',
          'key_spec',
        );
      const ctx = context(body['EncryptionContext']);
      const { key, pcr0 } = await recipientKey(body['Recipient']);
      const dk = nodePlatform.randomBytes(32);
      opts.log.info({ event: 'kms_generate_data_key', image_sha384: pcr0 }, 'data key generated');
      return {
        KeyId: opts.keyArn,
        CiphertextBlob: toBase64(wrap(dk, ctx)),
        CiphertextForRecipient: forRecipient(key, dk),
      };
    },
    async Decrypt(body) {
      if (body['KeyId'] !== undefined) checkKeyId(body['KeyId']);
      if (
        body['EncryptionAlgorithm'] !== undefined &&
        body['EncryptionAlgorithm'] !== 'SYMMETRIC_DEFAULT'
      )
        throw new KmsFault(
          'IncorrectKeyException',
          'unsupported encryption algorithm',
          'algorithm',
        );
      const blob = b64Field(body, 'CiphertextBlob', 8192);
      const ctx = context(body['EncryptionContext']);
      // Policy before ciphertext: an unattested caller learns nothing about the blob.
      const { key, pcr0 } = await recipientKey(body['Recipient']);
      const dk = unwrap(blob, ctx);
      opts.log.info({ event: 'kms_decrypt', image_sha384: pcr0 }, 'data key unwrapped');
      return {
        KeyId: opts.keyArn,
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        CiphertextForRecipient: forRecipient(key, dk),
      };
    },
  };

  const send = (res: ServerResponse, status: number, body: object, type?: string): void => {
    const json = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(json),
      'x-amzn-requestid': toHex(nodePlatform.randomBytes(16)),
      ...(type && { 'x-amzn-errortype': type }),
    });
    res.end(json);
  };

  return createServer((req, res) => {
    void (async () => {
      try {
        if (req.method !== 'POST' || req.url !== '/')
          throw new KmsFault('UnknownOperationException', 'unknown operation', 'route');
        const body = await readBody(req);
        const sig = verifySigV4(
          { method: req.method, url: req.url, headers: req.headers, body },
          { service: 'kms', region: opts.region, credentials: [opts.credentials], now: opts.now() },
        );
        if (!sig.ok) {
          opts.log.warn({ event: 'kms_auth_failed', type: sig.type }, 'request signature refused');
          return send(res, 400, { __type: sig.type, message: sig.message }, sig.type);
        }
        const target = req.headers['x-amz-target'];
        const name =
          typeof target === 'string' && target.startsWith('TrentService.') ? target.slice(13) : '';
        const op = Object.prototype.hasOwnProperty.call(ops, name) ? ops[name] : undefined;
        if (!op) throw new KmsFault('UnknownOperationException', 'unknown operation', 'target');
        if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1'))
          throw new KmsFault(
            'SerializationException',
            'content type must be application/x-amz-json-1.1',
            'content_type',
          );
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          throw new KmsFault('SerializationException', 'body is not JSON', 'json');
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new KmsFault('SerializationException', 'body is not a JSON object', 'json');
        send(res, 200, await op(parsed as Record<string, unknown>));
      } catch (e) {
        const f =
          e instanceof KmsFault
            ? e
            : new KmsFault('ValidationException', 'request failed', 'internal');
        opts.log.warn(
          { event: 'kms_refused', type: f.type, reason: f.reason },
          'key service refused a request',
        );
        send(res, 400, { __type: f.type, message: f.message }, f.type);
      }
    })();
  });
}
