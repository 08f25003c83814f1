//! A family's lag as the metrics show it: its subscribed events committed
//! and not applied, and the age of the oldest.
//!
//! One statement per family counts what `run` applies next (the subscribed
//! events after each tenant's checkpoint, as [`crate::runtime::pending`]
//! counts them) and finds the oldest creation time among them. It reads
//! every subscribed event after the checkpoints, so `run` measures it on a
//! timer of its own ([`crate::metrics`]), never per scrape and never in the
//! follow loop's path.

use projection_sdk::Subscription;
use sqlx::Row;

use crate::event_order::{self, Scope};
use crate::store::bind::ph;
use crate::store::{Db, Dialect, StoreError};
use crate::time;

/// A family's lag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lag {
    /// Subscribed events after the family's checkpoints (of every tenant,
    /// stuck ones included).
    pub n_events: u64,
    /// The creation time of the oldest of them (microseconds since the
    /// epoch), `None` when there are none.
    pub oldest_micros: Option<i64>,
}

/// Measure a family's lag (one statement).
pub async fn family_lag(
    db: &Db,
    family: &str,
    subscriptions: &[Subscription],
) -> Result<Lag, StoreError> {
    let d = db.dialect();
    let mut aggregate_types: Vec<&str> = subscriptions
        .iter()
        .map(|s| s.aggregate_type.as_str())
        .collect();
    let mut event_types: Vec<&str> = subscriptions
        .iter()
        .flat_map(|s| s.event_types.iter().map(String::as_str))
        .collect();
    for list in [&mut aggregate_types, &mut event_types] {
        list.sort_unstable();
        list.dedup();
    }
    if aggregate_types.is_empty() || event_types.is_empty() {
        return Ok(Lag {
            n_events: 0,
            oldest_micros: None,
        });
    }
    let binds: Vec<&str> = std::iter::once(family)
        .chain(aggregate_types.iter().copied())
        .chain(event_types.iter().copied())
        .collect();
    let list = |first: usize, n: usize| {
        (first..first + n)
            .map(|i| ph(d, i, "TEXT"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let oldest = match d {
        Dialect::Sqlite => "MIN(e.created_at)",
        Dialect::Postgres => "(EXTRACT(EPOCH FROM MIN(e.created_at)) * 1000000)::bigint::text",
    };
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT), {oldest} FROM {} e LEFT JOIN projector_checkpoints c \
         ON c.family = {} AND c.instance_id = e.instance_id \
         WHERE e.aggregate_type IN ({}) AND e.event_type IN ({}) AND (c.family IS NULL OR {} > {})",
        db.events_table(),
        ph(d, 1, "TEXT"),
        list(2, aggregate_types.len()),
        list(2 + aggregate_types.len(), event_types.len()),
        event_order::tuple("e", Scope::Tenant, db.dialect()),
        event_order::tuple("c", Scope::Tenant, db.dialect()),
    );
    macro_rules! run {
        ($pool:expr) => {{
            let mut query = sqlx::query(&sql);
            for value in &binds {
                query = query.bind(*value);
            }
            let row = query.fetch_one($pool).await?;
            (
                row.try_get::<i64, _>(0)?,
                row.try_get::<Option<String>, _>(1)?,
            )
        }};
    }
    let (n_events, oldest) = match db {
        Db::Sqlite(pool) => run!(pool),
        Db::Postgres(pool) => run!(pool),
    };
    let oldest_micros = oldest
        .map(|text| {
            match d {
                Dialect::Sqlite => time::parse_rfc3339(&text),
                Dialect::Postgres => text.parse().ok(),
            }
            .ok_or_else(|| StoreError::Corrupt(format!("event created_at {text:?}")))
        })
        .transpose()?;
    Ok(Lag {
        n_events: u64::try_from(n_events).unwrap_or(0),
        oldest_micros,
    })
}
