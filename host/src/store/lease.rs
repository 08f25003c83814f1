//! Hosts sharing one PostgreSQL by leasing work.
//!
//! A *unit* of work is a (family, part): part [`part_of`] a tenant is a
//! stable hash of its `instance_id` modulo [`PARTS`], the same on every host
//! and version, so a tenant always belongs to one unit of each family and a
//! unit's tenants keep their per-tenant order. Every unit has a row in
//! `projector_leases` (migration 0009): its owner, a token that grows with
//! every change of owner, and an expiry. A host registers in
//! `projector_hosts` with an expiry of its own and renews both while it
//! runs; it aims at a fair share, `ceil(units / live hosts)`: it takes free
//! or expired units up to it (`FOR UPDATE SKIP LOCKED`, so hosts never wait
//! on each other), and gives back what is over it, so a host that joins
//! gets its share as the others renew. A host that dies stops renewing; its
//! units are free once their expiry passes, and its host row no longer
//! counts.
//!
//! *Fencing.* Every apply transaction of a leased replay reads the leases of
//! the units its batch touches ([`check`]) under a share lock, held to the
//! commit, and refuses ([`StoreError::LeaseLost`]) unless this host owns
//! each, with the token it took it under, and its expiry has not passed (by
//! the database's clock). A host paused past its expiry therefore commits
//! nothing when it wakes up; and a taker skips rows that an apply holds, so
//! a unit changes owner only between two applies, never during one.
//! Checkpoint claims ([`super::claim`]) still guard each tenant, so even two
//! owners could not apply an event twice.
//!
//! Leases are kept on PostgreSQL only: an SQLite file has one host.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::Row;

use super::{Db, StoreError, Tx};

/// The parts each family's tenants are divided into.
pub const PARTS: i32 = 16;

/// The unit (part) of a tenant: FNV-1a (64 bits) of its id, modulo [`PARTS`].
pub fn part_of(instance_id: &str) -> i32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in instance_id.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // The remainder is below PARTS, so it fits.
    i32::try_from(hash % PARTS as u64).unwrap_or(0)
}

/// A unit this host holds, with the token it took it under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lease {
    /// The family.
    pub family: String,
    /// The part.
    pub part: i32,
    /// Grows with every change of owner.
    pub token: i64,
}

/// The units of one family a host holds: the tenants a leased replay
/// takes, and what its applies check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The host.
    pub host: String,
    /// The family (its canonical name: a lane of it is leased with it).
    pub family: String,
    /// Part → the token it was taken under.
    pub tokens: BTreeMap<i32, i64>,
}

impl Share {
    /// Per family, the share `host` holds in `leases`.
    pub fn of(host: &str, leases: &[Lease]) -> BTreeMap<String, Share> {
        let mut shares: BTreeMap<String, Share> = BTreeMap::new();
        for lease in leases {
            shares
                .entry(lease.family.clone())
                .or_insert_with(|| Share {
                    host: host.to_owned(),
                    family: lease.family.clone(),
                    tokens: BTreeMap::new(),
                })
                .tokens
                .insert(lease.part, lease.token);
        }
        shares
    }

    /// Whether the tenant's unit is in the share.
    pub fn holds(&self, instance_id: &str) -> bool {
        self.tokens.contains_key(&part_of(instance_id))
    }

    /// The tokens of the units of `tenants`.
    pub fn tokens_of<'t>(&self, tenants: impl Iterator<Item = &'t str>) -> BTreeMap<i32, i64> {
        let mut tokens = BTreeMap::new();
        for tenant in tenants {
            let part = part_of(tenant);
            // A tenant outside the share is checked as unheld (token -1).
            tokens.insert(part, self.tokens.get(&part).copied().unwrap_or(-1));
        }
        tokens
    }
}

/// A unit's row as `status` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    /// The family.
    pub family: String,
    /// The part.
    pub part: i32,
    /// The host holding it (`None`: free).
    pub owner: Option<String>,
    /// Whether its expiry has passed.
    pub expired: bool,
}

/// Register a host, or renew its registration: `$1` the host, `$2` the
/// lease time in milliseconds.
const REGISTER_HOST: &str = "INSERT INTO projector_hosts (host, started_at, expires_at) \
     VALUES ($1, now(), now() + $2 * interval '1 millisecond') \
     ON CONFLICT (host) DO UPDATE SET expires_at = excluded.expires_at";

