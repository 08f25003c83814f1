//! What a handler may use besides the event: look-ups of stored events.

use projection_model::{Event, EventFilter};

/// Answers event look-ups: stored events of the current tenant before the
/// current event, oldest first.
pub trait Lookup {
    /// Events that pass `filter`.
    fn find_events(&self, filter: &EventFilter) -> Vec<Event>;
}

/// A look-up that finds nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl Lookup for NoEvents {
    fn find_events(&self, _filter: &EventFilter) -> Vec<Event> {
        Vec::new()
    }
}

/// A look-up over events held in memory (tests, the conformance harness).
#[derive(Debug, Default, Clone)]
pub struct EventList(pub Vec<Event>);

impl Lookup for EventList {
    fn find_events(&self, filter: &EventFilter) -> Vec<Event> {
        self.0
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect()
    }
}

/// What a handler may use besides the event.
pub struct Context<'a> {
    lookup: &'a dyn Lookup,
}

impl<'a> Context<'a> {
    /// A context whose look-ups go to `lookup`.
    pub fn new(lookup: &'a dyn Lookup) -> Context<'a> {
        Context { lookup }
    }

    /// Stored events of the current tenant before the current event that
    /// match `filter`, oldest first.
    pub fn find_events(&self, filter: &EventFilter) -> Vec<Event> {
        self.lookup.find_events(filter)
    }
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}
