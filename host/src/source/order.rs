//! How positions are assigned and read, so that no committed event is ever
//! skipped and none is read twice.
//!
//! Global order is `(position, in_tx_order)` plus a total tie-break. The
//! danger is a slow writer: if a transaction takes a position, then commits
//! after a reader has already read past that position, the reader's cursor
//! (and every checkpoint) is beyond the event and it would be skipped.
//!
//! On PostgreSQL the writers are not all projector's: Zitadel's own pushes
//! write `eventstore.events2` too, and they stamp positions in more than one
//! way. What every writer has in common: a position is never below the start
//! of its transaction (`clock_timestamp()`, `statement_timestamp()` and
//! `now()` are all at or after it). A reader first notes the clock `B`, then
//! waits ([`Barrier`]), then reads only events with `position < B` in a new
//! statement (so a new snapshot, taken after the wait; READ COMMITTED). Two
//! ways to wait, [`BarrierMode`]:
//!
//! - **`xact`** (the default, for every kind of writer). Wait until no other
//!   transaction of this database that started before `B` is still open
//!   (`pg_stat_activity.xact_start < B`; prepared transactions of the
//!   database count too), looking again after pauses of an eighth of the
//!   time waited so far (1 ms to 50 ms). An event with `position < B`
//!   belongs to a transaction that started before `B`; once that
//!   transaction is gone from `pg_stat_activity` its commit is visible
//!   (PostgreSQL clears `xact_start` after the commit is published).
//!   projector's own pooled connections (`application_name`
//!   [`APPLICATION_NAME`]) are not waited for: they only apply projections,
//!   and the apply of the batch before runs while the next batch is read.
//!   projector's import names its transaction [`IMPORT_APPLICATION_NAME`],
//!   so it is waited for.
//!
//!   Only a look that began at least [`GRACE`] after `B` (by the server's
//!   clock) may end the wait; earlier empty looks are repeated. The reason:
//!   a `now()`-stamped transaction reads its start time a few instructions
//!   before it shows in `pg_stat_activity` (first as an `active` statement
//!   with `query_start < B`, which is waited for too, then with its
//!   `xact_start`), so a look right after `B` could miss a transaction that
//!   has just started; to be missed by a look after the grace, its backend
//!   would have to stall inside those few instructions for longer than it.
//!
//!   Needs the privileges of `pg_read_all_stats` (other roles' `xact_start`
//!   is hidden otherwise) and `track_activities = on`; [`Barrier::new`]
//!   refuses without them. Costs, per batch, the clock and the looks of the
//!   grace (each reads one row per backend of the server), whatever the
//!   number of tenants; a long transaction of any client (a migration,
//!   `pg_dump`, an idle session in a transaction) delays projection until it
//!   ends, and one that keeps the reader waiting more than [`SLOW`] is
//!   logged, again every [`SLOW`].
//! - **`locks`** (opt-in, no privilege). Wait until every transaction that
//!   held, when looked at, Zitadel's shared write lock
//!   (`pg_advisory_xact_lock_shared(events2 oid::int, hashtext(instance_id))`)
//!   or projector's [`WRITE_LOCK`] has released it: one `pg_locks` look, then
//!   polls of the holders seen. Safe only for writers that take one of these
//!   locks *before* they stamp their position from `clock_timestamp()`:
//!   Zitadel's current push and projector's import. A writer stamping `now()`
//!   (older Zitadel) or taking no lock can commit below `B` unseen.
//!
//! Writers: projector's import ([`begin_write`]) takes [`WRITE_LOCK`] and
//! Zitadel's per-instance lock for every tenant it writes (so Zitadel's own
//! projections, which wait on that lock, stay gap-free), names its
//! transaction, and only then stamps its position from `clock_timestamp()`.
//!
//! **SQLite.** There is one writer at a time (`BEGIN IMMEDIATE`), and a
//! writer's position is above every stored one, so positions grow in commit
//! order and a reader sees whole transactions; no bound is needed.
//!
//! Positions given explicitly (an imported export) must lie after every
//! stored event, for the same reason; they are meant for loading an export
//! while no other writer is active.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::PgPool;
use tokio::sync::watch;

use crate::store::{Db, StoreError, Tx};

/// The advisory lock projector's writers share (bigint form).
pub const WRITE_LOCK: i64 = 0x7072_6f6a_6576_7473;

