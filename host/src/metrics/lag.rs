//! The lag gauges: a family's events committed and not applied, and the age
//! of the oldest, measured in the background every
//! [`super::MetricsOptions::lag_refresh`].
//!
//! One statement per family counts what `run` applies next (the subscribed
//! events after each tenant's checkpoint, as [`crate::runtime::pending`]
//! counts them) and finds the oldest creation time among them. It reads
//! every subscribed event after the checkpoints, so it runs on a timer of
//! its own, never per scrape and never in the follow loop's path: a loop
//! that stalls shows as a growing lag.

use std::time::Duration;

use projection_sdk::Subscription;
use sqlx::Row;
use tokio::sync::watch;

use super::Metrics;
use crate::event_order::{self, Scope};
use crate::plugin::Plugin;
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
        event_order::tuple("e", Scope::Tenant),
        event_order::tuple("c", Scope::Tenant),
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

/// The families whose lag is measured: name and subscriptions.
type Followed = Vec<(String, Vec<Subscription>)>;

/// The background measurement: every `lag_refresh`, each followed family's
/// lag goes to the metrics (or the error, which makes `/readyz` say so).
/// Aborted when dropped.
pub(crate) struct LagRefresh {
    followed: watch::Sender<Followed>,
    task: tokio::task::JoinHandle<()>,
}

impl LagRefresh {
    /// Start measuring `plugins`' families, now and then every
    /// `lag_refresh`.
    pub(crate) fn start(db: &Db, metrics: &Metrics, plugins: &[Plugin]) -> LagRefresh {
        let (followed, mut watched) = watch::channel(followed_by(plugins));
        let (db, metrics) = (db.clone(), metrics.clone());
        let every = metrics.options().lag_refresh.max(Duration::from_millis(10));
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let families = watched.borrow_and_update().clone();
                for (family, subscriptions) in &families {
                    let lag = family_lag(&db, family, subscriptions).await;
                    if let Err(error) = &lag {
                        tracing::warn!(family = %family, "measuring the lag failed: {error}");
                    }
                    let lag = lag.map_err(|e| e.to_string());
                    metrics.lag_measured(family, lag, time::now_micros());
                }
            }
        });
        LagRefresh { followed, task }
    }

    /// Measure these plugins from the next refresh on (after a swap, a
    /// family's subscriptions may have changed).
    pub(crate) fn follow(&self, plugins: &[Plugin]) {
        let now = followed_by(plugins);
        self.followed.send_if_modified(|before| {
            if *before == now {
                return false;
            }
            *before = now;
            true
        });
    }
}

impl Drop for LagRefresh {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn followed_by(plugins: &[Plugin]) -> Followed {
    plugins
        .iter()
        .map(|p| (p.family().to_owned(), p.description.subscriptions.clone()))
        .collect()
}
