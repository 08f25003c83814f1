//! The first two steps of a batch, run ahead of the apply of the batch
//! before: *read* the next events in global order, and *plan* them (run the
//! plugin, check and scope its mutations, merge the fast path's statements).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use projection_sdk::{Description, Event};
use tokio::sync::watch;

use super::RuntimeError;
use super::merge;
use super::plan::{EventFailure, Outcome, Plan, Stops, plan_batch};
use crate::plugin::{LookupSource, Plugin};
use crate::source::order::{Barrier, Bound};
use crate::source::{self, BatchQuery};
use crate::store::lease;
use crate::store::sql::Statement;
use crate::store::state::Checkpoint;
use crate::store::{Db, Dialect, StoreError};

/// Most windows of the stream one batch's read walks
/// ([`source::WINDOW_ROWS`] events each).
const MAX_WINDOWS: usize = 20;

/// What the next batch reads. It owns what it reads with, so a read can
/// run on a task of its own, ahead of the plan of the batch before.
#[derive(Clone)]
pub(super) struct Reader {
    pub(super) db: Db,
    pub(super) aggregate_types: Arc<[String]>,
    pub(super) event_types: Arc<[String]>,
    pub(super) instance_id: Option<String>,
    pub(super) limit: i64,
    /// Per tenant, the last event applied when the replay started.
    pub(super) checkpoints: Arc<HashMap<String, Checkpoint>>,
    /// Per tenant, the last event to take (`verify` replays up to the live
    /// checkpoints); a tenant without one takes nothing. `None`: no bound.
    pub(super) until: Option<Arc<HashMap<String, Checkpoint>>>,
    /// How to wait for writers in flight before each read.
    pub(super) barrier: Barrier,
    /// A stop request ends a wait of the barrier (nothing is read).
    pub(super) stop: Option<watch::Receiver<bool>>,
    /// Only the tenants of these parts (a host's units, a worker's group).
    pub(super) parts: Option<Arc<BTreeSet<i32>>>,
}

/// A batch read: the events the family takes, and how far the read got.
pub(super) struct Read {
    /// The last event read (the cursor after this batch).
    pub(super) last: Event,
    /// Events read, including those the family does not take.
    pub(super) n_read: u64,
    /// The events to handle: subscribed, past their tenant's checkpoint.
    pub(super) events: Vec<Event>,
    /// How long the read took.
    pub(super) took: Duration,
}

/// A batch read and planned, waiting for its apply.
pub(super) struct Planned {
    /// The read.
    pub(super) read: Read,
    /// Per event, its checked mutations or why it fails.
    pub(super) plans: Vec<Plan>,
    /// The merged statements of the batch's fast path.
    pub(super) merged: Result<Vec<Statement>, StoreError>,
    /// How long the plan took.
    pub(super) took: Duration,
}

impl Reader {
    /// Read the batch after `after`, leaving out stopped tenants, and keep
    /// the events the family wants past each tenant's checkpoint. `None`
    /// when nothing is left to read, or a stop came while the read barrier
    /// waited.
    pub(super) async fn read(
        &self,
        description: &Description,
        after: Option<&Event>,
        stops: &Stops,
    ) -> Result<Option<Read>, RuntimeError> {
        let started = Instant::now();
        let below = match self.barrier.wait(&self.db, self.stop.as_ref()).await? {
            Bound::All => None,
            Bound::Below(bound) => Some(bound),
            Bound::Stopped => return Ok(None),
        };
        let skip_instances = stops.tenants();
        // Windows until the limit is met, the stream ends, or enough of it
        // was walked for one batch (a family whose events are rare).
        let mut read = Vec::new();
        let mut through: Option<Event> = None;
        for _ in 0..MAX_WINDOWS {
            let query = BatchQuery {
                aggregate_types: &self.aggregate_types,
                event_types: &self.event_types,
                instance_id: self.instance_id.as_deref(),
                skip_instances: &skip_instances,
                after: through.as_ref().or(after),
                limit: self.limit - read.len() as i64,
                below: below.clone(),
            };
            let batch = source::read_batch(&self.db, &query).await?;
            let Some(last) = batch.through else {
                break;
            };
            read.extend(batch.events);
            through = Some(last);
            if !batch.more || read.len() as i64 >= self.limit {
                break;
            }
        }
        let Some(last) = through else {
            return Ok(None);
        };
        let n_read = read.len() as u64;
        let events = read
            .into_iter()
            .filter(|e| description.wants(&e.aggregate_type, &e.event_type))
            .filter(|e| {
                self.parts
                    .as_ref()
                    .is_none_or(|p| p.contains(&lease::part_of(&e.instance_id)))
            })
            .filter(|e| {
                self.checkpoints
                    .get(&e.instance_id)
                    .is_none_or(|c| c.is_before(e))
            })
            .filter(|e| {
                self.until.as_ref().is_none_or(|until| {
                    until
                        .get(&e.instance_id)
                        .is_some_and(|last| !last.is_before(e))
                })
            })
            .collect();
        Ok(Some(Read {
            last,
            n_read,
            events,
            took: started.elapsed(),
        }))
    }
}