/// `application_name` of projector's pooled connections: the `xact`
/// barrier does not wait for them (they apply projections, never events).
/// The store names its connections so ([`crate::store`]).
pub use crate::store::APPLICATION_NAME;

/// `application_name` an import transaction sets for itself (`SET LOCAL`),
/// so that barriers wait for it.
pub const IMPORT_APPLICATION_NAME: &str = "projector import";

/// The least time between the clock bound and the first look at
/// `pg_stat_activity` (`xact`).
pub const GRACE: Duration = Duration::from_millis(1);

/// A wait longer than this is logged (again every this long), naming the
/// transaction that holds it up.
pub const SLOW: Duration = Duration::from_secs(10);

/// Pauses between looks: an eighth of the time waited so far, at least
/// this...
const MIN_PAUSE: Duration = Duration::from_millis(1);
/// ...and at most this.
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// How a PostgreSQL reader makes sure every event below its bound is
/// committed (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BarrierMode {
    /// Wait for every transaction that started before the bound: safe for
    /// any writer; needs `pg_read_all_stats`.
    #[default]
    Xact,
    /// Wait for the holders of Zitadel's or projector's write lock: safe only
    /// for writers that take one before stamping their position.
    Locks,
}

impl fmt::Display for BarrierMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BarrierMode::Xact => "xact",
            BarrierMode::Locks => "locks",
        })
    }
}

impl FromStr for BarrierMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "xact" => Ok(BarrierMode::Xact),
            "locks" => Ok(BarrierMode::Locks),
            other => Err(format!(
                "unknown barrier {other:?}: `xact` (default, any writer) or `locks` (lock-taking writers only)"
            )),
        }
    }
}

/// What a reader may read after waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// Everything stored (SQLite).
    All,
    /// Events with `position` below this decimal.
    Below(String),
    /// A stop was requested while waiting: read nothing.
    Stopped,
}

/// A checked read barrier: [`Barrier::new`] refuses a mode the connection
/// cannot make safe.
#[derive(Debug, Clone)]
pub struct Barrier {
    mode: BarrierMode,
}

impl Barrier {
    /// Check that `mode` can work on this database and return the barrier.
    /// `xact` on PostgreSQL needs the privileges of `pg_read_all_stats` (or a
    /// superuser) and `track_activities` on; without them it is refused with
    /// [`StoreError::BarrierUnsafe`].
    pub async fn new(db: &Db, mode: BarrierMode) -> Result<Barrier, StoreError> {
        if let (Db::Postgres(pool), BarrierMode::Xact) = (db, mode) {
            let (role, privileged, tracking): (String, bool, String) = sqlx::query_as(
                "SELECT current_user::text, \
                 COALESCE((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) \
                 OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'), \
                 current_setting('track_activities')",
            )
            .fetch_one(pool)
            .await?;
            if !privileged {
                return Err(StoreError::BarrierUnsafe {
                    role,
                    reason: "it lacks the privileges of pg_read_all_stats, so other roles' \
                             transactions are hidden from it in pg_stat_activity",
                });
            }
            if tracking != "on" {
                return Err(StoreError::BarrierUnsafe {
                    role,
                    reason: "track_activities is off, so pg_stat_activity shows no transactions",
                });
            }
        }
        Ok(Barrier { mode })
    }

    /// The mode.
    pub fn mode(&self) -> BarrierMode {
        self.mode
    }

    /// Before reading: note the clock `B`, wait as the mode says, and return
    /// the bound below which every event is committed and visible to the
    /// next statement. A stop request (when `stop` turns true) ends the wait
    /// with [`Bound::Stopped`].
    pub async fn wait(
        &self,
        db: &Db,
        stop: Option<&watch::Receiver<bool>>,
    ) -> Result<Bound, StoreError> {
        let Db::Postgres(pool) = db else {
            return Ok(Bound::All);
        };
        let bound: String =
            sqlx::query_scalar("SELECT EXTRACT(EPOCH FROM clock_timestamp())::text")
                .fetch_one(pool)
                .await?;
        let waited = match self.mode {
            BarrierMode::Xact => wait_for_transactions(pool, &bound, stop).await?,
            BarrierMode::Locks => wait_for_lock_holders(pool, db.events_table(), stop).await?,
        };
        Ok(if waited {
            Bound::Below(bound)
        } else {
            Bound::Stopped
        })
    }
}

fn stopping(stop: Option<&watch::Receiver<bool>>) -> bool {
    stop.is_some_and(|s| *s.borrow())
}

