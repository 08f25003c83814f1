-- How many events of its tenant a family has consumed (applied, or skipped
-- by an operator) since its checkpoint was created; `status` compares it
-- with the events at or below the checkpoint. Checkpoints from before are
-- counted as having consumed every subscribed event at or below them.
-- (The PostgreSQL migration of this number also completes the host tables
-- of an event store projector did not create; SQLite's is always its own.)
ALTER TABLE projector_checkpoints ADD COLUMN n_consumed INTEGER NOT NULL DEFAULT 0;

UPDATE projector_checkpoints SET n_consumed = (
    SELECT COUNT(*) FROM events2 e
    WHERE e.instance_id = projector_checkpoints.instance_id
      AND EXISTS (
          SELECT 1 FROM projector_families f, json_each(f.description, '$.subscriptions') s,
              json_each(s.value, '$.event_types') t
          WHERE f.name = projector_checkpoints.family
            AND json_extract(s.value, '$.aggregate_type') = e.aggregate_type
            AND t.value = e.event_type)
      AND (e."position", e.in_tx_order, e.aggregate_type, e.aggregate_id, e."sequence")
          <= (projector_checkpoints."position", projector_checkpoints.in_tx_order,
              projector_checkpoints.aggregate_type, projector_checkpoints.aggregate_id,
              projector_checkpoints."sequence"));
