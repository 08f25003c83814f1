//! Look-ups answered ahead: a batch's look-ups in a few queries instead of
//! one query each.
//!
//! A plugin looks events up one at a time, from inside `handle`, and each
//! look-up is a round trip to the store. Before a batch, the host runs the
//! plugin on the batch's events of types it has not handled yet or whose
//! events looked events up before (a *probe*): their look-ups are
//! recorded, not answered (each sees no events). The recorded look-ups are answered together
//! ([`crate::source::find_events_ahead`]) and the probe runs again with
//! those answers, for look-ups that depend on earlier answers, up to
//! [`ROUNDS`] times. The real call then takes each look-up it makes from
//! these answers when the same event made the same look-up, and from the
//! store otherwise.
//!
//! An answer is used only for the look-up it answers (the same event, the
//! same filter), and it is the store's, so the outcome is the same as with
//! one query per look-up, whatever the probe did: its outcomes and log
//! lines are dropped, and a plugin that keeps state across calls sees the
//! probe as one more call (the contract lets the host call `handle` more
//! than once on the same events). A probe that traps or runs out of fuel
//! only means fewer answers ahead.

use std::collections::{HashMap, HashSet};

use projection_sdk::{Event, EventFilter};

use super::{Plugin, PluginError, w};
use crate::source::{MAX_LOOKUP_EVENTS, find_events_ahead};
use crate::store::Db;

/// Most probes before a batch.
const ROUNDS: usize = 3;

/// Most look-ups a probe records per event (the rest are made one by one).
pub(super) const RECORDED_PER_EVENT: usize = 8;

/// Answers for a call, by the event's index in the batch.
pub(super) type Answers = HashMap<u32, Vec<(EventFilter, Vec<Event>)>>;

/// The answer to a look-up an event made, if it was answered ahead.
pub(super) fn answered<'a>(
    answers: &'a Answers,
    index: u32,
    filter: &EventFilter,
) -> Option<&'a Vec<Event>> {
    answers
        .get(&index)?
        .iter()
        .find(|(f, _)| f == filter)
        .map(|(_, events)| events)
}

/// How a plugin's look-ups were answered, since it was loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookupCounts {
    /// From answers fetched ahead for the batch.
    pub ahead: u64,
    /// By a query of their own.
    pub one_by_one: u64,
}

impl std::ops::AddAssign for LookupCounts {
    fn add_assign(&mut self, other: LookupCounts) {
        self.ahead += other.ahead;
        self.one_by_one += other.one_by_one;
    }
}

impl Plugin {
    /// Answer ahead the look-ups the batch's events will make, as far as
    /// the event types that looked events up before tell.
    pub(super) fn look_ahead(
        &mut self,
        events: &[Event],
        db: &Db,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Answers, PluginError> {
        let picked: Vec<usize> = (0..events.len())
            .filter(|i| {
                self.learned
                    .get(&events[*i].event_type)
                    .copied()
                    .unwrap_or(true)
            })
            .collect();
        if picked.len() < 2 {
            return Ok(Answers::new());
        }
        let mut probed: Vec<Event> = picked.iter().map(|i| events[*i].clone()).collect();
        let wit: Vec<w::Event> = probed.iter().map(super::convert::event_to_wit).collect();
        let mut known = Answers::new();
        let mut tried: HashSet<(u32, EventFilter)> = HashSet::new();
        for _ in 0..ROUNDS {
            let Some(recorded) = self.probe(&mut probed, &wit, &mut known)? else {
                break;
            };
            let fresh: Vec<(u32, EventFilter)> = recorded
                .into_iter()
                .filter(|lookup| tried.insert(lookup.clone()))
                .collect();
            let lookups: Vec<(&Event, &EventFilter)> = fresh
                .iter()
                .filter_map(|(at, filter)| Some((probed.get(usize::try_from(*at).ok()?)?, filter)))
                .collect();
            if lookups.is_empty() {
                break;
            }
            let found = runtime
                .block_on(find_events_ahead(db, &lookups, MAX_LOOKUP_EVENTS))
                .map_err(|e| PluginError::Lookup(e.to_string()))?;
            let mut any = false;
            for ((at, filter), answer) in fresh.into_iter().zip(found) {
                if let Some(events) = answer {
                    known.entry(at).or_default().push((filter, events));
                    any = true;
                }
            }
            if !any {
                break;
            }
        }
        // From the probe's numbering to the batch's.
        Ok(known
            .into_iter()
            .filter_map(|(at, answers)| {
                let index = picked.get(usize::try_from(at).ok()?)?;
                Some((u32::try_from(*index).ok()?, answers))
            })
            .collect())
    }

    /// Run the plugin on `events` with the answers known so far; the
    /// look-ups it made that they do not answer, or `None` when the call
    /// failed (the instance, poisoned, is dropped). The events are lent to
    /// the call's state, not copied, and given back.
    fn probe(
        &mut self,
        events: &mut Vec<Event>,
        wit: &[w::Event],
        known: &mut Answers,
    ) -> Result<Option<Vec<(u32, EventFilter)>>, PluginError> {
        let limits = self.limits;
        let path = self.path.clone();
        let (store, bindings) = self.instance()?;
        {
            let state = store.data_mut();
            state.lookups = vec![0; events.len()];
            state.batch = std::mem::take(events);
            state.lookup = super::LookupSource::Nothing;
            state.lookup_fault = None;
            state.panic = None;
            state.runtime = None;
            state.ahead = std::mem::take(known);
            state.probe = Some(Vec::new());
        }
        let result = super::call_handle(store, bindings, &limits, &path, wit)?;
        let state = store.data_mut();
        let recorded = state.probe.take().unwrap_or_default();
        *known = std::mem::take(&mut state.ahead);
        *events = std::mem::take(&mut state.batch);
        state.lookups.clear();
        state.lookup_fault = None;
        state.panic = None;
        if result.is_err() {
            self.live = None;
            return Ok(None);
        }
        Ok(Some(recorded))
    }
}
