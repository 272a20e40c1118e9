-- The three roles of an edpipe database, least privilege each. Run as a superuser (or the
-- database owner with CREATEROLE) once the schema is migrated, in the database itself:
--
--   edpipe migrate up                                   # as a superuser or the future admin
--   psql -v ON_ERROR_STOP=1 -d observability -f schema/roles.sql
--   psql -c "ALTER ROLE edpipe_writer PASSWORD '...'"   # or certificates; never on edpipe's command line
--
-- edpipe_admin   owns the schema and every edpipe object; runs `edpipe migrate`.
-- edpipe_writer  what `edpipe load` and `edpipe tail` connect as: it reads, inserts and updates
--                the rows (COPY included), deletes only hourly rows that drop to zero and the
--                source-job links it makes, creates its TEMP staging tables, and makes day
--                partitions through edpipe_add_day_partitions(); it cannot create, alter or
--                drop tables itself.
-- edpipe_reader  dashboards, Hasura, SQL users: SELECT only.
-- Re-running it is safe. Later migrations, run as edpipe_admin, give the same privileges on
-- their new tables through the default privileges set here.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edpipe_admin') THEN CREATE ROLE edpipe_admin LOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edpipe_writer') THEN CREATE ROLE edpipe_writer LOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'edpipe_reader') THEN CREATE ROLE edpipe_reader LOGIN; END IF;
END $$;

-- The admin owns the schema and what is in it (the tables were created by whoever migrated).
ALTER SCHEMA public OWNER TO edpipe_admin;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm', 'S', 'v') LOOP
    EXECUTE format('ALTER %s public.%I OWNER TO edpipe_admin',
                   CASE WHEN r.relkind IN ('r', 'p') THEN 'TABLE' WHEN r.relkind = 'm' THEN 'MATERIALIZED VIEW'
                                  WHEN r.relkind = 'S' THEN 'SEQUENCE' ELSE 'VIEW' END, r.relname);
  END LOOP;
  FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname = 'public' LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO edpipe_admin', r.f);
  END LOOP;
END $$;

-- Nobody else creates objects in the schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO edpipe_writer, edpipe_reader;
DO $$
BEGIN
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO edpipe_writer', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO edpipe_reader', current_database());
END $$;

-- What exists now.
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO edpipe_writer;
GRANT DELETE ON metrics_hourly, name_metrics_hourly TO edpipe_writer;  -- an hour (or a name) whose contributions all moved away
GRANT DELETE ON edpipe_waiting_links TO edpipe_writer;  -- a link made: its job came
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO edpipe_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO edpipe_reader;
-- What later migrations (run as edpipe_admin) create.
ALTER DEFAULT PRIVILEGES FOR ROLE edpipe_admin IN SCHEMA public GRANT SELECT, INSERT, UPDATE ON TABLES TO edpipe_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE edpipe_admin IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO edpipe_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE edpipe_admin IN SCHEMA public GRANT SELECT ON TABLES TO edpipe_reader;
-- Pruning (`edpipe prune`) deletes detail rows: the admin's, as their owner; the writer cannot.
-- Refreshing dashboard_summary_24h (refresh_dashboard_stats()) is the admin's (or a scheduled job's as admin); the writer does not.
REVOKE EXECUTE ON FUNCTION refresh_dashboard_stats() FROM PUBLIC;
