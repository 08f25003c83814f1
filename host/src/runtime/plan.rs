//! An event's fate in a batch, and the rule that a tenant stops at its
//! first failure.
//!
//! The plugin's answer for an event becomes a [`Plan`]: its mutations,
//! checked and scoped ([`Scoped`], the only kind the SQL writer takes), or
//! the [`EventFailure`] that stops its tenant. [`Stops`] is the one home of
//! the stopping rule: the fast path's merge, the batch's apply, the batch
//! read ahead and the replay loop all ask it which events may still apply.

use std::collections::HashSet;

use projection_sdk::validate::{self, Rejection, Scoped};
use projection_sdk::{Description, Event, Mutation, ProjectionError};

/// Why an event failed. Its text is what `projector failed` shows and
/// `projector_failed_events.error` keeps.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EventFailure {
    /// The plugin rejected the event.
    #[error("{0}")]
    Rejected(ProjectionError),
    /// The plugin trapped or hit a limit on this event alone.
    #[error("{0}")]
    Fault(String),
    /// The plugin answered a call for one event with no outcome.
    #[error("plugin returned no outcome")]
    NoOutcome,
    /// The validator refused one of the event's mutations.
    #[error("refused mutation: {0}")]
    Refused(Rejection),
    /// A checked mutation could not be written as SQL.
    #[error("refused mutation: {0}")]
    Unrenderable(String),
    /// The database refused one of the event's statements.
    #[error("database refused mutation: {0}")]
    Database(String),
}

/// What the plugin answered for one event.
pub(super) type Outcome = Result<Vec<Mutation>, EventFailure>;

/// An event's checked, scoped mutations, or why the event fails.
pub(super) type Plan = Result<Vec<Scoped>, EventFailure>;

/// Check and scope every event's mutations (before the batch's
/// transaction, so it can run while the batch before applies).
pub(super) fn plan_batch(
    description: &Description,
    events: &[Event],
    outcomes: Vec<Outcome>,
) -> Vec<Plan> {
    events
        .iter()
        .zip(outcomes)
        .map(|(event, outcome)| plan(description, event, outcome))
        .collect()
}

/// Check and scope an event's mutations, or say why the event fails.
fn plan(description: &Description, event: &Event, outcome: Outcome) -> Plan {
    outcome?
        .into_iter()
        .map(|m| validate::scope(description, event, m).map_err(EventFailure::Refused))
        .collect()
}

/// Tenants stopped at a failed event. A stopped tenant's later events are
/// not applied, in this batch or any later one of the replay, so its
/// checkpoint stays before the failure and nothing after it is skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stops {
    tenants: HashSet<String>,
}

impl Stops {
    /// Whether the tenant's events may still apply.
    pub fn admits(&self, instance_id: &str) -> bool {
        !self.tenants.contains(instance_id)
    }

    /// Stop the tenant; `true` if it was not stopped before.
    pub fn stop(&mut self, instance_id: &str) -> bool {
        self.tenants.insert(instance_id.to_owned())
    }

    /// The stopped tenants, sorted (for a read that leaves them out).
    pub fn tenants(&self) -> Vec<String> {
        let mut tenants: Vec<String> = self.tenants.iter().cloned().collect();
        tenants.sort();
        tenants
    }

    /// The events of a batch that are planned to apply, with their
    /// mutations: those before their tenant's first failing plan, of
    /// tenants not stopped already. The stops are not changed.
    pub(super) fn planned<'b>(
        &self,
        events: &'b [Event],
        plans: &'b [Plan],
    ) -> Vec<(&'b Event, &'b [Scoped])> {
        let mut stops = self.clone();
        let mut admitted = Vec::new();
        for (event, plan) in events.iter().zip(plans) {
            if !stops.admits(&event.instance_id) {
                continue;
            }
            match plan {
                Ok(mutations) => admitted.push((event, mutations.as_slice())),
                Err(_) => {
                    stops.stop(&event.instance_id);
                }
            }
        }
        admitted
    }
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;

    use super::{EventFailure, Plan, Stops};

    fn of(instance: &str, sequence: i64) -> projection_sdk::Event {
        let mut e = event("user", "user.added", None);
        e.instance_id = instance.to_owned();
        e.sequence = sequence;
        e
    }

    #[test]
    fn a_tenant_stops_at_its_first_failure_and_others_go_on() {
        let events = [of("a", 1), of("b", 1), of("a", 2), of("b", 2), of("c", 1)];
        let failed: Plan = Err(EventFailure::NoOutcome);
        let plans = [Ok(vec![]), failed.clone(), Ok(vec![]), Ok(vec![]), failed];
        let mut stops = Stops::default();
        stops.stop("a");
        let planned: Vec<(&str, i64)> = stops
            .planned(&events, &plans)
            .into_iter()
            .map(|(e, _)| (e.instance_id.as_str(), e.sequence))
            .collect();
        assert_eq!(planned, []);
        let planned: Vec<(&str, i64)> = Stops::default()
            .planned(&events, &plans)
            .into_iter()
            .map(|(e, _)| (e.instance_id.as_str(), e.sequence))
            .collect();
        assert_eq!(planned, [("a", 1), ("a", 2)]);
        assert!(stops.admits("b") && !stops.admits("a"));
        assert!(!stops.stop("a") && stops.stop("b"));
        assert_eq!(stops.tenants(), ["a", "b"]);
    }

    #[test]
    fn failures_read_as_they_are_recorded() {
        let refused = EventFailure::Database("duplicate key".into());
        assert_eq!(
            refused.to_string(),
            "database refused mutation: duplicate key"
        );
        assert_eq!(
            EventFailure::NoOutcome.to_string(),
            "plugin returned no outcome"
        );
    }
}
