/**
 * node:crypto primitives. Raw keys are imported through JWK because it is an order of magnitude
 * cheaper than DER/SPKI import on Node 20 (≈14 µs vs ≈190 µs here), which dominates envelope opening.
 * HKDF is two or more HMAC calls rather than hkdfSync, whose secret-key import and KDF fetch cost
 * more than the hashing (≈20 µs vs ≈8 µs for 32 bytes; bench/envelope.ts).
 */
import crypto, { type KeyObject } from 'node:crypto';
import type { KeyPair, Platform } from './types.js';

const b64u = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64url');
const raw = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.length);
const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.length);
const ONE = Uint8Array.of(1);

/** RFC 5869: PRK = HMAC(salt, IKM); T(i) = HMAC(PRK, T(i-1) || info || i); OKM = the first L bytes. */
function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * 32)
    throw new RangeError('HKDF length must be 0..8160');
  // An empty salt means HashLen zeros (§2.2); HMAC pads a short key with zeros, so both agree.
  const prk = crypto.createHmac('sha256', salt).update(ikm).digest();
  // One block covers every key this code derives: no loop, no copy.
  if (length <= 32)
    return raw(crypto.createHmac('sha256', prk).update(info).update(ONE).digest()).subarray(
      0,
      length,
    );
  const out = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, o = 0; o < length; i++, o += 32) {
    t = crypto.createHmac('sha256', prk).update(t).update(info).update(Uint8Array.of(i)).digest();
    out.set(t.subarray(0, Math.min(32, length - o)), o);
  }
  return out;
}

type Curve = 'X25519' | 'Ed25519';
// RFC 8410 PKCS#8 encoding: a fixed prefix, then the 32-byte raw key.
const PKCS8_PREFIX: Record<Curve, string> = {
  X25519: '302e020100300506032b656e04220420',
  Ed25519: '302e020100300506032b657004220420',
};
// Private keys are long-lived (the key ring), so their KeyObjects are cached by identity.
const privateCache = new WeakMap<Uint8Array, KeyObject>();
// Public halves of the pairs generated here, so their first use skips publicFromPrivate.
const knownPublic = new WeakMap<Uint8Array, Uint8Array>();

function privateKeyObject(curve: Curve, priv: Uint8Array, pub?: Uint8Array): KeyObject {
  let key = privateCache.get(priv);
  if (!key) {
    const x = pub ?? knownPublic.get(priv) ?? publicFromPrivate(curve, priv);
    key = crypto.createPrivateKey({
      key: { kty: 'OKP', crv: curve, d: b64u(priv), x: b64u(x) },
      format: 'jwk',
    });
    privateCache.set(priv, key);
  }
  return key;
}

function publicKeyObject(curve: Curve, pub: Uint8Array): KeyObject {
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: curve, x: b64u(pub) }, format: 'jwk' });
}

function publicFromPrivate(curve: Curve, priv: Uint8Array): Uint8Array {
  // JWK import requires x; derive it through the PKCS#8 path, once per long-lived key.
  const prefix = PKCS8_PREFIX[curve];
  const key = crypto.createPrivateKey({
    key: Buffer.concat([Buffer.from(prefix, 'hex'), buf(priv)]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = crypto.createPublicKey(key).export({ format: 'jwk' });
  return raw(Buffer.from(jwk.x!, 'base64url'));
}

/**
 * Key pairs come out of the generator already encoded as JWK. Exporting the fresh private
 * KeyObject instead (`export({format:'jwk'})`) deadlocks Node 20 now and then: the export holds
 * the key's mutex while it allocates, the allocation runs a GC, and the GC finalises the spent
 * KeyGenJob, whose destructor takes the same mutex (main thread in futex_wait under
 * ~KeyGenJob ← ExportJWKEdKey, seen with gdb after 10⁴–10⁵ pairs). The private KeyObject is
 * imported on first use instead (privateKeyObject), which costs ≈80 µs once per pair.
 */
function generate(curve: Curve): KeyPair {
  const jwk = {
    publicKeyEncoding: { format: 'jwk' },
    privateKeyEncoding: { format: 'jwk' },
  } as const;
  // @types/node 20 has no JWK overload; the runtime returns JWK objects for these encodings.
  const { privateKey } = (curve === 'X25519'
    ? crypto.generateKeyPairSync('x25519', jwk)
    : crypto.generateKeyPairSync('ed25519', jwk)) as unknown as { privateKey: crypto.JsonWebKey };
  const pair = {
    privateKey: raw(Buffer.from(privateKey.d ?? '', 'base64url')),
    publicKey: raw(Buffer.from(privateKey.x ?? '', 'base64url')),
  };
  if (pair.privateKey.length !== 32 || pair.publicKey.length !== 32)
    throw new Error(`unexpected ${curve} key`);
  knownPublic.set(pair.privateKey, pair.publicKey);
  return pair;
}

export const nodePlatform: Platform = {
  name: 'node',
  randomBytes: (n) => raw(crypto.randomBytes(n)),
  // One-shot crypto.hash (Node ≥ 20.12) skips the Hash object: ≈4× cheaper for the 65-byte
  // Merkle node inputs that dominate log appends and tree builds.
  sha256: (d) => raw(crypto.hash('sha256', d, 'buffer')),
  sha384: (d) => raw(crypto.hash('sha384', d, 'buffer')),
  hmacSha256: (k, d) => raw(crypto.createHmac('sha256', k).update(d).digest()),
  hkdfSha256,
  aesGcmSeal: (key, nonce, pt, aad) => {
    const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(aad);
    const out = Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]);
    return raw(out);
  },
  aesGcmOpen: (key, nonce, sealed, aad) => {
    if (sealed.length < 16) return null;
    try {
      const d = crypto.createDecipheriv('aes-256-gcm', key, nonce);
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(sealed.length - 16));
      // GCM is a stream mode: update() returns every byte and final() none, but only final()
      // authenticates, so nothing is returned before it succeeds.
      const out = d.update(sealed.subarray(0, sealed.length - 16));
      d.final();
      return raw(out);
    } catch {
      return null;
    }
  },
  x25519Generate: () => generate('X25519'),
  x25519PublicKey: (priv) => publicFromPrivate('X25519', priv),
  x25519: (priv, pub) =>
    raw(
      crypto.diffieHellman({
        privateKey: privateKeyObject('X25519', priv),
        publicKey: publicKeyObject('X25519', pub),
      }),
    ),
  ed25519Generate: () => generate('Ed25519'),
  ed25519PublicKey: (priv) => publicFromPrivate('Ed25519', priv),
  ed25519Sign: (priv, msg) => raw(crypto.sign(null, msg, privateKeyObject('Ed25519', priv))),
  ed25519Verify: (pub, msg, sig) => {
    try {
      return (
        pub.length === 32 &&
        sig.length === 64 &&
        crypto.verify(null, msg, publicKeyObject('Ed25519', pub), sig)
      );
    } catch {
      return false;
    }
  },
};
