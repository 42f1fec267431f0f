/**
 * What the host may store (protocol §1–5): ciphertext, public keys, nonces, tags, non-sensitive
 * metadata, session ids and signed results. Never a plaintext credential.
 */

/** The sealed credential exactly as the client sent it (standard base64 strings). */
export interface StoredEnvelope {
  ephemeralPub: string;
  nonce: string;
  ciphertext: string;
  tag: string;
  /** key_id of the enclave X25519 key it was sealed to (16 hex chars). */
  keyId: string;
}

export type SessionStatus = 'active' | 'revoked' | 'expired';

export interface SessionRow {
  sessionId: string;
  exchange: string;
  label: string;
  status: SessionStatus;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  /** Account fingerprint, known once the enclave has computed it. */
  account: string | null;
}

export interface NewSession {
  sessionId: string;
  exchange: string;
  label: string;
  expiresAt: Date;
  envelope: StoredEnvelope;
  /** detail of the `session_created` ops-log row written with the session */
  createdDetail: Record<string, unknown>;
}

export interface AggregateRow {
  sessionId: string;
  /** JCS text of the signed payload. */
  payloadJson: string;
  signature: string;
  account: string;
  computedAt: Date;
}

export interface OpsLogRow {
  sessionId: string | null;
  event: string;
  detail: Record<string, unknown>;
  at: Date;
}

export type RevokeResult = 'revoked' | 'not_found' | 'already_revoked';

/** The data access the host uses. Implemented once over a `Db` that is PGlite or node-postgres. */
export interface Store {
  /** Inserts the session and its credential in one transaction. */
  createSession(s: NewSession): Promise<void>;
  getSession(sessionId: string): Promise<SessionRow | null>;
  /** The credential of an active, unexpired session (expires_at > now() is checked in SQL). */
  getCredential(sessionId: string): Promise<StoredEnvelope | null>;
  saveAggregate(a: AggregateRow): Promise<void>;
  /** The sealed history of an active, unexpired session (migration 0006), or null. */
  getHistory(sessionId: string): Promise<{ version: number; blob: string } | null>;
  latestAggregate(sessionId: string): Promise<AggregateRow | null>;
  /** Purges credential, sealed history, aggregate payloads and per-session log detail in one transaction; keeps a tombstone. */
  revokeSession(sessionId: string): Promise<RevokeResult>;
  /** Calls the SQL purge function; returns how many credentials it deleted. */
  purgeExpired(batch: number): Promise<number>;
  countActiveSessions(): Promise<number>;
  logOp(row: Omit<OpsLogRow, 'at'>): Promise<void>;
  opsLogs(sessionId: string): Promise<OpsLogRow[]>;
  /** Cheap liveness probe. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
