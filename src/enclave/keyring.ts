/**
 * The enclave's key ring (protocol §1): X25519 credential keys (one current, older ones kept until
 * every credential sealed to them has expired) and one Ed25519 signing key (never rotated: the
 * transparency log's origin names it). Outside the enclave the ring exists only sealed:
 * AES-256-GCM under a data key that only the key service can unwrap, and only for an attested
 * enclave whose PCR0 the key policy allows (src/enclave/kms-key-service.ts).
 */
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from '../common/bytes.js';
import { CodedError } from '../common/errors.js';
import { keyId } from '../crypto/key-id.js';
import type { KeyPair, Platform } from '../platform/types.js';

export class KeyRingError extends CodedError<'ERR_KEYRING_UNSEAL'> {}

export interface CredentialKey {
  pair: KeyPair;
  keyId: string;
  /** ms since the epoch. */
  createdAt: number;
  /** When a newer key replaced it; null for the current key. */
  retiredAt: number | null;
}

export interface KeyRing {
  signing: KeyPair;
  signingKeyId: string;
  /** Oldest first; the last one is the current key. */
  credentials: CredentialKey[];
}

export interface RotationPolicy {
  /** A new credential key after this long (KEY_ROTATION_HOURS). */
  rotationMs: number;
  /** The longest a session lives (MAX_TTL_SECONDS): bounds how long a retired key is needed. */
  maxTtlMs: number;
  /** How long a retired key still accepts new submissions (a client may hold an older quote). */
  submitGraceMs: number;
}

/** A client sealing to a quote it fetched just before a rotation still gets in. */
export const SUBMIT_GRACE_MS = 10 * 60_000;

/** At most this many credential keys at once (config is checked against it at start). */
export const MAX_CREDENTIAL_KEYS = 1000;

export const currentKey = (ring: KeyRing): CredentialKey => ring.credentials.at(-1)!;

/** Until when (ms) the key accepts new sessions; null while it is current. */
export function acceptsUntil(k: CredentialKey, p: RotationPolicy): number | null {
  return k.retiredAt === null ? null : k.retiredAt + p.submitGraceMs;
}

/** When the key is destroyed: the last session sealed to it has expired by then. */
export function destroyAt(k: CredentialKey, p: RotationPolicy): number | null {
  return k.retiredAt === null ? null : k.retiredAt + p.submitGraceMs + p.maxTtlMs;
}

function credentialKey(
  platform: Platform,
  pair: KeyPair,
  createdAt: number,
  retiredAt: number | null,
): CredentialKey {
  return { pair, keyId: keyId(platform, pair.publicKey), createdAt, retiredAt };
}

export function generateKeyRing(platform: Platform, now = 0): KeyRing {
  const signing = platform.ed25519Generate();
  return {
    signing,
    signingKeyId: keyId(platform, signing.publicKey),
    credentials: [credentialKey(platform, platform.x25519Generate(), now, null)],
  };
}

/**
 * Applies the policy at `now`: a new current key when the current one is older than the rotation
 * period, and retired keys past their destruction time removed. Returns the same ring object when
 * nothing changed.
 */
export function rotateKeyRing(
  platform: Platform,
  ring: KeyRing,
  now: number,
  p: RotationPolicy,
): { ring: KeyRing; changed: boolean } {
  let creds = ring.credentials.filter((k) => {
    const d = destroyAt(k, p);
    return d === null || now < d;
  });
  const cur = creds.at(-1)!;
  if (now - cur.createdAt >= p.rotationMs) {
    creds = [
      ...creds.slice(0, -1),
      { ...cur, retiredAt: now },
      credentialKey(platform, platform.x25519Generate(), now, null),
    ];
  }
  const changed =
    creds.length !== ring.credentials.length || creds.some((k, i) => k !== ring.credentials[i]);
  return changed ? { ring: { ...ring, credentials: creds }, changed } : { ring, changed };
}

/** Finds a credential key by id that still exists at `now` (not past its destruction time). */
export function findCredentialKey(
  ring: KeyRing,
  id: string,
  now: number,
  p: RotationPolicy,
): CredentialKey | null {
  const k = ring.credentials.find((c) => c.keyId === id);
  if (!k) return null;
  const d = destroyAt(k, p);
  return d === null || now < d ? k : null;
}

