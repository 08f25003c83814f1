//! `/livez` and `/readyz`: whether the follow loop runs, and whether every
//! family keeps up.
//!
//! Ready means every followed family has a measured lag of at most
//! [`super::MetricsOptions::ready_max_lag_events`]. A family not measured
//! yet, or whose measurement failed, is not ready: an unknown lag is never
//! taken for none. A paused or stuck family counts like any other (its
//! events wait as well); the text says so.

use std::fmt::Write as _;

use super::State;

/// A health check's answer: healthy or not, and a short text for people
/// (one line per reason when not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Healthy (HTTP 200) or not (503).
    pub healthy: bool,
    /// What to tell.
    pub message: String,
}

pub(super) fn liveness(state: &State) -> Check {
    if state.running {
        Check {
            healthy: true,
            message: "ok\n".to_owned(),
        }
    } else {
        Check {
            healthy: false,
            message: "the follow loop is not running\n".to_owned(),
        }
    }
}

pub(super) fn readiness(state: &State, max_lag_events: u64) -> Check {
    let mut reasons = String::new();
    if !state.running {
        reasons.push_str("the follow loop is not running\n");
    }
    if state.families.is_empty() {
        reasons.push_str("no family followed yet\n");
    }
    for (family, f) in &state.families {
        let note = if f.paused { " (paused)" } else { "" };
        match &f.lag {
            None => {
                let _ = writeln!(reasons, "{family}: lag not measured yet");
            }
            Some(Err(error)) => {
                let _ = writeln!(reasons, "{family}: lag unknown: {error}");
            }
            Some(Ok(lag)) if lag.n_events > max_lag_events => {
                let _ = writeln!(
                    reasons,
                    "{family} lags {} events (ready at most {max_lag_events}){note}",
                    lag.n_events
                );
            }
            Some(Ok(_)) => {}
        }
    }
    if reasons.is_empty() {
        Check {
            healthy: true,
            message: "ready\n".to_owned(),
        }
    } else {
        Check {
            healthy: false,
            message: reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Lag, Metrics, MetricsOptions};

    #[test]
    fn ready_only_when_every_family_is_measured_and_within_the_lag() {
        let metrics = Metrics::new(MetricsOptions {
            ready_max_lag_events: 10,
            ..MetricsOptions::default()
        });
        let running = metrics.running();
        metrics.family_round("orgs", "1", false, 0);
        metrics.family_round("users", "1", true, 0);
        let not_ready = metrics.readiness();
        assert!(!not_ready.healthy);
        assert!(not_ready.message.contains("orgs: lag not measured yet"));
        let lag = |n_events| Lag {
            n_events,
            oldest_micros: Some(0),
        };
        metrics.lag_measured("orgs", Ok(lag(10)), 0);
        metrics.lag_measured("users", Ok(lag(11)), 0);
        assert_eq!(
            metrics.readiness().message,
            "users lags 11 events (ready at most 10) (paused)\n"
        );
        metrics.lag_measured("users", Err("database is locked".into()), 0);
        assert_eq!(
            metrics.readiness().message,
            "users: lag unknown: database is locked\n"
        );
        metrics.lag_measured("users", Ok(lag(0)), 0);
        assert!(metrics.readiness().healthy);
        assert!(metrics.liveness().healthy);
        drop(running);
        assert!(!metrics.liveness().healthy);
    }
}
