/**
 * The primitives the core needs, behind one interface. Entry points inject `platform/node.ts`
 * (node:crypto, several times faster on this machine) or `platform/web.ts` (@noble, for browsers).
 * Everything is synchronous and takes and returns Uint8Array.
 */
export interface KeyPair {
  /** Raw 32-byte private scalar / seed. */
  privateKey: Uint8Array;
  /** Raw 32-byte public key. */
  publicKey: Uint8Array;
}

export interface Platform {
  readonly name: 'node' | 'web';
  randomBytes(length: number): Uint8Array;
  sha256(data: Uint8Array): Uint8Array;
  sha384(data: Uint8Array): Uint8Array;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** RFC 5869 HKDF with SHA-256. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** AES-256-GCM; returns ciphertext || 16-byte tag. */
  aesGcmSeal(
    key: Uint8Array,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array;
  /** AES-256-GCM; input is ciphertext || tag. Returns null when authentication fails. */
  aesGcmOpen(
    key: Uint8Array,
    nonce: Uint8Array,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): Uint8Array | null;
  x25519Generate(): KeyPair;
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /** Raw X25519; the caller rejects the all-zero output. */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  ed25519Generate(): KeyPair;
  ed25519PublicKey(privateKey: Uint8Array): Uint8Array;
  ed25519Sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** Never throws: malformed keys or signatures verify as false. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}
