-- 0001_init: tables of the untrusted host (protocol §3–6).
-- Runs unchanged on PostgreSQL 15+ and PGlite (PG 18). The host stores only what the protocol
-- allows: sealed envelopes, public metadata, signed results and log leaves, never a plaintext key.
--
-- base64 CHECKs follow research/infra.md §4.3: a strict regex that also pins the unused trailing
-- bits (canonical encoding, one text per byte string) runs first, inside CASE, so decode() only
-- ever sees valid input and never raises; decode() then pins the exact decoded length.

CREATE TABLE users (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  email       text        NOT NULL CONSTRAINT users_email_format
                          CHECK (length(email) BETWEEN 3 AND 254 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  status      text        NOT NULL DEFAULT 'active' CONSTRAINT users_status_known
                          CHECK (status IN ('active', 'disabled')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

CREATE TABLE sessions (
  -- 32 random bytes as unpadded base64url (43 chars); the last char carries 2 padding bits = 0.
  session_id  text        PRIMARY KEY CONSTRAINT sessions_session_id_b64url
                          CHECK (session_id ~ '^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$'),
  user_id     uuid        REFERENCES users (id),
  exchange    text        NOT NULL CONSTRAINT sessions_exchange_id CHECK (exchange ~ '^[a-z0-9_]{1,32}$'),
  label       text        NOT NULL CONSTRAINT sessions_label_format CHECK (label ~ '^[A-Za-z0-9 _.-]{1,64}$'),
  status      text        NOT NULL DEFAULT 'active' CONSTRAINT sessions_status_known
                          CHECK (status IN ('active', 'revoked', 'expired')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  account     text        CONSTRAINT sessions_account_hex CHECK (account ~ '^[0-9a-f]{64}$'),
  CONSTRAINT sessions_expiry_after_creation CHECK (expires_at > created_at),
  -- A tombstone always says when it was revoked, and only tombstones do.
  CONSTRAINT sessions_revoked_at_iff_revoked CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX sessions_active_expires_idx ON sessions (expires_at) WHERE status = 'active';
CREATE INDEX sessions_account_idx ON sessions (account) WHERE account IS NOT NULL;

CREATE TABLE credentials (
  session_id    text        PRIMARY KEY REFERENCES sessions (session_id) ON DELETE CASCADE,
  -- X25519 public key, 32 bytes → 44 chars, one '='.
  ephemeral_pub text        NOT NULL CONSTRAINT credentials_ephemeral_pub_b64
                            CHECK (CASE WHEN ephemeral_pub ~ '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$'
                                        THEN octet_length(decode(ephemeral_pub, 'base64')) = 32
                                        ELSE false END),
  -- AES-GCM nonce, 12 bytes → 16 chars, no padding.
  nonce         text        NOT NULL CONSTRAINT credentials_nonce_b64
                            CHECK (CASE WHEN nonce ~ '^[A-Za-z0-9+/]{16}$'
                                        THEN octet_length(decode(nonce, 'base64')) = 12
                                        ELSE false END),
  -- 1..8192 bytes → 4..10924 chars. The length bound runs before the regex so a huge value is
  -- rejected cheaply; 8193 bytes also encode to 10924 chars, which decode() then catches.
  ciphertext    text        NOT NULL CONSTRAINT credentials_ciphertext_b64
                            CHECK (CASE WHEN length(ciphertext) BETWEEN 4 AND 10924
                                         AND ciphertext ~ '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?$'
                                        THEN octet_length(decode(ciphertext, 'base64')) BETWEEN 1 AND 8192
                                        ELSE false END),
  -- AES-GCM tag, 16 bytes → 24 chars, '=='.
  tag           text        NOT NULL CONSTRAINT credentials_tag_b64
                            CHECK (CASE WHEN tag ~ '^[A-Za-z0-9+/]{21}[AQgw]==$'
                                        THEN octet_length(decode(tag, 'base64')) = 16
                                        ELSE false END),
  key_id        text        NOT NULL CONSTRAINT credentials_key_id_hex CHECK (key_id ~ '^[0-9a-f]{16}$'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL
);
-- The purge walks credentials oldest-expiry first.
CREATE INDEX credentials_expires_at_idx ON credentials (expires_at);

CREATE TABLE aggregates (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id  text        NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
  -- JCS text exactly as signed. Not jsonb: jsonb reorders keys and re-renders numbers, which would
  -- break signature verification. NULL once the session is revoked (protocol §5).
  payload     text        CONSTRAINT aggregates_payload_size CHECK (octet_length(payload) <= 65536),
  -- Purged with the payload: a signature lets anyone confirm a guessed payload.
  signature   text        CONSTRAINT aggregates_signature_b64 CHECK (signature ~ '^[A-Za-z0-9+/]{85}[AQgw]==$'),
  account     text        NOT NULL CONSTRAINT aggregates_account_hex CHECK (account ~ '^[0-9a-f]{64}$'),
  computed_at timestamptz NOT NULL,
  CONSTRAINT aggregates_payload_iff_signature CHECK ((payload IS NULL) = (signature IS NULL))
);
CREATE INDEX aggregates_session_computed_idx ON aggregates (session_id, computed_at DESC, id DESC);

-- Transparency-log leaves (protocol §6). Leaf hashes reveal nothing and survive revocation.
CREATE TABLE merkle_logs (
  leaf_index  bigint      PRIMARY KEY CONSTRAINT merkle_logs_leaf_index_nonneg CHECK (leaf_index >= 0),
  leaf_hash   bytea       NOT NULL CONSTRAINT merkle_logs_leaf_hash_len CHECK (octet_length(leaf_hash) = 32),
  session_id  text        CONSTRAINT merkle_logs_session_id_b64url
                          CHECK (session_id ~ '^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$'),
  account     text        NOT NULL CONSTRAINT merkle_logs_account_hex CHECK (account ~ '^[0-9a-f]{64}$'),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX merkle_logs_account_idx ON merkle_logs (account, leaf_index);
CREATE INDEX merkle_logs_session_idx ON merkle_logs (session_id, leaf_index) WHERE session_id IS NOT NULL;

-- Operational events. No FK on session_id: logging a probe for an unknown session must not fail.
CREATE TABLE ops_logs (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id  text        CONSTRAINT ops_logs_session_id_format CHECK (session_id ~ '^[A-Za-z0-9_-]{43}$'),
  event       text        NOT NULL CONSTRAINT ops_logs_event_format CHECK (event ~ '^[a-z][a-z0-9_.]{0,63}$'),
  detail      jsonb       NOT NULL DEFAULT '{}'::jsonb
                          CONSTRAINT ops_logs_detail_object CHECK (jsonb_typeof(detail) = 'object'
                                                                   AND octet_length(detail::text) <= 4096),
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ops_logs_session_idx ON ops_logs (session_id, id) WHERE session_id IS NOT NULL;
