//! Event look-ups for plugins: one at a time ([`find_events`]), or many in
//! few queries ([`find_events_ahead`]), with the same answers.

use std::collections::{BTreeMap, HashMap};

use projection_sdk::{Event, EventFilter};

use super::{Params, columns, fetch};
use crate::event_order::{self, Scope};
use crate::store::{Db, StoreError};

/// Most events one look-up returns. A look-up that matches more fails
/// ([`LookupError::TooManyEvents`]) rather than answer with a prefix.
pub const MAX_LOOKUP_EVENTS: i64 = 10_000;

/// Why a look-up has no truthful answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LookupError {
    /// The store failed.
    #[error("event look-up failed: {0}")]
    Store(StoreError),
    /// More events match than one look-up may return.
    #[error(
        "an event look-up matched more than {limit} events (the look-up cap); \
         answering with the first {limit} would be wrong, so the event fails"
    )]
    TooManyEvents {
        /// The cap ([`MAX_LOOKUP_EVENTS`]).
        limit: i64,
    },
}

impl From<StoreError> for LookupError {
    fn from(error: StoreError) -> Self {
        LookupError::Store(error)
    }
}

/// Stored events of `before`'s tenant that come before it and pass `filter`,
/// oldest first; more than [`MAX_LOOKUP_EVENTS`] is an error, never a
/// shortened answer.
pub async fn find_events(
    db: &Db,
    before: &Event,
    filter: &EventFilter,
) -> Result<Vec<Event>, LookupError> {
    let mut p = Params::new(db.dialect());
    let mut sql = format!(
        "SELECT {} FROM {} e WHERE e.instance_id = {} AND e.aggregate_type = {}",
        columns(db.dialect()),
        db.events_table(),
        p.text(&before.instance_id),
        p.text(&filter.aggregate_type),
    );
    if !filter.aggregate_ids.is_empty() {
        sql.push_str(&format!(
            " AND e.aggregate_id IN ({})",
            p.list(&filter.aggregate_ids)
        ));
    }
    if !filter.event_types.is_empty() {
        sql.push_str(&format!(
            " AND e.event_type IN ({})",
            p.list(&filter.event_types)
        ));
    }
    sql.push_str(&format!(
        " AND {} < {} ORDER BY {} LIMIT {}",
        event_order::tuple("e", Scope::Global, db.dialect()),
        p.key(before),
        event_order::order_by("e", db.dialect()),
        MAX_LOOKUP_EVENTS + 1
    ));
    let events: Vec<Event> = fetch(db, &sql, p, 0)
        .await?
        .into_iter()
        .map(|(event, _)| event)
        .collect();
    if i64::try_from(events.len()).unwrap_or(i64::MAX) > MAX_LOOKUP_EVENTS {
        return Err(LookupError::TooManyEvents {
            limit: MAX_LOOKUP_EVENTS,
        });
    }
    Ok(events)
}

/// Most (look-up, aggregate id) pairs one query of [`find_events_ahead`]
/// answers: ten bound values each, well inside either store's limit.
const PAIRS_PER_QUERY: usize = 400;

/// What [`find_events`] would answer for each look-up (an event and its
/// filter), in few queries: one per kind of look-up (aggregate type and
/// event types) and [`PAIRS_PER_QUERY`] aggregate ids.
///
/// `None` for a look-up this way does not answer, which the caller makes
/// one by one: a filter without aggregate ids (any aggregate), one with
/// more ids than a query takes, and every look-up of a query that found
/// more than `cap` events (so no answer is cut short).
pub async fn find_events_ahead(
    db: &Db,
    lookups: &[(&Event, &EventFilter)],
    cap: i64,
) -> Result<Vec<Option<Vec<Event>>>, StoreError> {
    let mut answers: Vec<Option<Vec<Event>>> = vec![None; lookups.len()];
    for chunk in chunks(lookups) {
        let Some(found) = query_chunk(db, lookups, &chunk, cap).await? else {
            continue;
        };
        for (n, events) in chunk.lookups.into_iter().zip(found) {
            answers[n] = Some(events);
        }
    }
    Ok(answers)
}

/// Look-ups of one kind answered by one query.
struct Chunk<'f> {
    aggregate_type: &'f str,
    event_types: Vec<String>,
    /// Indexes into the look-ups.
    lookups: Vec<usize>,
    /// (index of `lookups`, aggregate id): one row of the query's list.
    pairs: Vec<(usize, &'f str)>,
}

/// A kind of look-up: aggregate type, and event types sorted.
type Kind<'f> = (&'f str, Vec<String>);