/// One host's side of the leases.
#[derive(Debug, Clone)]
pub struct Leaser {
    host: String,
    ttl: Duration,
}

fn pool(db: &Db) -> Option<&sqlx::PgPool> {
    match db {
        Db::Postgres(pool) => Some(pool),
        Db::Sqlite(_) => None,
    }
}

impl Leaser {
    /// A host named `host` (unique among the hosts sharing the database)
    /// whose leases last `ttl` past each renewal.
    pub fn new(host: impl Into<String>, ttl: Duration) -> Leaser {
        Leaser {
            host: host.into(),
            ttl,
        }
    }

    /// The host's name.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// How long a lease lasts past a renewal.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn ttl_ms(&self) -> i64 {
        i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX)
    }

    /// Register the host (or renew it) and make sure every unit of
    /// `families` has a row.
    pub async fn register(&self, db: &Db, families: &[String]) -> Result<(), StoreError> {
        let Some(pool) = pool(db) else {
            return Ok(());
        };
        sqlx::query(REGISTER_HOST)
            .bind(&self.host)
            .bind(self.ttl_ms())
            .execute(pool)
            .await?;
        sqlx::query(
            "INSERT INTO projector_leases (family, part) \
             SELECT f, p FROM unnest($1::text[]) AS f, generate_series(0, $2 - 1) AS p \
             ON CONFLICT (family, part) DO NOTHING",
        )
        .bind(families)
        .bind(PARTS)
        .execute(pool)
        .await?;
        Ok(())
    }

    /// Renew the host and the units it still holds; returns them. A unit
    /// whose expiry passed is not renewed (another host may hold it now).
    pub async fn renew(&self, db: &Db) -> Result<Vec<Lease>, StoreError> {
        let Some(pool) = pool(db) else {
            return Ok(Vec::new());
        };
        let mut tx = pool.begin().await?;
        sqlx::query(REGISTER_HOST)
            .bind(&self.host)
            .bind(self.ttl_ms())
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query(
            "UPDATE projector_leases SET expires_at = now() + $2 * interval '1 millisecond' \
             WHERE owner = $1 AND expires_at > clock_timestamp() RETURNING family, part, token",
        )
        .bind(&self.host)
        .bind(self.ttl_ms())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        leases(&rows)
    }

    /// Move toward a fair share: take free or expired units up to
    /// `ceil(units / live hosts)`, give back the units over it. `held` is
    /// what [`Leaser::renew`] returned; returns what the host holds now.
    pub async fn balance(&self, db: &Db, held: Vec<Lease>) -> Result<Vec<Lease>, StoreError> {
        let Some(pool) = pool(db) else {
            return Ok(held);
        };
        let row = sqlx::query(
            "SELECT (SELECT count(*) FROM projector_leases), \
                    (SELECT count(*) FROM projector_hosts WHERE expires_at > clock_timestamp())",
        )
        .fetch_one(pool)
        .await?;
        let units: i64 = row.try_get(0)?;
        let hosts: i64 = row.try_get::<i64, _>(1)?.max(1);
        let share = (units + hosts - 1) / hosts;
        let n_held = i64::try_from(held.len()).unwrap_or(i64::MAX);
        let mut held = held;
        if n_held > share {
            let excess = usize::try_from(n_held - share).unwrap_or(0);
            held.sort();
            let given: Vec<Lease> = held.split_off(held.len().saturating_sub(excess));
            self.give_back(pool, &given).await?;
        } else if n_held < share {
            let rows = sqlx::query(
                "UPDATE projector_leases AS l SET owner = $1, token = l.token + 1, \
                 expires_at = now() + $2 * interval '1 millisecond' \
                 FROM (SELECT family, part FROM projector_leases \
                       WHERE owner IS NULL OR expires_at <= clock_timestamp() \
                       ORDER BY part, family LIMIT $3 FOR UPDATE SKIP LOCKED) AS free \
                 WHERE l.family = free.family AND l.part = free.part \
                 RETURNING l.family, l.part, l.token",
            )
            .bind(&self.host)
            .bind(self.ttl_ms())
            .bind(share - n_held)
            .fetch_all(pool)
            .await?;
            held.extend(leases(&rows)?);
            held.sort();
        }
        Ok(held)
    }

    async fn give_back(&self, pool: &sqlx::PgPool, given: &[Lease]) -> Result<(), StoreError> {
        if given.is_empty() {
            return Ok(());
        }
        let families: Vec<&str> = given.iter().map(|l| l.family.as_str()).collect();
        let parts: Vec<i32> = given.iter().map(|l| l.part).collect();
        sqlx::query(
            "UPDATE projector_leases SET owner = NULL, expires_at = '-infinity' \
             WHERE owner = $1 AND (family, part) IN (SELECT * FROM unnest($2::text[], $3::int[]))",
        )
        .bind(&self.host)
        .bind(&families)
        .bind(&parts)
        .execute(pool)
        .await?;
        Ok(())
    }

    /// Give back every unit and leave (a clean stop): the other hosts take
    /// the units at their next balance instead of after the expiry.
    pub async fn resign(&self, db: &Db) -> Result<(), StoreError> {
        let Some(pool) = pool(db) else {
            return Ok(());
        };
        sqlx::query(
            "UPDATE projector_leases SET owner = NULL, expires_at = '-infinity' WHERE owner = $1",
        )
        .bind(&self.host)
        .execute(pool)
        .await?;
        sqlx::query("DELETE FROM projector_hosts WHERE host = $1")
            .bind(&self.host)
            .execute(pool)
            .await?;
        Ok(())
    }
}