/// Pauses between looks, an eighth of the time waited so far (1 ms to
/// 50 ms: a writer that ends is noticed within an eighth of its time, and
/// a long wait looks 20 times a second), and a warning once per [`SLOW`]
/// while the wait lasts longer than that.
struct Patience {
    started: Instant,
    warned: Option<Instant>,
}

impl Patience {
    fn new() -> Self {
        Patience {
            started: Instant::now(),
            warned: None,
        }
    }

    fn should_warn(&mut self) -> bool {
        let due = self.started.elapsed() >= SLOW && self.warned.is_none_or(|w| w.elapsed() >= SLOW);
        if due {
            self.warned = Some(Instant::now());
        }
        due
    }

    async fn pause(&mut self) {
        let pause = (self.started.elapsed() / 8).clamp(MIN_PAUSE, MAX_PAUSE);
        tokio::time::sleep(pause).await;
    }
}

/// Whether this look began at least `$3` seconds after the bound `$1`
/// (`statement_timestamp()` is read before the look), and the oldest
/// transaction of this database (other than projector's pooled
/// connections) that started before `$1`, with its pid, application name
/// and age in seconds; prepared transactions of the database count too.
const OPEN_BEFORE_SQL: &str = "\
SELECT EXTRACT(EPOCH FROM statement_timestamp()) - $1::numeric >= $3::numeric, \
       w.pid, w.application_name, w.age \
FROM (SELECT 1) one LEFT JOIN LATERAL ( \
SELECT pid, application_name, age FROM ( \
  SELECT a.pid, COALESCE(a.application_name, '') AS application_name, \
         EXTRACT(EPOCH FROM clock_timestamp() - COALESCE(a.xact_start, a.query_start))::float8 AS age \
  FROM pg_stat_activity a \
  WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() \
    AND a.application_name IS DISTINCT FROM $2 \
    AND a.backend_type NOT IN ('walsender', 'autovacuum worker', 'parallel worker') \
    AND (EXTRACT(EPOCH FROM a.xact_start) < $1::numeric \
         OR (a.backend_type = 'client backend' AND a.state = 'active' \
             AND EXTRACT(EPOCH FROM a.query_start) < $1::numeric)) \
  UNION ALL \
  SELECT NULL, 'prepared transaction ' || p.gid, \
         EXTRACT(EPOCH FROM clock_timestamp() - p.prepared)::float8 \
  FROM pg_prepared_xacts p WHERE p.database = current_database() \
) w ORDER BY age DESC LIMIT 1) w ON true";

/// `xact`: wait until no transaction that started before `bound` is open.
/// False when stopped first.
async fn wait_for_transactions(
    pool: &PgPool,
    bound: &str,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<bool, StoreError> {
    let grace = format!("{:.6}", GRACE.as_secs_f64());
    let mut patience = Patience::new();
    loop {
        let (settled, pid, application_name, age): (
            bool,
            Option<i32>,
            Option<String>,
            Option<f64>,
        ) = sqlx::query_as(OPEN_BEFORE_SQL)
            .bind(bound)
            .bind(APPLICATION_NAME)
            .bind(&grace)
            .fetch_one(pool)
            .await?;
        let Some(application_name) = application_name else {
            if settled {
                return Ok(true);
            }
            // Too soon after the bound to trust an empty answer: look again.
            tokio::task::yield_now().await;
            continue;
        };
        if patience.should_warn() {
            tracing::warn!(
                pid = %pid.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                application_name = %application_name,
                age = %format!("{:.1}s", age.unwrap_or(0.0)),
                "the read barrier has waited {:.0}s for a transaction that started before it \
                 (projection is delayed until it ends)",
                patience.started.elapsed().as_secs_f64()
            );
        }
        if stopping(stop) {
            return Ok(false);
        }
        patience.pause().await;
    }
}

/// Advisory locks a write takes: Zitadel's (two-int form: the events
/// table's oid, `hashtext(instance_id)`) or projector's [`WRITE_LOCK`]
/// (bigint form: high half in `classid`, low half in `objid`).
fn lock_keys(events_table: &str) -> String {
    format!(
        "l.locktype = 'advisory' AND l.granted \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         AND ((l.objsubid = 2 AND l.classid = '{events_table}'::regclass::oid) \
           OR (l.objsubid = 1 AND l.classid = ($1::bigint >> 32)::oid \
               AND l.objid = ($1::bigint & 4294967295)::oid))"
    )
}

/// `locks`: note the transactions holding a write lock now, and wait until
/// none of them holds it any more. False when stopped first.
async fn wait_for_lock_holders(
    pool: &PgPool,
    events_table: &str,
    stop: Option<&watch::Receiver<bool>>,
) -> Result<bool, StoreError> {
    let keys = lock_keys(events_table);
    let holders: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT DISTINCT l.virtualtransaction FROM pg_locks l WHERE {keys}"
    ))
    .bind(WRITE_LOCK)
    .fetch_all(pool)
    .await?;
    if holders.is_empty() {
        return Ok(true);
    }
    let still = format!(
        "SELECT l.pid, COALESCE(a.application_name, ''), \
         EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start)::float8 \
         FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE {keys} AND l.virtualtransaction = ANY($2) LIMIT 1"
    );
    let mut patience = Patience::new();
    loop {
        let holder: Option<(Option<i32>, String, Option<f64>)> = sqlx::query_as(&still)
            .bind(WRITE_LOCK)
            .bind(&holders)
            .fetch_optional(pool)
            .await?;
        let Some((pid, application_name, age)) = holder else {
            return Ok(true);
        };
        if patience.should_warn() {
            tracing::warn!(
                pid = %pid.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                application_name = %application_name,
                age = %format!("{:.1}s", age.unwrap_or(0.0)),
                "the read barrier has waited {:.0}s for a writer holding the events lock \
                 (projection is delayed until it ends)",
                patience.started.elapsed().as_secs_f64()
            );
        }
        if stopping(stop) {
            return Ok(false);
        }
        patience.pause().await;
    }
}

