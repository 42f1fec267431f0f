/**
 * The CMS EnvelopedData that AWS KMS returns as `CiphertextForRecipient` (RFC 5652 §6): one
 * KeyTransRecipientInfo (version 2, subjectKeyIdentifier) whose key is RSAES-OAEP-SHA-256
 * encrypted to the public key in the caller's attestation document, and AES-256-CBC content.
 * Pure ASN.1 here (browser-safe); the RSA and AES operations are the caller's.
 *
 * KMS sends BER (indefinite lengths, and the content may arrive as a constructed OCTET STRING in
 * chunks); @peculiar/asn1-schema (asn1js) decodes both, so no hand-written DER reader is needed.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  ContentInfo,
  EncryptedContent,
  EncryptedContentInfo,
  EnvelopedData,
  KeyTransRecipientInfo,
  RecipientIdentifier,
  RecipientInfo,
  RecipientInfos,
  id_data,
  id_envelopedData,
} from '@peculiar/asn1-cms';
import { RsaEsOaepParams, id_RSAES_OAEP, id_mgf1, id_sha256 } from '@peculiar/asn1-rsa';
import { AlgorithmIdentifier, SubjectKeyIdentifier } from '@peculiar/asn1-x509';
import { CodedError } from '../common/errors.js';

export class CmsError extends CodedError<'ERR_CMS_MALFORMED' | 'ERR_CMS_UNSUPPORTED'> {}

/** id-aes256-CBC (NIST CSOR, RFC 3565). */
export const ID_AES256_CBC = '2.16.840.1.101.3.4.1.42';
const MAX_INPUT = 64 * 1024;

export interface RecipientEnvelope {
  /** The recipient's subjectKeyIdentifier (informational: there is exactly one recipient). */
  subjectKeyId: Uint8Array;
  /** The content-encryption key, RSAES-OAEP-SHA-256 encrypted to the recipient's public key. */
  encryptedKey: Uint8Array;
  /** AES-256-CBC IV (16 bytes). */
  iv: Uint8Array;
  /** AES-256-CBC ciphertext (PKCS#7 padded), the chunks of a constructed OCTET STRING joined. */
  encryptedContent: Uint8Array;
}

const malformed = (what: string, cause?: unknown): CmsError =>
  new CmsError('ERR_CMS_MALFORMED', `CMS EnvelopedData is malformed: ${what}`, { cause });
const unsupported = (what: string): CmsError =>
  new CmsError('ERR_CMS_UNSUPPORTED', `CMS EnvelopedData uses an unsupported ${what}`);

