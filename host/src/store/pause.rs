//! Paused families: an operator's word that `run` must start no batch of a
//! family until it is resumed (`projector family pause|resume`).
//!
//! The pause is kept on the family's row in `projector_families`
//! (`paused_at`, `paused_by`; migration 0007): only an installed family can
//! be paused, and a rebuild, a reinstall or a new plugin version keeps it.
//! `run` reads the paused set at every round, so a pause takes effect at the
//! next batch edge; the batch in flight commits whole.

use projection_sdk::{ColumnType, Value};
use sqlx::Row;

use super::bind::ph;
use super::{Db, Dialect, Statement, StoreError, fetch_rows};
use crate::time;

/// Why a pause or resume was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PauseError {
    /// No installed family has this name (a family is installed by the
    /// first `run` or `replay` that loads its plugin).
    #[error("unknown family {family:?}; installed: {installed}")]
    UnknownFamily {
        /// The name asked for.
        family: String,
        /// The installed families, comma-separated.
        installed: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A paused family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    /// The family.
    pub family: String,
    /// Who paused it.
    pub paused_by: String,
    /// When, in microseconds since the epoch.
    pub paused_at: i64,
}

/// What a pause or resume did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The family changed state.
    Done,
    /// The family was paused already (pause): the pause in force.
    AlreadyPaused(Pause),
    /// The family was not paused (resume).
    NotPaused,
}

/// Pause an installed family: `run` starts no batch of it from its next
/// round until [`resume`].
pub async fn pause(db: &Db, family: &str, by: &str) -> Result<Transition, PauseError> {
    let d = db.dialect();
    let statement = Statement {
        sql: format!(
            "UPDATE projector_families SET paused_at = {}, paused_by = {} \
             WHERE name = {} AND paused_at IS NULL",
            ph(d, 1, "TIMESTAMPTZ"),
            ph(d, 2, "TEXT"),
            ph(d, 3, "TEXT"),
        ),
        binds: vec![
            (Value::Timestamp(time::now_micros()), ColumnType::Timestamp),
            (Value::Text(by.to_owned()), ColumnType::Text),
            (Value::Text(family.to_owned()), ColumnType::Text),
        ],
        arrays: Vec::new(),
    };
    if db.execute(&statement).await? > 0 {
        return Ok(Transition::Done);
    }
    match paused(db).await?.into_iter().find(|p| p.family == family) {
        Some(pause) => Ok(Transition::AlreadyPaused(pause)),
        None => Err(unknown(db, family).await),
    }
}

/// Resume a paused family: `run` takes it up again at its next round.
pub async fn resume(db: &Db, family: &str) -> Result<Transition, PauseError> {
    let d = db.dialect();
    let statement = Statement {
        sql: format!(
            "UPDATE projector_families SET paused_at = NULL, paused_by = NULL \
             WHERE name = {} AND paused_at IS NOT NULL",
            ph(d, 1, "TEXT"),
        ),
        binds: vec![(Value::Text(family.to_owned()), ColumnType::Text)],
        arrays: Vec::new(),
    };
    if db.execute(&statement).await? > 0 {
        return Ok(Transition::Done);
    }
    if installed(db).await?.iter().any(|name| name == family) {
        Ok(Transition::NotPaused)
    } else {
        Err(unknown(db, family).await)
    }
}

/// Every paused family, by name.
pub async fn paused(db: &Db) -> Result<Vec<Pause>, StoreError> {
    let at = match db.dialect() {
        Dialect::Sqlite => "paused_at",
        Dialect::Postgres => "(EXTRACT(EPOCH FROM paused_at) * 1000000)::bigint::text",
    };
    let sql = format!(
        "SELECT name, COALESCE(paused_by, ''), {at} FROM projector_families \
         WHERE paused_at IS NOT NULL ORDER BY name"
    );
    let rows: Vec<(String, String, String)> = fetch_rows!(db, &sql, |r| {
        (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)
    });
    let dialect = db.dialect();
    rows.into_iter()
        .map(|(family, paused_by, at)| {
            let paused_at = match dialect {
                Dialect::Sqlite => time::parse_rfc3339(&at),
                Dialect::Postgres => at.parse().ok(),
            }
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "projector_families.paused_at {at:?} of family {family:?} is not a time"
                ))
            })?;
            Ok(Pause {
                family,
                paused_by,
                paused_at,
            })
        })
        .collect()
}

/// The installed families' names, sorted.
async fn installed(db: &Db) -> Result<Vec<String>, StoreError> {
    Ok(fetch_rows!(
        db,
        "SELECT name FROM projector_families ORDER BY name",
        |r| r.try_get::<String, _>(0)?
    ))
}

/// The error for a family that is not installed, naming those that are (or
/// the store's error, if even that cannot be read).
async fn unknown(db: &Db, family: &str) -> PauseError {
    match installed(db).await {
        Ok(names) => PauseError::UnknownFamily {
            family: family.to_owned(),
            installed: if names.is_empty() {
                "none (a family is installed by its first run or replay)".to_owned()
            } else {
                names.join(", ")
            },
        },
        Err(error) => error.into(),
    }
}
