//! Reading a batch and running the plugin on it, ahead of the apply of the
//! batch before.

use std::collections::HashMap;

use projection_sdk::Event;

use projection_sdk::Description;
use tokio::sync::watch;

use super::apply::{Plan, plan_batch};
use super::merge;
use super::{RuntimeError, run_plugin};
use crate::plugin::Plugin;
use crate::source::order::{Barrier, Bound};
use crate::source::{self, BatchQuery};
use crate::store::sql::Statement;
use crate::store::state::Checkpoint;
use crate::store::{Db, Dialect, StoreError};

/// What the next batch reads.
pub(super) struct Reader<'a> {
    pub(super) db: &'a Db,
    pub(super) aggregate_types: Vec<String>,
    pub(super) event_types: Vec<String>,
    pub(super) instance_id: Option<&'a str>,
    pub(super) limit: i64,
    /// Per tenant, the last event applied when the replay started.
    pub(super) checkpoints: &'a HashMap<String, Checkpoint>,
    /// How to wait for writers in flight before each read.
    pub(super) barrier: &'a Barrier,
    /// A stop request ends a wait of the barrier (nothing is read).
    pub(super) stop: Option<&'a watch::Receiver<bool>>,
}

/// A batch read and handled, waiting for its apply.
pub(super) struct Prepared {
    /// The last event read (the cursor after this batch).
    pub(super) last: Event,
    /// Events read, including those the family does not take.
    pub(super) n_read: u64,
    /// The events to apply.
    pub(super) events: Vec<Event>,
    /// Per event, its validated mutations or why it fails; `None` when
    /// there is nothing to apply.
    pub(super) plans: Option<Vec<Plan>>,
    /// The merged statements of the batch's fast path.
    pub(super) merged: Result<Vec<Statement>, StoreError>,
}

impl Reader<'_> {
    /// Read the batch after `after` (skipping stuck tenants), keep the
    /// events the family wants past each tenant's checkpoint, and run the
    /// plugin on them. `None` when nothing is left to read, or a stop came
    /// while the read barrier waited.
    pub(super) async fn prepare(
        &self,
        plugin: &mut Plugin,
        after: Option<Event>,
        stuck: &[String],
    ) -> Result<Option<Prepared>, RuntimeError> {
        let below = match self.barrier.wait(self.db, self.stop).await? {
            Bound::All => None,
            Bound::Below(bound) => Some(bound),
            Bound::Stopped => return Ok(None),
        };
        let query = BatchQuery {
            aggregate_types: &self.aggregate_types,
            event_types: &self.event_types,
            instance_id: self.instance_id,
            skip_instances: stuck,
            after: after.as_ref(),
            limit: self.limit,
            below,
        };
        let read = source::read_batch(self.db, &query).await?;
        let Some(last) = read.last().cloned() else {
            return Ok(None);
        };
        let n_read = read.len() as u64;
        let events: Vec<Event> = read
            .into_iter()
            .filter(|e| plugin.description.wants(&e.aggregate_type, &e.event_type))
            .filter(|e| {
                self.checkpoints
                    .get(&e.instance_id)
                    .is_none_or(|c| c.is_before(e))
            })
            .collect();
        let (plans, merged) = if events.is_empty() {
            (None, Ok(Vec::new()))
        } else {
            let outcomes = run_plugin(self.db, plugin, &events)?;
            let plans = plan_batch(&plugin.description, &events, outcomes);
            let merged = merge::statements(&plugin.description, self.db.dialect(), &events, &plans);
            (Some(plans), merged)
        };
        Ok(Some(Prepared {
            last,
            n_read,
            events,
            plans,
            merged,
        }))
    }
}

impl Prepared {
    /// The batch without the events of tenants stopped meanwhile.
    pub(super) fn without(
        mut self,
        description: &Description,
        dialect: Dialect,
        stuck: &[String],
    ) -> Prepared {
        if !self.events.iter().any(|e| stuck.contains(&e.instance_id)) {
            return self;
        }
        let Some(plans) = self.plans.take() else {
            return self;
        };
        let (events, plans): (Vec<Event>, Vec<Plan>) = self
            .events
            .into_iter()
            .zip(plans)
            .filter(|(e, _)| !stuck.contains(&e.instance_id))
            .unzip();
        let merged = merge::statements(description, dialect, &events, &plans);
        Prepared {
            plans: (!events.is_empty()).then_some(plans),
            merged,
            events,
            ..self
        }
    }
}

/// How many tenants a batch touches.
pub(super) fn n_tenants(events: &[Event]) -> usize {
    let mut tenants: Vec<&str> = events.iter().map(|e| e.instance_id.as_str()).collect();
    tenants.sort_unstable();
    tenants.dedup();
    tenants.len()
}
