-- 0006_history: each session's history as the enclave sealed it (issue #3, "History beyond the
-- exchange's window"; src/enclave/history.ts). AES-256-GCM under a key derived from the key ring's
-- data key, bound by associated data to session, exchange and version: the host stores it and can
-- neither read it nor move it to another session. `version` rises by one per write, by
-- compare-and-swap (two computations of one session: one write wins).

CREATE TABLE session_history (
  session_id text        PRIMARY KEY REFERENCES sessions (session_id) ON DELETE CASCADE,
  version    bigint      NOT NULL CONSTRAINT session_history_version_pos CHECK (version >= 1),
  -- base64 of 0x01 ‖ nonce ‖ ciphertext ‖ tag: at least 29 bytes (40 chars), at most the RPC
  -- bound (src/wire/messages.ts MAX_HISTORY_B64). Length first, so a huge value fails cheaply.
  ciphertext text        NOT NULL CONSTRAINT session_history_ciphertext_b64 CHECK (
                           length(ciphertext) BETWEEN 40 AND 700000
                           AND ciphertext ~ '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$'),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- DELETE: revoke purges it; no grant for operator_readonly at all (not even version: the row's
-- existence per session is all it would learn, and nobody outside needs it).
GRANT SELECT, INSERT, UPDATE, DELETE ON session_history TO app_service;

-- The TTL purge removes the history with the credential: same body as 0003 plus `hist`.
CREATE OR REPLACE FUNCTION purge_expired_credentials(batch integer) RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
DECLARE
  n integer;
BEGIN
  IF batch IS NULL OR batch < 1 OR batch > 10000 THEN
    RAISE EXCEPTION 'batch must be between 1 and 10000' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  WITH victims AS (
    SELECT c.session_id
      FROM public.credentials c
     WHERE c.expires_at <= now()
     ORDER BY c.expires_at
     LIMIT batch
       FOR UPDATE SKIP LOCKED
  ), deleted AS (
    DELETE FROM public.credentials c
     USING victims v
     WHERE c.session_id = v.session_id
    RETURNING c.session_id
  ), hist AS (
    DELETE FROM public.session_history h
     USING deleted d
     WHERE h.session_id = d.session_id
    RETURNING 1
  ), marked AS (
    UPDATE public.sessions s
       SET status = 'expired'
      FROM deleted d
     WHERE s.session_id = d.session_id
       AND s.status = 'active'
    RETURNING 1
  )
  SELECT count(*) INTO n FROM deleted;

  IF n > 0 THEN
    INSERT INTO public.ops_logs (session_id, event, detail)
    VALUES (NULL, 'credentials.purged', jsonb_build_object('count', n, 'batch', batch));
  END IF;
  RETURN n;
END
$$;

GRANT SELECT, DELETE ON session_history TO purge_owner;
