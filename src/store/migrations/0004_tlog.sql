-- Transparency log storage (protocol §6). The host stores every perfect-subtree node hash the
-- enclave reports on append (level 0 = leaf hashes), so inclusion and consistency proofs are served
-- from O(log n) stored nodes, never by rebuilding. The head is one row updated by compare-and-swap
-- on tree_size: two host instances cannot both extend the same head, so the log cannot fork.

CREATE TABLE merkle_nodes (
  level  smallint NOT NULL CONSTRAINT merkle_nodes_level_range CHECK (level BETWEEN 0 AND 62),
  idx    bigint   NOT NULL CONSTRAINT merkle_nodes_idx_nonneg CHECK (idx >= 0),
  hash   bytea    NOT NULL CONSTRAINT merkle_nodes_hash_len CHECK (octet_length(hash) = 32),
  PRIMARY KEY (level, idx)
);

CREATE TABLE log_head (
  singleton  boolean     PRIMARY KEY DEFAULT true CONSTRAINT log_head_singleton CHECK (singleton),
  tree_size  bigint      NOT NULL CONSTRAINT log_head_size_nonneg CHECK (tree_size >= 0),
  root       bytea       NOT NULL CONSTRAINT log_head_root_len CHECK (octet_length(root) = 32),
  checkpoint text        NOT NULL CONSTRAINT log_head_checkpoint_size CHECK (octet_length(checkpoint) <= 8192),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Which leaf an aggregate became. Kept after revoke, with the payload purged.
ALTER TABLE aggregates ADD COLUMN leaf_index bigint REFERENCES merkle_logs (leaf_index);
CREATE UNIQUE INDEX aggregates_leaf_index_idx ON aggregates (leaf_index) WHERE leaf_index IS NOT NULL;

GRANT SELECT, INSERT ON merkle_nodes TO app_service;          -- append-only
GRANT SELECT, INSERT, UPDATE ON log_head TO app_service;
GRANT SELECT ON merkle_nodes, log_head TO operator_readonly;
