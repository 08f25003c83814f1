-- Host tables that do not depend on owning the event store. An event store
-- projector did not create (Zitadel's) gets none of the event-store
-- migrations (0001, 0003), so what 0003 added to the host's tables is made
-- here too, when missing.
CREATE TABLE IF NOT EXISTS projector.projector_skipped_events (
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

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'projector'
                   AND table_name = 'projector_failed_events' AND column_name = 'id') THEN
        ALTER TABLE projector.projector_failed_events ADD COLUMN id BIGSERIAL UNIQUE;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'projector'
                   AND table_name = 'projector_failed_events' AND column_name = 'retry_after') THEN
        ALTER TABLE projector.projector_failed_events ADD COLUMN retry_after TIMESTAMPTZ;
    END IF;
END
$$;

-- How many events of its tenant a family has consumed (applied, or skipped
-- by an operator) since its checkpoint was created; `status` compares it
-- with the events at or below the checkpoint. Checkpoints from before are
-- counted as having consumed every subscribed event at or below them.
ALTER TABLE projector.projector_checkpoints ADD COLUMN n_consumed BIGINT NOT NULL DEFAULT 0;

UPDATE projector.projector_checkpoints c SET n_consumed = (
    SELECT COUNT(*) FROM eventstore.events2 e
    WHERE e.instance_id = c.instance_id
      AND EXISTS (
          SELECT 1 FROM projector.projector_families f,
              jsonb_array_elements(COALESCE(f.description -> 'subscriptions', '[]'::jsonb)) s
          WHERE f.name = c.family
            AND s ->> 'aggregate_type' = e.aggregate_type
            AND COALESCE(s -> 'event_types', '[]'::jsonb) ? e.event_type)
      AND (e."position", e.in_tx_order, e.aggregate_type, e.aggregate_id, e."sequence")
          <= (c."position", c.in_tx_order, c.aggregate_type, c.aggregate_id, c."sequence"));
