-- A paused family: `run` starts no batch of it until it is resumed
-- (`projector family pause|resume`). Kept on the installed family's row, so
-- only an installed family can be paused, and a pause outlives rebuilds.
ALTER TABLE projector_families ADD COLUMN paused_at TEXT;
ALTER TABLE projector_families ADD COLUMN paused_by TEXT;
