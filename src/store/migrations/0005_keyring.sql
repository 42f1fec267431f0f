-- The enclave's sealed key ring (docs/architecture.md, "Key ring"). One row, shared by every
-- enclave instance behind this database: a restarted or second enclave opens sessions submitted to
-- the first. The blob is AES-256-GCM under a data key only an attested enclave can unwrap through
-- the key service; the host stores it and cannot read it. `version` makes writes a compare-and-swap,
-- so two enclaves rotating at once cannot clobber each other: the loser reloads the winner's ring.

CREATE TABLE enclave_keyring (
  singleton  boolean     PRIMARY KEY DEFAULT true CONSTRAINT enclave_keyring_singleton CHECK (singleton),
  version    bigint      NOT NULL CONSTRAINT enclave_keyring_version_pos CHECK (version >= 1),
  sealed     text        NOT NULL CONSTRAINT enclave_keyring_sealed_b64 CHECK (
                           sealed ~ '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$'
                           AND length(sealed) BETWEEN 4 AND 400000),
  updated_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON enclave_keyring TO app_service;   -- no DELETE: losing the ring loses every session
-- operator_readonly sees that a ring exists and when it last changed, not the wrapped blob: like
-- credential ciphertext, it is useless without the attested key, but nobody outside needs it.
GRANT SELECT (version, updated_at) ON enclave_keyring TO operator_readonly;