/// Start a write of events of these tenants: on PostgreSQL name the
/// transaction ([`IMPORT_APPLICATION_NAME`]), take [`WRITE_LOCK`] and
/// Zitadel's per-instance write lock for each tenant (sorted, so writers
/// take them in one order), all shared and before the position is taken.
/// Returns the position for events without one, and the highest stored
/// position.
pub async fn begin_write(
    tx: &mut Tx,
    events_table: &str,
    instances: &[&str],
) -> Result<(String, Option<String>), StoreError> {
    let max_sql = format!("SELECT CAST(MAX(\"position\") AS TEXT) FROM {events_table}");
    match tx {
        Tx::Postgres(t) => {
            sqlx::query(&format!(
                "SET LOCAL application_name = '{IMPORT_APPLICATION_NAME}'"
            ))
            .execute(&mut **t)
            .await?;
            sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
                .bind(WRITE_LOCK)
                .execute(&mut **t)
                .await?;
            let mut tenants: Vec<&str> = instances.to_vec();
            tenants.sort_unstable();
            tenants.dedup();
            sqlx::query(&format!(
                "SELECT pg_advisory_xact_lock_shared('{events_table}'::regclass::oid::int, hashtext(i)) \
                 FROM unnest($1::text[]) WITH ORDINALITY AS t(i, n) ORDER BY n"
            ))
            .bind(&tenants)
            .execute(&mut **t)
            .await?;
            let max: Option<String> = sqlx::query_scalar(&max_sql).fetch_one(&mut **t).await?;
            let now: String =
                sqlx::query_scalar("SELECT (EXTRACT(EPOCH FROM clock_timestamp()))::text")
                    .fetch_one(&mut **t)
                    .await?;
            Ok((now, max))
        }
        Tx::Sqlite(t) => {
            let max: Option<String> = sqlx::query_scalar(&max_sql).fetch_one(&mut **t).await?;
            let max_seconds = max
                .as_deref()
                .and_then(|m| m.parse::<f64>().ok())
                .unwrap_or(0.0);
            #[allow(clippy::cast_precision_loss)]
            let now = crate::time::now_micros() as f64 / 1e6;
            let position = if now > max_seconds {
                now
            } else {
                max_seconds + 1e-6
            };
            Ok((format!("{position:.6}"), max))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::BarrierMode;

    #[test]
    fn barrier_modes_parse_and_print() {
        for mode in [BarrierMode::Xact, BarrierMode::Locks] {
            assert_eq!(mode.to_string().parse::<BarrierMode>(), Ok(mode));
        }
        assert_eq!(BarrierMode::default(), BarrierMode::Xact);
        let error = "both".parse::<BarrierMode>().unwrap_err();
        assert!(error.contains("xact") && error.contains("locks"), "{error}");
    }
}
