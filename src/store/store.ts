/**
 * The host's data access (types.ts) over a Db. Parameterized SQL only. Every credential read
 * re-checks status and expiry in SQL, so a late purge never exposes an expired envelope.
 *
 * @example
 * const store = createStore(await openDb({ dataDir: './.data', role: 'app_service' }));
 * await store.createSession({ sessionId, exchange: 'binance', label: 'main', expiresAt, envelope });
 */
import { StoreError, type Db } from './db.js';
import { groupCommit } from './group-commit.js';
import { createHistoryStore } from './history-store.js';
import type {
  AggregateRow,
  NewSession,
  OpsLogRow,
  RevokeResult,
  SessionRow,
  SessionStatus,
  Store,
  StoredEnvelope,
} from './types.js';

interface SessionRecord {
  session_id: string;
  exchange: string;
  label: string;
  status: SessionStatus;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  account: string | null;
}

interface AggregateRecord {
  session_id: string;
  payload: string;
  signature: string;
  account: string;
  computed_at: Date;
}

interface OpsLogRecord {
  session_id: string | null;
  event: string;
  detail: Record<string, unknown>;
  at: Date;
}

// The stored status lags until the purge runs; report a lapsed active session as expired now.
const SESSION_COLUMNS = `session_id, exchange, label,
  CASE WHEN status = 'active' AND expires_at <= now() THEN 'expired' ELSE status END AS status,
  created_at, expires_at, revoked_at, account`;

// Sessions, credentials and `session_created` records of a batch (group commit) in one statement:
// one round trip instead of BEGIN, three INSERTs and COMMIT per session, and still atomic (a
// statement is its own transaction: all rows or none); the credentials' foreign key is checked at
// the end of the statement, when the session rows exist. One array per column; unnest() pairs
// them up again.
const INSERT_SESSIONS = `WITH v AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                         $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[])
      AS v(session_id, exchange, label, expires_at, ephemeral_pub, nonce, ciphertext, tag, key_id,
           detail)
  ), s AS (
    INSERT INTO sessions (session_id, exchange, label, expires_at)
    SELECT session_id, exchange, label, expires_at FROM v
    RETURNING session_id
  ), c AS (
    INSERT INTO credentials (session_id, ephemeral_pub, nonce, ciphertext, tag, key_id, expires_at)
    SELECT v.session_id, v.ephemeral_pub, v.nonce, v.ciphertext, v.tag, v.key_id, v.expires_at
      FROM v JOIN s USING (session_id)
  )
  INSERT INTO ops_logs (session_id, event, detail)
  SELECT v.session_id, 'session_created', v.detail FROM v JOIN s USING (session_id)`;

/** The parameters of INSERT_SESSIONS: one array per column, in the order of its unnest(). */
function sessionColumns(rows: NewSession[]): unknown[][] {
  return [
    rows.map((s) => s.sessionId),
    rows.map((s) => s.exchange),
    rows.map((s) => s.label),
    rows.map((s) => s.expiresAt),
    rows.map((s) => s.envelope.ephemeralPub),
    rows.map((s) => s.envelope.nonce),
    rows.map((s) => s.envelope.ciphertext),
    rows.map((s) => s.envelope.tag),
    rows.map((s) => s.envelope.keyId),
    rows.map((s) => JSON.stringify(s.createdDetail)),
  ];
}

function toSession(r: SessionRecord): SessionRow {
  return {
    sessionId: r.session_id,
    exchange: r.exchange,
    label: r.label,
    status: r.status,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    account: r.account,
  };
}