function bytes(b: ArrayBuffer | ArrayBufferView): Uint8Array {
  return b instanceof ArrayBuffer
    ? new Uint8Array(b.slice(0))
    : new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function parse<T>(data: Uint8Array, type: new () => T, what: string): T {
  try {
    return AsnConvert.parse(data, type);
  } catch (e) {
    throw malformed(what, e);
  }
}

/**
 * RSAES-OAEP parameters must name SHA-256 and MGF1-SHA-256. Absent parameters would mean the
 * RFC 4055 default (SHA-1); KMS is asked for RSAES_OAEP_SHA_256, and AWS's own enclave SDK always
 * unwraps with SHA-256, so absent parameters are read the same way; explicit other hashes are refused.
 */
function checkOaep(alg: AlgorithmIdentifier): void {
  if (alg.algorithm !== id_RSAES_OAEP) throw unsupported('key encryption algorithm');
  if (!alg.parameters || alg.parameters.byteLength === 0) return;
  const p = parse(bytes(alg.parameters), RsaEsOaepParams, 'RSAES-OAEP parameters');
  const mgfHash = p.maskGenAlgorithm.parameters
    ? parse(bytes(p.maskGenAlgorithm.parameters), AlgorithmIdentifier, 'MGF1 parameters')
    : null;
  if (
    p.hashAlgorithm.algorithm !== id_sha256 ||
    p.maskGenAlgorithm.algorithm !== id_mgf1 ||
    mgfHash?.algorithm !== id_sha256
  )
    throw unsupported('RSAES-OAEP hash');
}

/** Decodes and checks the shape KMS uses; throws CmsError with a code naming what was wrong. */
export function decodeRecipientEnvelope(input: Uint8Array): RecipientEnvelope {
  if (input.length === 0 || input.length > MAX_INPUT) throw malformed('size');
  const ci = parse(input, ContentInfo, 'ContentInfo');
  if (ci.contentType !== id_envelopedData) throw unsupported('content type');
  const ed = parse(bytes(ci.content), EnvelopedData, 'EnvelopedData');
  if (ed.version !== 2) throw unsupported('EnvelopedData version');
  if (ed.recipientInfos.length !== 1) throw unsupported('number of recipients');
  const ktri = ed.recipientInfos[0]!.ktri;
  if (!ktri) throw unsupported('recipient type');
  if (ktri.version !== 2 || !ktri.rid.subjectKeyIdentifier)
    throw unsupported('recipient identifier');
  checkOaep(ktri.keyEncryptionAlgorithm);
  const eci = ed.encryptedContentInfo;
  if (eci.contentType !== id_data) throw unsupported('inner content type');
  const cea = eci.contentEncryptionAlgorithm;
  if (cea.algorithm !== ID_AES256_CBC) throw unsupported('content encryption algorithm');
  if (!cea.parameters) throw malformed('missing IV');
  const iv = bytes(parse(bytes(cea.parameters), OctetString, 'IV').buffer);
  if (iv.length !== 16) throw malformed('IV length');
  const ec = eci.encryptedContent;
  const parts = ec?.value ? [ec.value.buffer] : (ec?.constructedValue ?? []).map((o) => o.buffer);
  const encryptedContent = joinParts(parts.map((p) => bytes(p)));
  if (encryptedContent.length === 0 || encryptedContent.length % 16 !== 0)
    throw malformed('content length');
  const encryptedKey = bytes(ktri.encryptedKey.buffer);
  if (encryptedKey.length === 0) throw malformed('empty encrypted key');
  return {
    subjectKeyId: bytes(ktri.rid.subjectKeyIdentifier.buffer),
    encryptedKey,
    iv,
    encryptedContent,
  };
}

function joinParts(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** DER encoding of the same shape (what the local key service returns). */
export function encodeRecipientEnvelope(e: RecipientEnvelope): Uint8Array {
  const oaep = new AlgorithmIdentifier({
    algorithm: id_RSAES_OAEP,
    parameters: AsnConvert.serialize(
      new RsaEsOaepParams({
        hashAlgorithm: new AlgorithmIdentifier({ algorithm: id_sha256, parameters: null }),
        maskGenAlgorithm: new AlgorithmIdentifier({
          algorithm: id_mgf1,
          parameters: AsnConvert.serialize(
            new AlgorithmIdentifier({ algorithm: id_sha256, parameters: null }),
          ),
        }),
      }),
    ),
  });
  const ed = new EnvelopedData({
    version: 2,
    recipientInfos: new RecipientInfos([
      new RecipientInfo({
        ktri: new KeyTransRecipientInfo({
          version: 2,
          rid: new RecipientIdentifier({
            subjectKeyIdentifier: new SubjectKeyIdentifier(e.subjectKeyId),
          }),
          keyEncryptionAlgorithm: oaep,
          encryptedKey: new OctetString(e.encryptedKey),
        }),
      }),
    ]),
    encryptedContentInfo: new EncryptedContentInfo({
      contentType: id_data,
      contentEncryptionAlgorithm: new AlgorithmIdentifier({
        algorithm: ID_AES256_CBC,
        parameters: AsnConvert.serialize(new OctetString(e.iv)),
      }),
      encryptedContent: new EncryptedContent({ value: new OctetString(e.encryptedContent) }),
    }),
  });
  return new Uint8Array(
    AsnConvert.serialize(
      new ContentInfo({ contentType: id_envelopedData, content: AsnConvert.serialize(ed) }),
    ),
  );
}
