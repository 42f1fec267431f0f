/** Browser-safe primitives from @noble (audited, dependency-free). */
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import type { Platform } from './types.js';

export const webPlatform: Platform = {
  name: 'web',
  randomBytes: (n) => randomBytes(n),
  sha256: (d) => sha256(d),
  sha384: (d) => sha384(d),
  hmacSha256: (k, d) => hmac(sha256, k, d),
  hkdfSha256: (ikm, salt, info, length) => hkdf(sha256, ikm, salt, info, length),
  aesGcmSeal: (key, nonce, pt, aad) => gcm(key, nonce, aad).encrypt(pt),
  aesGcmOpen: (key, nonce, sealed, aad) => {
    try {
      return gcm(key, nonce, aad).decrypt(sealed);
    } catch {
      return null;
    }
  },
  x25519Generate: () => {
    const privateKey = x25519.utils.randomSecretKey();
    return { privateKey, publicKey: x25519.getPublicKey(privateKey) };
  },
  x25519PublicKey: (priv) => x25519.getPublicKey(priv),
  x25519: (priv, pub) => x25519.getSharedSecret(priv, pub),
  ed25519Generate: () => {
    const privateKey = ed25519.utils.randomSecretKey();
    return { privateKey, publicKey: ed25519.getPublicKey(privateKey) };
  },
  ed25519PublicKey: (priv) => ed25519.getPublicKey(priv),
  ed25519Sign: (priv, msg) => ed25519.sign(msg, priv),
  ed25519Verify: (pub, msg, sig) => {
    try {
      return ed25519.verify(sig, msg, pub);
    } catch {
      return false;
    }
  },
};
