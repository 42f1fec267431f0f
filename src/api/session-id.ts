import { randomBytes } from 'node:crypto';

/** Protocol §3: 43-char base64url of 32 random bytes. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}
