/**
 * Storage of the enclave's sealed key ring (migration 0005): one row, written by compare-and-swap
 * on `version`. The host never interprets the blob.
 *
 * @example
 * const row = await ring.load();                       // null before the first enclave start
 * const ok = await ring.save(row?.version ?? null, sealed); // false: another instance wrote first
 */
import type { Queryable } from './db.js';

export interface StoredRing {
  version: number;
  sealed: string;
}

export interface KeyRingStore {
  load(): Promise<StoredRing | null>;
  /** Stores `sealed` if the row is still at `expected` (null: no row yet). False when it was not. */
  save(expected: number | null, sealed: string): Promise<boolean>;
}

export function createKeyRingStore(db: Queryable): KeyRingStore {
  return {
    async load() {
      const [row] = await db.query<StoredRing>('SELECT version, sealed FROM enclave_keyring');
      return row ?? null;
    },
    async save(expected, sealed) {
      const rows =
        expected === null
          ? await db.query(
              `INSERT INTO enclave_keyring (version, sealed) VALUES (1, $1)
               ON CONFLICT (singleton) DO NOTHING RETURNING version`,
              [sealed],
            )
          : await db.query(
              `UPDATE enclave_keyring SET version = version + 1, sealed = $1, updated_at = now()
               WHERE version = $2 RETURNING version`,
              [sealed, expected],
            );
      return rows.length === 1;
    },
  };
}
