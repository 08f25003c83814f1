//! Metrics and health of `run`, served over HTTP (`run --metrics-addr`).
//!
//! [`Metrics`] is a handle the follow loop writes to and the server reads:
//! per family (label `family`; never a tenant label, whose number is
//! unbounded) events applied and failed, the batch apply time, the lag in
//! events and in seconds, stuck tenants, the active plugin version and
//! whether the family is paused. [`Server`] answers `GET /metrics`
//! (Prometheus text exposition 0.0.4, [`exposition`]), `/livez` and
//! `/readyz` ([`health`]).
//!
//! The counters move as batches commit. The lag needs a pass over the
//! subscribed events, so it is not computed per scrape: a background task
//! measures it every [`MetricsOptions::lag_refresh`] ([`lag`]); a scrape
//! reads the last measurement. A lag that could not be measured is shown as
//! absent (no series) and makes the process not ready, naming the error.

mod exposition;
mod health;
mod histogram;
mod http;
mod lag;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

pub use crate::source::{Lag, family_lag};
pub use health::Check;
pub use histogram::BATCH_APPLY_BUCKETS;
pub use http::{Server, Serving};
pub(crate) use lag::LagRefresh;

use histogram::Histogram;

/// What the metrics and health checks are tuned by.
#[derive(Debug, Clone)]
pub struct MetricsOptions {
    /// `/readyz` answers 200 only while every family has at most this many
    /// events committed and not applied.
    pub ready_max_lag_events: u64,
    /// How often the lag is measured.
    pub lag_refresh: Duration,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions {
            ready_max_lag_events: 1000,
            lag_refresh: Duration::from_secs(5),
        }
    }
}

/// Why metrics cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// The address could not be bound (in use, not local, no such host).
    #[error("cannot serve metrics on {addr}: {error}")]
    Bind {
        /// The address asked for.
        addr: String,
        /// Why.
        error: std::io::Error,
    },
}

/// The metrics of one `run`: a cheap handle, shared by the follow loop, the
/// lag task and the server.
#[derive(Debug, Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    options: MetricsOptions,
    state: Mutex<State>,
}

/// Everything a scrape shows.
#[derive(Debug, Default)]
struct State {
    /// Whether the follow loop is running.
    running: bool,
    families: BTreeMap<String, FamilyState>,
}

/// One family's figures.
#[derive(Debug)]
struct FamilyState {
    /// The active plugin version (`version@hash`).
    version: String,
    n_applied: u64,
    n_failed: u64,
    batch_apply: Histogram,
    stuck_tenants: u64,
    paused: bool,
    /// The last measurement (`None`: not measured yet; an error: the last
    /// attempt failed).
    lag: Option<Result<MeasuredLag, String>>,
}

/// A lag as measured: events and the age of the oldest, at that moment.
#[derive(Debug, Clone, Copy, PartialEq)]
struct MeasuredLag {
    n_events: u64,
    seconds: f64,
}

impl FamilyState {
    fn new(version: &str) -> FamilyState {
        FamilyState {
            version: version.to_owned(),
            n_applied: 0,
            n_failed: 0,
            batch_apply: Histogram::new(&BATCH_APPLY_BUCKETS),
            stuck_tenants: 0,
            paused: false,
            lag: None,
        }
    }
}

/// Marks the follow loop as running until dropped (see [`Metrics::running`]).
#[derive(Debug)]
pub struct Running {
    metrics: Metrics,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.metrics.state().running = false;
    }
}

impl Metrics {
    /// Empty metrics, no family yet.
    pub fn new(options: MetricsOptions) -> Metrics {
        Metrics {
            inner: Arc::new(Inner {
                options,
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The options.
    pub fn options(&self) -> &MetricsOptions {
        &self.inner.options
    }

    /// Mark the follow loop as running until the guard is dropped
    /// (`/livez`).
    pub fn running(&self) -> Running {
        self.state().running = true;
        Running {
            metrics: self.clone(),
        }
    }

    /// A family's state at the start of a round: its active plugin
    /// version, whether it is paused, how many tenants are stopped at a
    /// failed event. The first call adds the family, with zero counts.
    pub fn family_round(&self, family: &str, version: &str, paused: bool, stuck_tenants: u64) {
        let mut state = self.state();
        let entry = state
            .families
            .entry(family.to_owned())
            .or_insert_with(|| FamilyState::new(version));
        version.clone_into(&mut entry.version);
        entry.paused = paused;
        entry.stuck_tenants = stuck_tenants;
    }

    /// A batch of `family` committed: `n_applied` events applied and
    /// `n_failed` recorded as failed, its transaction took `took`.
    pub fn batch_committed(&self, family: &str, n_applied: u64, n_failed: u64, took: Duration) {
        let mut state = self.state();
        let entry = state
            .families
            .entry(family.to_owned())
            .or_insert_with(|| FamilyState::new(""));
        entry.n_applied += n_applied;
        entry.n_failed += n_failed;
        entry.batch_apply.observe(took);
    }

    /// A lag measured at `now_micros` (or why it could not be).
    pub fn lag_measured(&self, family: &str, lag: Result<Lag, String>, now_micros: i64) {
        let measured = lag.map(|lag| MeasuredLag {
            n_events: lag.n_events,
            seconds: match lag.oldest_micros {
                Some(oldest) if lag.n_events > 0 => (now_micros - oldest).max(0) as f64 / 1e6,
                _ => 0.0,
            },
        });
        if let Some(entry) = self.state().families.get_mut(family) {
            entry.lag = Some(measured);
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        exposition::render(&self.state())
    }

    /// `/livez`: whether the follow loop is running.
    pub fn liveness(&self) -> Check {
        health::liveness(&self.state())
    }

    /// `/readyz`: whether every family's lag is within
    /// [`MetricsOptions::ready_max_lag_events`].
    pub fn readiness(&self) -> Check {
        health::readiness(&self.state(), self.inner.options.ready_max_lag_events)
    }

    /// The state, locked. A panic elsewhere while it was held leaves
    /// figures that are still whole numbers; they are served as they are.
    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
