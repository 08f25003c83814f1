-- Deployed plugin versions: their id is the content hash; one is active per family.
CREATE TABLE IF NOT EXISTS projector_plugins (
    family TEXT NOT NULL,
    hash TEXT NOT NULL,
    version TEXT NOT NULL,
    wasm BLOB NOT NULL,
    deployed_at TEXT NOT NULL,
    deployed_by TEXT NOT NULL,
    active INTEGER NOT NULL,
    PRIMARY KEY (family, hash)
);
