//! Which database refusals are transient: the statement would succeed if the
//! whole transaction ran again, so they say nothing about the event.
//!
//! PostgreSQL: a deadlock (`40P01`), a serialization failure (`40001`) and
//! a lock not granted in time (`55P03`, under `lock_timeout` or `NOWAIT`).
//! SQLite: a busy or locked database (primary result codes 5 and 6, with
//! every extended code built on them), when `busy_timeout` ran out.
//!
//! An apply that meets one rolls its transaction back and runs the batch
//! again ([`Retry`]); it never records the event as failed, which would
//! stop a tenant for a reason the event does not carry. When every try is
//! refused, `replay` ends with the error and `run` tries again next round.

use std::time::Duration;

use super::StoreError;

/// PostgreSQL SQLSTATEs a retry of the transaction can clear.
const POSTGRES_TRANSIENT: [&str; 3] = ["40P01", "40001", "55P03"];
/// SQLite's `SQLITE_BUSY` and `SQLITE_LOCKED`.
const SQLITE_TRANSIENT: [i64; 2] = [5, 6];

/// Whether the database refused for a reason of the moment (lock or
/// serialization conflict), not for the statement's content.
pub fn is_transient(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(refusal) if refusal_is_transient(refusal.as_ref()))
}

/// [`is_transient`] of the database's own refusal.
pub fn refusal_is_transient(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else {
        return false;
    };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // SQLite reports the extended result code; its low byte is the
        // primary one (`SQLITE_BUSY_SNAPSHOT` 517 is busy, 5).
        return code
            .parse::<i64>()
            .is_ok_and(|code| SQLITE_TRANSIENT.contains(&(code & 0xff)));
    }
    POSTGRES_TRANSIENT.contains(&code.as_ref())
}

impl StoreError {
    /// Whether running the transaction again may succeed: a transient
    /// refusal ([`is_transient`]).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Db(error) if is_transient(error))
    }
}

/// How often and how long a transaction that met a transient refusal is
/// tried again: the wait doubles from `first_wait` up to `longest_wait`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The wait before the second try.
    pub first_wait: Duration,
    /// The longest wait between two tries.
    pub longest_wait: Duration,
}

impl Default for Retry {
    /// Eight tries over about 6 s: a deadlock or serialization conflict
    /// clears at once, a lock timeout once the other transaction ends.
    fn default() -> Self {
        Retry {
            attempts: 8,
            first_wait: Duration::from_millis(25),
            longest_wait: Duration::from_secs(2),
        }
    }
}

impl Retry {
    /// The wait before try `attempt` (the first try is 1 and has none).
    pub fn wait_before(&self, attempt: u32) -> Duration {
        if attempt <= 1 {
            return Duration::ZERO;
        }
        let doublings = (attempt - 2).min(16);
        self.first_wait
            .saturating_mul(1 << doublings)
            .min(self.longest_wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_longest() {
        let retry = Retry::default();
        let waits: Vec<u64> = (1..=9)
            .map(|n| retry.wait_before(n).as_millis() as u64)
            .collect();
        assert_eq!(waits, [0, 25, 50, 100, 200, 400, 800, 1600, 2000]);
        assert_eq!(retry.wait_before(u32::MAX), retry.longest_wait);
    }

    #[test]
    fn errors_that_are_not_the_database_refusing_are_not_transient() {
        assert!(!is_transient(&sqlx::Error::PoolTimedOut));
        assert!(!StoreError::UnknownTable("t".into()).is_transient());
    }
}