export function createStore(db: Db): Store {
  const histories = createHistoryStore(db);
  const createSession = groupCommit<NewSession>({
    // One statement in flight while the next batch gathers: two in flight made smaller batches
    // and cost more CPU per session. At most 16 rows: a burst of 32 answers then goes in two
    // statements, and the first half's 201s (and the clients' next requests, which keep the
    // enclave busy) go out while the second half is written; 64 made one convoy of the whole
    // burst and 7 % fewer requests per second (docs/benchmarks.md). Per row, 16 costs ≈ 2 µs
    // of PostgreSQL CPU more than 64.
    maxBatch: 16,
    maxInflight: 1,
    write: (rows) => db.query(INSERT_SESSIONS, sessionColumns(rows)).then(() => undefined),
    // A CHECK, UNIQUE or type error may be one row's: retry alone so the others are stored.
    retryAlone: (e) =>
      e instanceof StoreError &&
      (e.code === 'STORE_CONSTRAINT' || e.code === 'STORE_INVALID_ARGUMENT'),
  });
  return {
    getHistory: (sessionId) => histories.load(sessionId),

    createSession,

    async getSession(sessionId: string): Promise<SessionRow | null> {
      const [r] = await db.query<SessionRecord>(
        `SELECT ${SESSION_COLUMNS} FROM sessions WHERE session_id = $1`,
        [sessionId],
      );
      return r === undefined ? null : toSession(r);
    },

    async getCredential(sessionId: string): Promise<StoredEnvelope | null> {
      const [r] = await db.query<{
        ephemeral_pub: string;
        nonce: string;
        ciphertext: string;
        tag: string;
        key_id: string;
      }>(
        `SELECT c.ephemeral_pub, c.nonce, c.ciphertext, c.tag, c.key_id
           FROM credentials c
           JOIN sessions s ON s.session_id = c.session_id
          WHERE c.session_id = $1
            AND s.status = 'active'
            AND c.expires_at > now()
            AND s.expires_at > now()`,
        [sessionId],
      );
      if (r === undefined) return null;
      return {
        ephemeralPub: r.ephemeral_pub,
        nonce: r.nonce,
        ciphertext: r.ciphertext,
        tag: r.tag,
        keyId: r.key_id,
      };
    },

    async saveAggregate(a: AggregateRow): Promise<void> {
      // FOR SHARE waits for a concurrent revoke (which updates the session row first) and then
      // sees its result, so a payload can never be written after the revoke committed.
      const rows = await db.query(
        `WITH s AS (
           SELECT session_id FROM sessions
            WHERE session_id = $1 AND status = 'active' AND expires_at > now()
              FOR SHARE
         )
         INSERT INTO aggregates (session_id, payload, signature, account, computed_at)
         SELECT s.session_id, $2, $3, $4, $5 FROM s
         RETURNING id`,
        [a.sessionId, a.payloadJson, a.signature, a.account, a.computedAt],
      );
      if (rows.length === 0) throw new StoreError('STORE_SESSION_INACTIVE');
    },

    async latestAggregate(sessionId: string): Promise<AggregateRow | null> {
      const [r] = await db.query<AggregateRecord>(
        `SELECT session_id, payload, signature, account, computed_at
           FROM aggregates
          WHERE session_id = $1 AND payload IS NOT NULL
          ORDER BY computed_at DESC, id DESC
          LIMIT 1`,
        [sessionId],
      );
      if (r === undefined) return null;
      return {
        sessionId: r.session_id,
        payloadJson: r.payload,
        signature: r.signature,
        account: r.account,
        computedAt: r.computed_at,
      };
    },

    async revokeSession(sessionId: string): Promise<RevokeResult> {
      return db.tx(async (q) => {
        // The session row first: its lock serialises us with saveAggregate/logOp and with a
        // concurrent revoke, which then finds the tombstone and answers already_revoked.
        const marked = await q.query(
          `UPDATE sessions SET status = 'revoked', revoked_at = now()
            WHERE session_id = $1 AND status <> 'revoked'
           RETURNING session_id`,
          [sessionId],
        );
        if (marked.length === 0) {
          const [s] = await q.query('SELECT 1 FROM sessions WHERE session_id = $1', [sessionId]);
          return s === undefined ? 'not_found' : 'already_revoked';
        }
        await q.query('DELETE FROM credentials WHERE session_id = $1', [sessionId]);
        await q.query('DELETE FROM session_history WHERE session_id = $1', [sessionId]);
        // Rows stay (computed_at, account) so the account's history shows a revoked entry;
        // merkle_logs leaves are untouched (protocol §5).
        await q.query(
          `UPDATE aggregates SET payload = NULL, signature = NULL
            WHERE session_id = $1 AND payload IS NOT NULL`,
          [sessionId],
        );
        await q.query('DELETE FROM ops_logs WHERE session_id = $1', [sessionId]);
        await q.query("INSERT INTO ops_logs (session_id, event) VALUES ($1, 'revoked')", [
          sessionId,
        ]);
        return 'revoked';
      });
    },

    async purgeExpired(batch: number): Promise<number> {
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) {
        throw new StoreError('STORE_INVALID_ARGUMENT');
      }
      const [r] = await db.query<{ n: number }>('SELECT purge_expired_credentials($1) AS n', [
        batch,
      ]);
      return r?.n ?? 0;
    },

    async countActiveSessions(): Promise<number> {
      const [r] = await db.query<{ n: number }>(
        "SELECT count(*) AS n FROM sessions WHERE status = 'active' AND expires_at > now()",
      );
      return r?.n ?? 0;
    },

    async logOp(row: Omit<OpsLogRow, 'at'>): Promise<void> {
      // Detail for a revoked session would undo the purge; keep the event, drop the detail.
      // FOR SHARE, as in saveAggregate, closes the race with a revoke in flight.
      await db.query(
        `WITH s AS (SELECT status FROM sessions WHERE session_id = $1 FOR SHARE)
         INSERT INTO ops_logs (session_id, event, detail)
         VALUES ($1, $2, CASE WHEN (SELECT status FROM s) = 'revoked' THEN '{}'::jsonb ELSE $3::jsonb END)`,
        [row.sessionId, row.event, JSON.stringify(row.detail)],
      );
    },

    async opsLogs(sessionId: string): Promise<OpsLogRow[]> {
      const rows = await db.query<OpsLogRecord>(
        'SELECT session_id, event, detail, at FROM ops_logs WHERE session_id = $1 ORDER BY id',
        [sessionId],
      );
      return rows.map((r) => ({
        sessionId: r.session_id,
        event: r.event,
        detail: r.detail,
        at: r.at,
      }));
    },

    async ping(): Promise<void> {
      await db.query('SELECT 1');
    },

    close: () => db.close(),
  };
}