// ---------------------------------------------------------------------------------------------
// Sealing: base64(JSON {v, key_arn, dk, n, ct}), ct = AES-256-GCM(data key, n, ring JSON, aad).

export interface SealedRing {
  keyArn: string;
  /** The key service's ciphertext of the data key (KMS CiphertextBlob). */
  wrappedKey: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

const AAD_PREFIX = 'perf-aggregator/v2/keyring\n';
const aad = (keyArn: string, wrappedKey: Uint8Array): Uint8Array =>
  concatBytes(utf8(`${AAD_PREFIX}${keyArn}\n`), wrappedKey);

const unseal = (): never => {
  throw new KeyRingError('ERR_KEYRING_UNSEAL', 'key ring could not be unsealed');
};

export function parseSealedRing(sealed: string): SealedRing {
  try {
    const o = JSON.parse(fromUtf8(fromBase64(sealed))) as Record<string, unknown>;
    if (
      o['v'] !== 2 ||
      typeof o['key_arn'] !== 'string' ||
      typeof o['dk'] !== 'string' ||
      typeof o['n'] !== 'string' ||
      typeof o['ct'] !== 'string'
    )
      return unseal();
    const nonce = fromBase64(o['n']);
    if (nonce.length !== 12) return unseal();
    return {
      keyArn: o['key_arn'],
      wrappedKey: fromBase64(o['dk']),
      nonce,
      ciphertext: fromBase64(o['ct']),
    };
  } catch (e) {
    if (e instanceof KeyRingError) throw e;
    return unseal();
  }
}

export function sealKeyRing(
  platform: Platform,
  dataKey: Uint8Array,
  keyArn: string,
  wrappedKey: Uint8Array,
  ring: KeyRing,
): string {
  const plain = utf8(
    JSON.stringify({
      v: 2,
      signing: toBase64(ring.signing.privateKey),
      credentials: ring.credentials.map((k) => ({
        sk: toBase64(k.pair.privateKey),
        created_at: k.createdAt,
        retired_at: k.retiredAt,
      })),
    }),
  );
  const nonce = platform.randomBytes(12);
  const ct = platform.aesGcmSeal(dataKey, nonce, plain, aad(keyArn, wrappedKey));
  return toBase64(
    utf8(
      JSON.stringify({
        v: 2,
        key_arn: keyArn,
        dk: toBase64(wrappedKey),
        n: toBase64(nonce),
        ct: toBase64(ct),
      }),
    ),
  );
}

const isTime = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export function openKeyRing(platform: Platform, dataKey: Uint8Array, s: SealedRing): KeyRing {
  try {
    const plain = platform.aesGcmOpen(dataKey, s.nonce, s.ciphertext, aad(s.keyArn, s.wrappedKey));
    if (!plain) return unseal();
    const o = JSON.parse(fromUtf8(plain)) as {
      v?: unknown;
      signing?: unknown;
      credentials?: unknown;
    };
    if (
      o.v !== 2 ||
      typeof o.signing !== 'string' ||
      !Array.isArray(o.credentials) ||
      o.credentials.length === 0 ||
      o.credentials.length > MAX_CREDENTIAL_KEYS
    )
      return unseal();
    const signingSk = fromBase64(o.signing);
    const signing = { privateKey: signingSk, publicKey: platform.ed25519PublicKey(signingSk) };
    const credentials = (o.credentials as unknown[]).map((c, i, all) => {
      const k = c as { sk?: unknown; created_at?: unknown; retired_at?: unknown };
      const last = i === all.length - 1;
      if (
        typeof k.sk !== 'string' ||
        !isTime(k.created_at) ||
        (last ? k.retired_at !== null : !isTime(k.retired_at))
      )
        return unseal();
      const sk = fromBase64(k.sk);
      return credentialKey(
        platform,
        { privateKey: sk, publicKey: platform.x25519PublicKey(sk) },
        k.created_at,
        k.retired_at as number | null,
      );
    });
    return { signing, signingKeyId: keyId(platform, signing.publicKey), credentials };
  } catch (e) {
    if (e instanceof KeyRingError) throw e;
    return unseal();
  }
}
