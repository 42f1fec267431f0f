/**
 * Development sealing key for the key ring: HKDF over the dev root's private key (the stand-in for
 * the hardware secret) with PCR0 as salt. Like a KMS key policy on PCR0, a changed enclave bundle
 * derives a different key and cannot unseal the ring.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../common/bytes.js';
import type { Platform } from '../platform/types.js';

export function devSealKey(platform: Platform, dataDir: string, pcr0: Uint8Array): Uint8Array {
  const secret = platform.sha256(readFileSync(join(dataDir, 'dev-root', 'root.key.pem')));
  return platform.hkdfSha256(secret, pcr0, utf8('perf-aggregator/v1/dev-keyring-seal'), 32);
}
