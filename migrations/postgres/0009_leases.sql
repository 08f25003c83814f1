-- Hosts sharing the database by leasing work (store::lease): each host's
-- registration, renewed while it runs; a host whose expiry passed no longer
-- counts toward the fair share.
CREATE TABLE IF NOT EXISTS projector.projector_hosts (
    host TEXT PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

-- A unit of work, (family, part): its owner, a token that grows with every
-- change of owner, and when the lease expires. Every apply of a leased
-- replay reads its units' rows under a share lock and refuses to commit
-- unless it owns them, unexpired, under the token it took them with.
CREATE TABLE IF NOT EXISTS projector.projector_leases (
    family TEXT NOT NULL,
    part INTEGER NOT NULL,
    owner TEXT,
    token BIGINT NOT NULL DEFAULT 0,
    expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
    PRIMARY KEY (family, part)
);
