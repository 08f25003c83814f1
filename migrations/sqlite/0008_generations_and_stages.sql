-- A family's generation: moved by every operation that replaces the
-- family's rows and checkpoints from outside its replay (an online rebuild's
-- swap). Every apply transaction reads it and refuses to commit when it
-- moved since the replay read its checkpoints, so a batch planned before the
-- swap is never applied over it (store::fence).
ALTER TABLE projector_families ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;

-- A deployed version that is not live yet: 'building' while `plugin deploy`
-- builds its tables aside (they differ from the live ones), 'shadow' while
-- it runs beside the live version until `plugin promote` or `discard`.
ALTER TABLE projector_plugins ADD COLUMN stage TEXT;

-- The description of the version whose tables a cutover kept aside (lane
-- `prev`), for `plugin rollback`; NULL once `plugin gc` dropped them.
ALTER TABLE projector_families ADD COLUMN kept_description TEXT;
