-- The host's own state: checkpoints, failed events, installed families.
CREATE TABLE IF NOT EXISTS projector_checkpoints (
    family TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    "position" REAL NOT NULL,
    in_tx_order INTEGER NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    "sequence" INTEGER NOT NULL,
    event_date TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (family, instance_id)
);

CREATE TABLE IF NOT EXISTS projector_failed_events (
    family TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    "sequence" INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    "position" REAL NOT NULL,
    in_tx_order INTEGER NOT NULL,
    error TEXT NOT NULL,
    failure_count INTEGER NOT NULL,
    first_failed TEXT NOT NULL,
    last_failed TEXT NOT NULL,
    PRIMARY KEY (family, instance_id, aggregate_type, aggregate_id, "sequence")
);

CREATE TABLE IF NOT EXISTS projector_families (
    name TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    plugin_hash TEXT NOT NULL,
    description TEXT NOT NULL,
    installed_at TEXT NOT NULL
);
