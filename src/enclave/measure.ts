/**
 * Development PCRs. In Nitro the hypervisor measures the image; in dev the same meaning is kept:
 *   PCR0 = SHA-384(the enclave's built code bundle)  → any code change changes image_hash
 *   PCR1 = SHA-384(package-lock.json)                → the pinned dependency set the bundle loads
 *   PCR2 = SHA-384("node " + process.version)        → the runtime
 * PCR3..8 are zero (no IAM role, instance or signing certificate in dev).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

const sha384 = (b: Uint8Array | string): Uint8Array =>
  new Uint8Array(createHash('sha384').update(b).digest());

export function measureDev(bundlePath: string, lockfilePath: string): Map<number, Uint8Array> {
  const pcrs = new Map<number, Uint8Array>();
  pcrs.set(0, sha384(readFileSync(bundlePath)));
  pcrs.set(1, existsSync(lockfilePath) ? sha384(readFileSync(lockfilePath)) : new Uint8Array(48));
  pcrs.set(2, sha384(`node ${process.version}`));
  for (let i = 3; i <= 8; i++) pcrs.set(i, new Uint8Array(48));
  return pcrs;
}
