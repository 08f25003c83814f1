-- The event store, shaped like the reference's eventstore.events2.
-- SQLite has no schemas and no numeric type: position is REAL (seconds with a
-- microsecond fraction), created_at is RFC 3339 text with microseconds.
CREATE TABLE IF NOT EXISTS events2 (
    instance_id TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    "sequence" INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    payload TEXT,
    creator TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "position" REAL NOT NULL,
    in_tx_order INTEGER NOT NULL,
    PRIMARY KEY (instance_id, aggregate_type, aggregate_id, "sequence")
);

CREATE INDEX IF NOT EXISTS events2_global_order
    ON events2 ("position", in_tx_order, instance_id, aggregate_type, aggregate_id, "sequence");