/// The look-ups this way answers, by kind, cut into queries.
fn chunks<'f>(lookups: &[(&Event, &'f EventFilter)]) -> Vec<Chunk<'f>> {
    let mut kinds: BTreeMap<Kind<'f>, Vec<(usize, Vec<&str>)>> = BTreeMap::new();
    for (n, (_, filter)) in lookups.iter().enumerate() {
        let mut ids: Vec<&str> = filter.aggregate_ids.iter().map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() || ids.len() > PAIRS_PER_QUERY {
            continue;
        }
        let mut types = filter.event_types.clone();
        types.sort_unstable();
        types.dedup();
        kinds
            .entry((filter.aggregate_type.as_str(), types))
            .or_default()
            .push((n, ids));
    }
    let mut chunks = Vec::new();
    for ((aggregate_type, event_types), members) in kinds {
        let empty = || Chunk {
            aggregate_type,
            event_types: event_types.clone(),
            lookups: Vec::new(),
            pairs: Vec::new(),
        };
        let mut chunk = empty();
        for (n, ids) in members {
            if chunk.pairs.len() + ids.len() > PAIRS_PER_QUERY {
                chunks.push(std::mem::replace(&mut chunk, empty()));
            }
            let at = chunk.lookups.len();
            chunk.lookups.push(n);
            chunk.pairs.extend(ids.into_iter().map(|id| (at, id)));
        }
        if !chunk.lookups.is_empty() {
            chunks.push(chunk);
        }
    }
    chunks
}

/// One query for a chunk: each look-up's events, in its order, or `None`
/// when the query found more than `cap`.
///
/// Look-ups of one aggregate share its events: the query reads each
/// (tenant, aggregate id) of the chunk once, up to the latest of the
/// look-ups' events that ask for it, and each look-up keeps the events
/// before its own. A batch's events often look up the same aggregate (the
/// grants of one project), and reading it once per look-up walked the
/// same events again and again.
///
/// The list of (aggregate, tenant, aggregate id, the latest event's place
/// in the order) is joined to the events by the events' primary key, so
/// each aggregate is one index probe, as in [`find_events`].
async fn query_chunk(
    db: &Db,
    lookups: &[(&Event, &EventFilter)],
    chunk: &Chunk<'_>,
    cap: i64,
) -> Result<Option<Vec<Vec<Event>>>, StoreError> {
    let before = |at: usize| lookups[chunk.lookups[at]].0;
    // Each (tenant, aggregate id) once, with the latest event that asks
    // for it; per look-up, its aggregates' numbers.
    let mut aggregates: Vec<(&str, &str, &Event)> = Vec::new();
    let mut numbered: HashMap<(&str, &str), usize> = HashMap::new();
    let mut wants: Vec<Vec<usize>> = vec![Vec::new(); chunk.lookups.len()];
    for (at, id) in &chunk.pairs {
        let event = before(*at);
        let key = (event.instance_id.as_str(), *id);
        let n = *numbered.entry(key).or_insert_with(|| {
            aggregates.push((key.0, key.1, event));
            aggregates.len() - 1
        });
        if event_order::cmp_global(event, aggregates[n].2).is_gt() {
            aggregates[n].2 = event;
        }
        wants[*at].push(n);
    }
    let mut p = Params::new(db.dialect());
    p.once = true;
    let mut rows = Vec::with_capacity(aggregates.len());
    for (n, (tenant, id, latest)) in aggregates.iter().enumerate() {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let row = [p.int(n, "BIGINT"), p.text(tenant), p.text(id)];
        let key = p.key_parts(latest);
        rows.push(format!("({}, {})", row.join(", "), key.join(", ")));
    }
    let aggregate_type = p.text(chunk.aggregate_type);
    let mut sql = format!(
        "SELECT {}, r.column1 FROM (VALUES {}) AS r JOIN {} e ON e.instance_id = r.column2 \
         AND e.aggregate_type = {aggregate_type} AND e.aggregate_id = r.column3 WHERE {} < \
         (r.column4, r.column5, r.column6, r.column7, r.column8, r.column9)",
        columns(db.dialect()),
        rows.join(", "),
        db.events_table(),
        event_order::tuple("e", Scope::Global, db.dialect()),
    );
    if !chunk.event_types.is_empty() {
        sql.push_str(&format!(
            " AND e.event_type IN ({})",
            p.list(&chunk.event_types)
        ));
    }
    sql.push_str(&format!(
        " ORDER BY r.column1, {} LIMIT {}",
        event_order::order_by("e", db.dialect()),
        cap.saturating_add(1)
    ));
    let found = fetch(db, &sql, p, 1).await?;
    if i64::try_from(found.len()).unwrap_or(i64::MAX) > cap {
        return Ok(None);
    }
    let mut per_aggregate: Vec<Vec<Event>> = vec![Vec::new(); aggregates.len()];
    for (event, extra) in found {
        let n = extra
            .first()
            .and_then(|n| usize::try_from(*n).ok())
            .filter(|n| *n < per_aggregate.len())
            .ok_or_else(|| StoreError::Corrupt(format!("look-up aggregate number {extra:?}")))?;
        per_aggregate[n].push(event);
    }
    Ok(Some(
        wants
            .iter()
            .enumerate()
            .map(|(at, numbers)| {
                let before = before(at);
                let mut events: Vec<Event> = numbers
                    .iter()
                    .flat_map(|n| &per_aggregate[*n])
                    .filter(|e| event_order::cmp_global(e, before).is_lt())
                    .cloned()
                    .collect();
                if numbers.len() > 1 {
                    events.sort_by(event_order::cmp_global);
                }
                events
            })
            .collect(),
    ))
}
