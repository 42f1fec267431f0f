-- 0003_purge: TTL purge of sealed credentials (research/infra.md §4.2). Reads already hide expired
-- rows (store.ts filters expires_at > now()); this removes them from storage. Scheduled by pg_cron
-- in production, called directly by tests and by the host's timer.

CREATE FUNCTION purge_expired_credentials(batch integer) RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
-- A definer function must not resolve names through the caller's search_path.
SET search_path = pg_catalog, public
AS $$
DECLARE
  n integer;
BEGIN
  IF batch IS NULL OR batch < 1 OR batch > 10000 THEN
    RAISE EXCEPTION 'batch must be between 1 and 10000' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- SKIP LOCKED: concurrent purgers (or a revoke holding a row) never wait on each other.
  -- Data-modifying CTEs run to completion even though only `deleted` is read.
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
  ), marked AS (
    UPDATE public.sessions s
       SET status = 'expired'
      FROM deleted d
     WHERE s.session_id = d.session_id
       AND s.status = 'active'
    RETURNING 1
  )
  SELECT count(*) INTO n FROM deleted;

  -- One summary row per run that did something; a heartbeat every minute would only be noise
  -- (purge lag is alarmed on max(now() - expires_at) instead).
  IF n > 0 THEN
    INSERT INTO public.ops_logs (session_id, event, detail)
    VALUES (NULL, 'credentials.purged', jsonb_build_object('count', n, 'batch', batch));
  END IF;
  RETURN n;
END
$$;

-- Functions are executable by PUBLIC by default; only the host may purge.
REVOKE ALL ON FUNCTION purge_expired_credentials(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION purge_expired_credentials(integer) TO app_service;

-- The definer runs with purge_owner's rights: exactly what the body touches, nothing else.
-- (UPDATE on credentials is what FOR UPDATE requires.)
GRANT SELECT, UPDATE, DELETE ON credentials TO purge_owner;
GRANT SELECT, UPDATE ON sessions TO purge_owner;
GRANT INSERT ON ops_logs TO purge_owner;
GRANT USAGE ON SEQUENCE ops_logs_id_seq TO purge_owner;

-- Never let a SECURITY DEFINER function run as a superuser. A superuser migrator (tests, PGlite,
-- self-hosted) hands it to purge_owner; a non-superuser migrator (RDS) already owns only the
-- tables, and ALTER OWNER would need purge_owner to hold CREATE on the schema, so it keeps it.
DO $$
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    ALTER FUNCTION purge_expired_credentials(integer) OWNER TO purge_owner;
  END IF;
END
$$;