/// Run the plugin on a read batch, check its mutations and merge the fast
/// path's statements.
///
/// `one_by_one` makes every look-up a query of its own (the reference
/// handler's way) instead of answering the batch's look-ups ahead.
pub(super) fn plan(
    db: &Db,
    plugin: &mut Plugin,
    read: Read,
    stops: &Stops,
    one_by_one: bool,
) -> Result<Planned, RuntimeError> {
    let started = Instant::now();
    let lookup = if one_by_one {
        LookupSource::StoreOneByOne(db.clone())
    } else {
        LookupSource::Store(db.clone())
    };
    let outcomes = if read.events.is_empty() {
        Vec::new()
    } else {
        run_plugin(plugin, &read.events, &lookup)?
    };
    let plans = plan_batch(&plugin.description, &read.events, outcomes);
    let merged = merge::statements(
        &plugin.description,
        db.dialect(),
        &read.events,
        &plans,
        stops,
    );
    Ok(Planned {
        read,
        plans,
        merged,
        took: started.elapsed(),
    })
}

impl Planned {
    /// Whether the batch has events to apply.
    pub(super) fn has_events(&self) -> bool {
        !self.read.events.is_empty()
    }

    /// The batch without the events of tenants stopped since it was
    /// planned, as a fresh read would have left them out.
    pub(super) fn without_stopped(
        self,
        description: &Description,
        dialect: Dialect,
        stops: &Stops,
    ) -> Planned {
        if self
            .read
            .events
            .iter()
            .all(|e| stops.admits(&e.instance_id))
        {
            return self;
        }
        let Planned {
            read, plans, took, ..
        } = self;
        let (events, plans): (Vec<Event>, Vec<Plan>) = read
            .events
            .into_iter()
            .zip(plans)
            .filter(|(e, _)| stops.admits(&e.instance_id))
            .unzip();
        let merged = merge::statements(description, dialect, &events, &plans, stops);
        Planned {
            read: Read { events, ..read },
            plans,
            merged,
            took,
        }
    }
}

/// Run the plugin on a batch. A trap or limit hit fails the call, so the
/// batch is retried event by event to find the bad event; the events before
/// it still apply.
fn run_plugin(
    plugin: &mut Plugin,
    events: &[Event],
    lookup: &LookupSource,
) -> Result<Vec<Outcome>, RuntimeError> {
    let call = |plugin: &mut Plugin, events: &[Event]| {
        tokio::task::block_in_place(|| plugin.handle(events, lookup.clone()))
    };
    match call(plugin, events) {
        Ok(outcomes) => Ok(outcomes
            .into_iter()
            .map(|o| o.map_err(EventFailure::Rejected))
            .collect()),
        Err(e) if !e.is_plugin_fault() => Err(e.into()),
        Err(batch_error) => {
            tracing::warn!(
                family = plugin.family(),
                "batch failed ({batch_error}); narrowing down to the event"
            );
            let mut outcomes = Vec::with_capacity(events.len());
            for event in events {
                outcomes.push(match call(plugin, std::slice::from_ref(event)) {
                    Ok(mut one) => match one.pop() {
                        Some(outcome) => outcome.map_err(EventFailure::Rejected),
                        None => Err(EventFailure::NoOutcome),
                    },
                    Err(e) if !e.is_plugin_fault() => return Err(e.into()),
                    Err(e) => Err(EventFailure::Fault(e.to_string())),
                });
            }
            Ok(outcomes)
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
