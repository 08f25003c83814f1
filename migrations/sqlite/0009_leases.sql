-- Hosts sharing a database by leasing work (store::lease). Leases are kept
-- on PostgreSQL only (an SQLite file has one host); the tables exist here so
-- both stores have the same host tables.
CREATE TABLE IF NOT EXISTS projector_hosts (
    host TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS projector_leases (
    family TEXT NOT NULL,
    part INTEGER NOT NULL,
    owner TEXT,
    token INTEGER NOT NULL DEFAULT 0,
    expires_at TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (family, part)
);
