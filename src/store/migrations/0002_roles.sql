-- 0002_roles: least-privilege roles (research/infra.md §4.1).
-- Roles are cluster-wide on PostgreSQL, so several databases (one per test run) share them: create
-- them idempotently, and tolerate the race where two databases migrate at the same moment (the
-- advisory lock in migrate.ts is per database, so it does not serialise CREATE ROLE).
-- None of them can log in: a login role is made a member by whoever deploys, and the host then
-- runs `SET ROLE app_service` on every connection (db.ts).

DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['app_service', 'operator_readonly', 'purge_owner'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- another database's migration created it between our check and our CREATE
      END;
    END IF;
  END LOOP;
END
$$;

-- Nobody but the owner creates objects here (already the default since PostgreSQL 15; explicit
-- so a cluster upgraded from an older major is covered too).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- app_service: exactly what store.ts does, table by table. No DDL, no TRUNCATE, no users table.
GRANT SELECT, INSERT, UPDATE ON sessions TO app_service;         -- create, mark revoked, set account
GRANT SELECT, INSERT, DELETE ON credentials TO app_service;      -- no UPDATE: a sealed envelope is never rewritten
GRANT SELECT, INSERT, UPDATE ON aggregates TO app_service;       -- UPDATE nulls payloads on revoke
GRANT SELECT, INSERT ON merkle_logs TO app_service;              -- append-only log
GRANT SELECT, INSERT, DELETE ON ops_logs TO app_service;         -- DELETE purges per-session detail on revoke
GRANT SELECT ON schema_migrations TO app_service;                -- migrate() on start checks it is up to date
GRANT USAGE ON SEQUENCE aggregates_id_seq, ops_logs_id_seq TO app_service;

-- operator_readonly: read everything except the sealed envelope. Explicit per-table grants (never
-- pg_read_all_data, which bypasses column grants), so a table added later stays invisible until
-- someone decides otherwise.
GRANT SELECT ON users, sessions, aggregates, merkle_logs, ops_logs, schema_migrations TO operator_readonly;
GRANT SELECT (session_id, key_id, created_at, expires_at) ON credentials TO operator_readonly;
