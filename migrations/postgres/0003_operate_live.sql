-- Operating live: failed events get an id and a retry time, skipped events
-- are recorded, and appended events wake followers.
ALTER TABLE projector_failed_events ADD COLUMN id BIGSERIAL UNIQUE;
ALTER TABLE projector_failed_events ADD COLUMN retry_after TIMESTAMPTZ;

CREATE TABLE IF NOT EXISTS projector_skipped_events (
    id BIGSERIAL PRIMARY KEY,
    family TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    "sequence" BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    "position" DECIMAL NOT NULL,
    in_tx_order INTEGER NOT NULL,
    error TEXT NOT NULL,
    skipped_by TEXT NOT NULL,
    skipped_at TIMESTAMPTZ NOT NULL
);

CREATE OR REPLACE FUNCTION eventstore.projector_notify_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('projector_events', '');
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS projector_notify_events ON eventstore.events2;
CREATE TRIGGER projector_notify_events
    AFTER INSERT ON eventstore.events2
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore.projector_notify_events();
