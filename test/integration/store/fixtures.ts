/** Valid rows for store tests; each test changes one field to probe one rule. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { StoreError, type Db, type StoreCode } from '../../../src/store/db.js';
import type { NewSession, StoredEnvelope } from '../../../src/store/types.js';

export const b64 = (n: number): string => randomBytes(n).toString('base64');
export const newSessionId = (): string => randomBytes(32).toString('base64url');
export const hex64 = (): string => randomBytes(32).toString('hex');

export function envelope(over: Partial<StoredEnvelope> = {}): StoredEnvelope {
  return {
    ephemeralPub: b64(32),
    nonce: b64(12),
    ciphertext: b64(200),
    tag: b64(16),
    keyId: '0123456789abcdef',
    ...over,
  };
}

export function newSession(over: Partial<NewSession> = {}): NewSession {
  return {
    sessionId: newSessionId(),
    exchange: 'binance',
    label: 'main',
    expiresAt: new Date(Date.now() + 3_600_000),
    envelope: envelope(),
    createdDetail: { exchange: 'binance', key_id: '0123456789abcdef', ttl: 3600 },
    ...over,
  };
}

/** A fake 64-byte Ed25519 signature in base64 (88 chars). */
export const signature = (): string => b64(64);

/** Moves a session and its credential into the past, as the owner (app_service cannot). */
export async function backdate(db: Db, sessionId: string, expiredSecondsAgo = 60): Promise<void> {
  await db.query(
    `UPDATE sessions SET created_at = now() - interval '2 hours',
                         expires_at = now() - make_interval(secs => $2) WHERE session_id = $1`,
    [sessionId, expiredSecondsAgo],
  );
  await db.query(
    'UPDATE credentials SET expires_at = now() - make_interval(secs => $2) WHERE session_id = $1',
    [sessionId, expiredSecondsAgo],
  );
}

/** Asserts a StoreError with `code` (and SQLSTATE / constraint when given). */
export async function rejectsWith(
  p: Promise<unknown>,
  code: StoreCode,
  extra: { sqlState?: string; constraint?: string } = {},
): Promise<StoreError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof StoreError, `expected StoreError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code);
  if (extra.sqlState !== undefined) assert.equal(caught.sqlState, extra.sqlState);
  if (extra.constraint !== undefined) assert.equal(caught.constraint, extra.constraint);
  return caught;
}

export async function count(db: Db, sql: string, params: readonly unknown[] = []): Promise<number> {
  const [r] = await db.query<{ n: number }>(`SELECT count(*) AS n FROM (${sql}) x`, params);
  return r!.n;
}

/** rejectsWith for a test body that returns the promise directly (node:test wants void). */
export async function rejects(
  p: Promise<unknown>,
  code: StoreCode,
  extra: { sqlState?: string; constraint?: string } = {},
): Promise<void> {
  await rejectsWith(p, code, extra);
}
