-- Operating live: failed events get a retry time (their id is the rowid),
-- skipped events are recorded.
ALTER TABLE projector_failed_events ADD COLUMN retry_after TEXT;

CREATE TABLE IF NOT EXISTS projector_skipped_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    family TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    "sequence" INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    "position" REAL NOT NULL,
    in_tx_order INTEGER NOT NULL,
    error TEXT NOT NULL,
    skipped_by TEXT NOT NULL,
    skipped_at TEXT NOT NULL
);
