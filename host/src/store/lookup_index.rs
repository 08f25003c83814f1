//! Whether a PostgreSQL event store has the look-up index,
//! `eventstore.events2_lookup`: tenant, aggregate type, aggregate id and
//! event type, byte by byte (`COLLATE "C"`), then the place in the global
//! order.
//!
//! A look-up names the aggregate and the event types it wants. Through the
//! primary key (tenant, aggregate type, aggregate id, sequence) the server
//! reads every event of the aggregate and drops those of other types: a
//! project's creation is one of its thirty events. Through this index it
//! reads only the wanted ones. PostgreSQL's planner cannot tell the two
//! apart on a look-up's list of aggregates (it estimates one row either
//! way and keeps the primary key), so the look-up query compares its
//! columns `COLLATE "C"`, which only this index matches ([`COLLATE`]).
//!
//! projector creates the index on an event store it created (migration
//! 0011); on someone else's (Zitadel's) it creates nothing, and the
//! look-ups keep the plain comparisons that the store's own indexes serve.
//! The answer is found when the database is opened and kept per server
//! and database for the process: the look-up query must not take the
//! byte-wise form where the index is missing (no index would serve it).

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use sqlx::PgPool;
use sqlx::postgres::PgConnection;

use super::{Db, StoreError};

/// The comparison a look-up writes after each column the index holds,
/// where it has the index.
pub const COLLATE: &str = " COLLATE \"C\"";

/// (host, port, database) of the stores found with the index.
static WITH_INDEX: Mutex<BTreeSet<(String, u16, String)>> = Mutex::new(BTreeSet::new());

fn key(pool: &PgPool) -> (String, u16, String) {
    let options = pool.connect_options();
    (
        options.get_host().to_owned(),
        options.get_port(),
        options.get_database().unwrap_or_default().to_owned(),
    )
}

/// Whether the index is there and usable (built, valid), on `conn`.
pub(super) async fn present(conn: &mut PgConnection) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_index i \
         WHERE i.indexrelid = to_regclass('eventstore.events2_lookup') \
         AND i.indisvalid AND i.indisready)",
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// Remember what [`present`] found for the store `pool` reaches.
pub(super) fn record(pool: &PgPool, present: bool) {
    let mut with = WITH_INDEX.lock().unwrap_or_else(PoisonError::into_inner);
    if present {
        with.insert(key(pool));
    } else {
        with.remove(&key(pool));
    }
}

/// The comparison suffix for a look-up's columns on `db`: [`COLLATE`]
/// where the store has the index, nothing otherwise (SQLite, or an event
/// store without it).
pub fn collate(db: &Db) -> &'static str {
    match db {
        Db::Postgres(pool) => {
            let with = WITH_INDEX.lock().unwrap_or_else(PoisonError::into_inner);
            if with.contains(&key(pool)) {
                COLLATE
            } else {
                ""
            }
        }
        Db::Sqlite(_) => "",
    }
}