fn leases(rows: &[sqlx::postgres::PgRow]) -> Result<Vec<Lease>, StoreError> {
    let mut leases = rows
        .iter()
        .map(|r| {
            Ok(Lease {
                family: r.try_get(0)?,
                part: r.try_get(1)?,
                token: r.try_get(2)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    leases.sort();
    Ok(leases)
}

/// Inside an apply transaction: refuse unless `host` holds every unit of
/// `family` in `tokens` (part → the token it was taken under), unexpired,
/// and keep them (a share lock to the commit).
pub async fn check(
    tx: &mut Tx,
    host: &str,
    family: &str,
    tokens: &BTreeMap<i32, i64>,
) -> Result<(), StoreError> {
    let Tx::Postgres(t) = tx else {
        return Ok(());
    };
    if tokens.is_empty() {
        return Ok(());
    }
    let parts: Vec<i32> = tokens.keys().copied().collect();
    let rows = sqlx::query(
        "SELECT part, token FROM projector_leases WHERE family = $1 AND owner = $2 \
         AND part = ANY($3::int[]) AND expires_at > clock_timestamp() FOR SHARE",
    )
    .bind(family)
    .bind(host)
    .bind(&parts)
    .fetch_all(&mut **t)
    .await?;
    let mut held = BTreeMap::new();
    for row in rows {
        held.insert(row.try_get::<i32, _>(0)?, row.try_get::<i64, _>(1)?);
    }
    for (part, token) in tokens {
        if held.get(part) != Some(token) {
            return Err(StoreError::LeaseLost {
                family: family.to_owned(),
                part: *part,
            });
        }
    }
    Ok(())
}

/// Every unit, with its holder (PostgreSQL; none on SQLite).
pub async fn holders(db: &Db) -> Result<Vec<Holder>, StoreError> {
    let Some(pool) = pool(db) else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query(
        "SELECT family, part, owner, expires_at <= clock_timestamp() FROM projector_leases \
         ORDER BY family, part",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Holder {
                family: r.try_get(0)?,
                part: r.try_get(1)?,
                owner: r.try_get(2)?,
                expired: r.try_get(3)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}

#[cfg(test)]
mod tests {
    use super::{PARTS, part_of};

    #[test]
    fn parts_are_stable_and_spread() {
        // Fixed values: every host and version must agree.
        assert_eq!(part_of(""), part_of(""));
        let parts: std::collections::BTreeSet<i32> =
            (0..200).map(|i| part_of(&format!("tenant-{i}"))).collect();
        assert_eq!(parts.len(), PARTS as usize, "{parts:?}");
        assert!(parts.iter().all(|p| (0..PARTS).contains(p)));
        assert_eq!(part_of("a"), (0xaf63_dc4c_8601_ec8c_u64 % 16) as i32);
    }
}
