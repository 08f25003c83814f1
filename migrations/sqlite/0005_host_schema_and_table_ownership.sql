-- Every family table and view is recorded with the family that created it.
-- (SQLite has one namespace: the reserved names keep the host's tables apart.)
CREATE TABLE IF NOT EXISTS projector_tables (
    name TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('table', 'view')),
    recorded_at TEXT NOT NULL
);

-- Families installed before: they own what their recorded description
-- declares, except names no family may own; a name two families declared
-- goes to the one installed first.
INSERT OR IGNORE INTO projector_tables (name, family, kind, recorded_at)
SELECT r.name, r.family, r.kind, r.installed_at
FROM (
    SELECT json_extract(t.value, '$.name') AS name, f.name AS family, 'table' AS kind,
           f.installed_at AS installed_at
    FROM projector_families f, json_each(f.description, '$.tables') t
    UNION ALL
    SELECT json_extract(v.value, '$.name'), f.name, 'view', f.installed_at
    FROM projector_families f, json_each(f.description, '$.views') v
) r
WHERE r.name IS NOT NULL
  AND substr(lower(r.name), 1, 10) <> 'projector_'
  AND substr(lower(r.name), 1, 7) <> 'sqlite_'
  AND lower(r.name) NOT IN ('events2', '_sqlx_migrations')
  AND instr(r.name, '.') = 0
ORDER BY r.installed_at, r.family;
