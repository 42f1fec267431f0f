/**
 * Storage of each session's sealed history (migration 0006). The host never interprets the blob;
 * writes are a compare-and-swap on `version`, and only for a live session (the session row is
 * locked first, so a revoke or expiry that raced the computation wins and nothing is written).
 *
 * @example
 * const h = await histories.load(sessionId);             // { version, blob } or null
 * await histories.save(q, sessionId, h?.version ?? null, next); // inside the aggregate's transaction
 */
import type { Queryable } from './db.js';

export interface StoredHistory {
  version: number;
  blob: string;
}

export interface HistoryStore {
  /** The stored history of a live session, or null. */
  load(sessionId: string): Promise<StoredHistory | null>;
}

export function createHistoryStore(db: Queryable): HistoryStore {
  return {
    async load(sessionId) {
      const [r] = await db.query<{ version: string | number; ciphertext: string }>(
        `SELECT h.version, h.ciphertext
           FROM session_history h JOIN sessions s USING (session_id)
          WHERE h.session_id = $1 AND s.status = 'active' AND s.expires_at > now()`,
        [sessionId],
      );
      return r ? { version: Number(r.version), blob: r.ciphertext } : null;
    },
  };
}

/**
 * Replaces the session's history if it is still at `expected` (null: none stored), with `next`
 * (null: delete it). Runs inside the caller's transaction, after the session row was locked.
 * Returns false when another computation wrote first (its history is as good as ours).
 */
export async function saveHistory(
  q: Queryable,
  sessionId: string,
  expected: number | null,
  next: StoredHistory | null,
): Promise<boolean> {
  if (next === null) {
    const rows = await q.query(
      'DELETE FROM session_history WHERE session_id = $1 AND ($2::bigint IS NULL OR version = $2) RETURNING 1',
      [sessionId, expected],
    );
    return rows.length === 1 || expected === null;
  }
  const rows =
    expected === null
      ? await q.query(
          `INSERT INTO session_history (session_id, version, ciphertext) VALUES ($1, $2, $3)
           ON CONFLICT (session_id) DO NOTHING RETURNING 1`,
          [sessionId, next.version, next.blob],
        )
      : await q.query(
          `UPDATE session_history SET version = $2, ciphertext = $3, updated_at = now()
            WHERE session_id = $1 AND version = $4 RETURNING 1`,
          [sessionId, next.version, next.blob, expected],
        );
  return rows.length === 1;
}
