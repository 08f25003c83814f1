-- The host's tables move to schema projector (the families' tables live in
-- the projection schema, `--schema`, default public), and every family
-- table and view is recorded with the family that created it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'projector') THEN
        CREATE SCHEMA projector;
    END IF;
END
$$;

-- Databases from before: the host's tables were created in public.
DO $$
DECLARE
    host_table TEXT;
BEGIN
    FOREACH host_table IN ARRAY ARRAY['projector_checkpoints', 'projector_failed_events',
        'projector_skipped_events', 'projector_families', 'projector_plugins'] LOOP
        IF to_regclass(format('public.%I', host_table)) IS NOT NULL
           AND to_regclass(format('projector.%I', host_table)) IS NULL THEN
            EXECUTE format('ALTER TABLE public.%I SET SCHEMA projector', host_table);
        END IF;
    END LOOP;
END
$$;

CREATE TABLE IF NOT EXISTS projector.projector_tables (
    name TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('table', 'view')),
    recorded_at TIMESTAMPTZ NOT NULL
);

-- Families installed before: they own what their recorded description
-- declares, except names no family may own; a name two families declared
-- goes to the one installed first.
INSERT INTO projector.projector_tables (name, family, kind, recorded_at)
SELECT r.name, f.name, r.kind, f.installed_at
FROM projector.projector_families f
CROSS JOIN LATERAL (
    SELECT t ->> 'name' AS name, 'table' AS kind
    FROM jsonb_array_elements(COALESCE(f.description -> 'tables', '[]'::jsonb)) t
    UNION ALL
    SELECT v ->> 'name', 'view'
    FROM jsonb_array_elements(COALESCE(f.description -> 'views', '[]'::jsonb)) v
) r
WHERE r.name IS NOT NULL
  AND left(lower(r.name), 10) <> 'projector_'
  AND left(lower(r.name), 7) <> 'sqlite_'
  AND lower(r.name) NOT IN ('events2', '_sqlx_migrations')
  AND strpos(r.name, '.') = 0
ORDER BY f.installed_at, f.name
ON CONFLICT (name) DO NOTHING;
