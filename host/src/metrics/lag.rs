//! The lag gauges: a family's events committed and not applied, and the age
//! of the oldest ([`crate::source::family_lag`]), measured in the background
//! every [`super::MetricsOptions::lag_refresh`], never per scrape and never
//! in the follow loop's path: a loop that stalls shows as a growing lag.

use std::time::Duration;

use projection_sdk::Subscription;
use tokio::sync::watch;

use super::Metrics;
use crate::plugin::Plugin;
use crate::source::family_lag;
use crate::store::Db;
use crate::time;

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
