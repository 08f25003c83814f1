//! How positions are assigned and read, so that no committed event is ever
//! skipped and none is read twice.
//!
//! Global order is `(position, in_tx_order)` plus a total tie-break. The
//! danger is a slow writer: if a transaction takes a position, then commits
//! after a reader has already read past that position, the reader's cursor
//! (and every checkpoint) is beyond the event and it would be skipped.
//!
//! - **PostgreSQL.** Every writing transaction first takes the shared
//!   advisory lock [`WRITE_LOCK`], then takes its position from the clock
//!   (`clock_timestamp()`), so a position is only ever taken by a writer that
//!   already holds the lock. A reader first notes the clock `T0`, then takes
//!   and releases the exclusive lock (waiting for every writer that holds
//!   the shared one), and reads only events with `position < T0`. A writer
//!   whose position is below `T0` took the lock before `T0`, so the reader
//!   waited for its commit; a writer not yet holding the lock will get a
//!   position at or after `T0` and is read next time.
//! - **SQLite.** There is one writer at a time (`BEGIN IMMEDIATE`), and a
//!   writer's position is above every stored one, so positions grow in
//!   commit order and a reader sees whole transactions.
//!
//! Positions given explicitly (an imported export) must lie after every
//! stored event, for the same reason.

use crate::store::{Db, StoreError, Tx};

/// The advisory lock writers share and readers take exclusively.
pub const WRITE_LOCK: i64 = 0x7072_6f6a_6576_7473;

/// Start a write: take the write lock (PostgreSQL) and return the position
/// for events without one, and the highest stored position.
pub async fn begin_write(
    tx: &mut Tx,
    events_table: &str,
) -> Result<(String, Option<String>), StoreError> {
    let max_sql = format!("SELECT CAST(MAX(\"position\") AS TEXT) FROM {events_table}");
    match tx {
        Tx::Postgres(t) => {
            sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
                .bind(WRITE_LOCK)
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

/// Before reading: on PostgreSQL wait for writers in flight and return the
/// bound below which every event is committed; on SQLite no bound is needed.
pub async fn read_barrier(db: &Db) -> Result<Option<String>, StoreError> {
    let Db::Postgres(pool) = db else {
        return Ok(None);
    };
    let mut conn = pool.acquire().await?;
    let bound: String = sqlx::query_scalar("SELECT (EXTRACT(EPOCH FROM clock_timestamp()))::text")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(WRITE_LOCK)
        .execute(&mut *conn)
        .await?;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(WRITE_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(Some(bound))
}

/// Compare two positions given as decimal text (`"1767225600.123456"`,
/// `"12.5"`), exactly, without floating point.
pub fn cmp_position(a: &str, b: &str) -> std::cmp::Ordering {
    let split = |p: &str| -> (String, String) {
        let (int, frac) = p.split_once('.').unwrap_or((p, ""));
        let int = int.trim_start_matches('0');
        (int.to_owned(), frac.trim_end_matches('0').to_owned())
    };
    let (ai, af) = split(a);
    let (bi, bf) = split(b);
    ai.len()
        .cmp(&bi.len())
        .then_with(|| ai.cmp(&bi))
        .then_with(|| af.cmp(&bf))
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use super::cmp_position;

    #[test]
    fn positions_compare_as_decimals() {
        assert_eq!(
            cmp_position("1767225600.123456", "1767225600.123457"),
            Ordering::Less
        );
        assert_eq!(cmp_position("12.5", "12.500000"), Ordering::Equal);
        assert_eq!(cmp_position("9.9", "10"), Ordering::Less);
        assert_eq!(cmp_position("100", "99.999999"), Ordering::Greater);
        assert_eq!(cmp_position("0.000001", "0"), Ordering::Greater);
    }
}
