-- Deployed plugin versions: their id is the content hash; one is active per family.
CREATE TABLE IF NOT EXISTS projector_plugins (
    family TEXT NOT NULL,
    hash TEXT NOT NULL,
    version TEXT NOT NULL,
    wasm BYTEA NOT NULL,
    deployed_at TIMESTAMPTZ NOT NULL,
    deployed_by TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    PRIMARY KEY (family, hash)
);
