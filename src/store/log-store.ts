/**
 * Storage of the transparency log (protocol §6): leaves, perfect-subtree nodes and the signed head.
 * The host never computes tree hashes itself: it stores what the enclave reports on each append and
 * reads stored nodes back to serve proofs.
 */
import type { NodeId } from '../tlog/node-id.js';
import { StoreError, type Db, type Queryable } from './db.js';
import { saveHistory, type StoredHistory } from './history-store.js';

export interface LogHead {
  size: number;
  root: Uint8Array;
  /** The signed C2SP checkpoint note. */
  checkpoint: string;
}

export interface LogAppend {
  leaf: { index: number; hash: Uint8Array; sessionId: string; account: string };
  /** Every perfect-subtree node completed by this append, level 0 (the leaf) included. */
  nodes: (NodeId & { hash: Uint8Array })[];
  head: LogHead;
  aggregate: { payloadJson: string; signature: string; computedAt: Date };
  /**
   * The session's new sealed history, stored in the same transaction by compare-and-swap from
   * `expected` (src/store/history-store.ts); `next` null deletes it. Absent: left as it is.
   */
  history?: { expected: number | null; next: StoredHistory | null };
}

export interface AccountLeaf {
  leafIndex: number;
  leafHash: Uint8Array;
  sessionId: string | null;
  loggedAt: Date;
  /** Null once the session was revoked: the leaf hash stays, the content is purged. */
  payloadJson: string | null;
  signature: string | null;
}

/**
 * The one sequencer: everything inside runs in one transaction holding a database-wide advisory
 * lock, so appends from every host instance are serialized and the enclave only ever extends the
 * head that is stored. The session row is share-locked before the enclave is asked to sign, so a
 * revoke cannot slip in between signing and storing.
 */
export interface Sequencer {
  head(): Promise<LogHead | null>;
  nodes(ids: readonly NodeId[]): Promise<Uint8Array[]>;
  /** Throws STORE_SESSION_INACTIVE when the session is revoked or expired. */
  lockActiveSession(sessionId: string): Promise<void>;
  initHead(head: LogHead): Promise<void>;
  append(a: LogAppend): Promise<void>;
}

export interface LogStore {
  head(): Promise<LogHead | null>;
  /** Nodes in the order asked; throws STORE_QUERY if one is missing (a corrupt or forked store). */
  nodes(ids: readonly NodeId[]): Promise<Uint8Array[]>;
  sequence<T>(fn: (s: Sequencer) => Promise<T>): Promise<T>;
  leafAt(index: number): Promise<AccountLeaf | null>;
  leavesOfAccount(account: string): Promise<AccountLeaf[]>;
  leavesOfSession(sessionId: string): Promise<AccountLeaf[]>;
}

interface LeafRecord {
  leaf_index: number;
  leaf_hash: Uint8Array;
  session_id: string | null;
  created_at: Date;
  payload: string | null;
  signature: string | null;
}

const LEAF_SELECT = `SELECT m.leaf_index, m.leaf_hash, m.session_id, m.created_at, a.payload, a.signature
                       FROM merkle_logs m LEFT JOIN aggregates a ON a.leaf_index = m.leaf_index`;

const toLeaf = (r: LeafRecord): AccountLeaf => ({
  leafIndex: r.leaf_index,
  leafHash: r.leaf_hash,
  sessionId: r.session_id,
  loggedAt: r.created_at,
  payloadJson: r.payload,
  signature: r.signature,
});

/** Any constant works; it only has to be the same for every host sharing the database. */
const LOG_LOCK = 0x7061_6c6f; // "palo"

async function readHead(q: Queryable): Promise<LogHead | null> {
  const [r] = await q.query<{ tree_size: number; root: Uint8Array; checkpoint: string }>(
    'SELECT tree_size, root, checkpoint FROM log_head WHERE singleton',
  );
  return r ? { size: r.tree_size, root: r.root, checkpoint: r.checkpoint } : null;
}

async function readNodes(q: Queryable, ids: readonly NodeId[]): Promise<Uint8Array[]> {
  if (ids.length === 0) return [];
  const rows = await q.query<{ level: number; idx: number; hash: Uint8Array }>(
    `SELECT n.level, n.idx, n.hash
       FROM unnest($1::smallint[], $2::bigint[]) AS want(level, idx)
       JOIN merkle_nodes n USING (level, idx)`,
    [ids.map((i) => i.level), ids.map((i) => i.index)],
  );
  const byId = new Map(rows.map((r) => [`${r.level}/${r.idx}`, r.hash]));
  return ids.map((i) => {
    const h = byId.get(`${i.level}/${i.index}`);
    if (!h) throw new StoreError('STORE_QUERY');
    return h;
  });
}

export function createLogStore(db: Db): LogStore {
  return {
    head: () => readHead(db),

    nodes: (ids) => readNodes(db, ids),

    sequence(fn) {
      return db.tx(async (q) => {
        await q.query('SELECT pg_advisory_xact_lock($1)', [LOG_LOCK]);
        return fn({
          head: () => readHead(q),
          nodes: (ids) => readNodes(q, ids),
          async lockActiveSession(sessionId) {
            const live = await q.query(
              `SELECT 1 FROM sessions WHERE session_id = $1 AND status = 'active' AND expires_at > now() FOR SHARE`,
              [sessionId],
            );
            if (live.length === 0) throw new StoreError('STORE_SESSION_INACTIVE');
          },
          async initHead(h) {
            await q.query(
              'INSERT INTO log_head (tree_size, root, checkpoint) VALUES ($1, $2, $3)',
              [h.size, h.root, h.checkpoint],
            );
          },
          async append(a) {
            await q.query(
              'UPDATE log_head SET tree_size = $1, root = $2, checkpoint = $3, updated_at = now() WHERE singleton',
              [a.head.size, a.head.root, a.head.checkpoint],
            );
            await q.query(
              'INSERT INTO merkle_logs (leaf_index, leaf_hash, session_id, account) VALUES ($1, $2, $3, $4)',
              [a.leaf.index, a.leaf.hash, a.leaf.sessionId, a.leaf.account],
            );
            await q.query(
              `INSERT INTO merkle_nodes (level, idx, hash)
               SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
              [
                a.nodes.map((n) => n.level),
                a.nodes.map((n) => n.index),
                a.nodes.map((n) => n.hash),
              ],
            );
            await q.query(
              `INSERT INTO aggregates (session_id, payload, signature, account, computed_at, leaf_index)
               VALUES ($1, $2, $3, $4, $5, $6)`,
              [
                a.leaf.sessionId,
                a.aggregate.payloadJson,
                a.aggregate.signature,
                a.leaf.account,
                a.aggregate.computedAt,
                a.leaf.index,
              ],
            );
            if (a.history)
              await saveHistory(q, a.leaf.sessionId, a.history.expected, a.history.next);
          },
        });
      });
    },

    async leafAt(index) {
      const [r] = await db.query<LeafRecord>(`${LEAF_SELECT} WHERE m.leaf_index = $1`, [index]);
      return r ? toLeaf(r) : null;
    },

    async leavesOfAccount(account) {
      return (
        await db.query<LeafRecord>(`${LEAF_SELECT} WHERE m.account = $1 ORDER BY m.leaf_index`, [
          account,
        ])
      ).map(toLeaf);
    },

    async leavesOfSession(sessionId) {
      return (
        await db.query<LeafRecord>(`${LEAF_SELECT} WHERE m.session_id = $1 ORDER BY m.leaf_index`, [
          sessionId,
        ])
      ).map(toLeaf);
    },
  };
}
