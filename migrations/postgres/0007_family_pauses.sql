-- A paused family: `run` starts no batch of it until it is resumed
-- (`projector family pause|resume`). Kept on the installed family's row, so
-- only an installed family can be paused, and a pause outlives rebuilds.
ALTER TABLE projector.projector_families
    ADD COLUMN IF NOT EXISTS paused_at TIMESTAMPTZ,
    ADD COLUMN IF NOT EXISTS paused_by TEXT;
