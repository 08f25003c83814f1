-- The event store: the reference's eventstore.events2, column for column.
CREATE SCHEMA IF NOT EXISTS eventstore;

CREATE TABLE IF NOT EXISTS eventstore.events2 (
    instance_id TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    "sequence" BIGINT NOT NULL,
    revision SMALLINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    payload JSONB,
    creator TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "position" DECIMAL NOT NULL,
    in_tx_order INTEGER NOT NULL,
    PRIMARY KEY (instance_id, aggregate_type, aggregate_id, "sequence")
);

CREATE INDEX IF NOT EXISTS es_projection
    ON eventstore.events2 (instance_id, aggregate_type, event_type, "position");

CREATE INDEX IF NOT EXISTS events2_global_order
    ON eventstore.events2 ("position", in_tx_order, instance_id, aggregate_type, aggregate_id, "sequence");
