//! Event look-ups for plugins: one at a time ([`find_events`]), or many in
//! few queries ([`find_events_ahead`]), with the same answers.

use std::collections::{BTreeMap, HashMap};

use futures_util::{StreamExt as _, TryStreamExt as _, stream};

use projection_sdk::{Event, EventFilter};

use super::{Params, columns, fetch};
use crate::event_order::{self, Scope};
use crate::store::{Db, StoreError, lookup_index};

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
    let c = lookup_index::collate(db);
    let mut sql = format!(
        "SELECT {} FROM {} e WHERE e.instance_id{c} = {} AND e.aggregate_type{c} = {}",
        columns(db.dialect()),
        db.events_table(),
        p.text(&before.instance_id),
        p.text(&filter.aggregate_type),
    );
    if !filter.aggregate_ids.is_empty() {
        sql.push_str(&format!(
            " AND e.aggregate_id{c} IN ({})",
            p.list(&filter.aggregate_ids)
        ));
    }
    if !filter.event_types.is_empty() {
        sql.push_str(&format!(
            " AND e.event_type{c} IN ({})",
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

/// Fewest pairs a query is cut to so that a kind's look-ups spread over
/// [`QUERIES_AT_ONCE`] queries: below this, a query's own cost (parsing,
/// planning, a round trip) outweighs what running beside another gains.
const MIN_PAIRS_PER_QUERY: usize = 50;

/// Most look-up queries of one call running at once, each on a connection
/// of its own: the server answers them side by side.
const QUERIES_AT_ONCE: usize = 4;

/// What [`find_events`] would answer for each look-up (an event and its
/// filter), in few queries: per kind of look-up (aggregate type and event
/// types), up to [`QUERIES_AT_ONCE`] queries of [`MIN_PAIRS_PER_QUERY`] to
/// [`PAIRS_PER_QUERY`] aggregate ids, which run side by side.
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
    let chunks = chunks(lookups);
    let found: Vec<Option<Vec<Vec<Event>>>> = stream::iter(
        chunks
            .iter()
            .map(|chunk| query_chunk(db, lookups, chunk, cap)),
    )
    .buffered(QUERIES_AT_ONCE)
    .try_collect()
    .await?;
    for (chunk, found) in chunks.into_iter().zip(found) {
        let Some(found) = found else {
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
        let n_pairs: usize = members.iter().map(|(_, ids)| ids.len()).sum();
        let per_query = n_pairs
            .div_ceil(QUERIES_AT_ONCE)
            .clamp(MIN_PAIRS_PER_QUERY, PAIRS_PER_QUERY);
        let empty = || Chunk {
            aggregate_type,
            event_types: event_types.clone(),
            lookups: Vec::new(),
            pairs: Vec::new(),
        };
        let mut chunk = empty();
        for (n, ids) in members {
            if !chunk.pairs.is_empty() && chunk.pairs.len() + ids.len() > per_query {
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
/// in the order) is joined to the events by an index that leads with the
/// aggregate (the look-up index where the store has it,
/// [`lookup_index`], else the primary key), so each aggregate is one index
/// probe, as in [`find_events`].
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
    let c = lookup_index::collate(db);
    let mut sql = format!(
        "SELECT {}, r.column1 FROM (VALUES {}) AS r JOIN {} e ON e.instance_id{c} = r.column2 \
         AND e.aggregate_type{c} = {aggregate_type} AND e.aggregate_id{c} = r.column3 WHERE {} < \
         (r.column4, r.column5, r.column6, r.column7, r.column8, r.column9)",
        columns(db.dialect()),
        rows.join(", "),
        db.events_table(),
        event_order::tuple("e", Scope::Global, db.dialect()),
    );
    if !chunk.event_types.is_empty() {
        sql.push_str(&format!(
            " AND e.event_type{c} IN ({})",
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

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event as made;
    use projection_sdk::{Event, EventFilter};

    use super::{MIN_PAIRS_PER_QUERY, PAIRS_PER_QUERY, QUERIES_AT_ONCE, chunks};

    fn filter(kind: &str, ids: usize, from: usize) -> EventFilter {
        EventFilter {
            aggregate_type: kind.to_owned(),
            aggregate_ids: (from..from + ids).map(|i| format!("id{i}")).collect(),
            event_types: vec!["x.added".to_owned()],
        }
    }

    /// Each look-up in exactly one chunk, with all its ids; the chunks of a
    /// kind's look-ups at most `QUERIES_AT_ONCE`, none over the most pairs.
    fn check(filters: &[EventFilter], most_chunks: usize) {
        let event = made("user", "x.added", None);
        let lookups: Vec<(&Event, &EventFilter)> = filters.iter().map(|f| (&event, f)).collect();
        let cut = chunks(&lookups);
        assert!(cut.len() <= most_chunks, "{} chunks", cut.len());
        let mut seen = vec![0; filters.len()];
        for chunk in &cut {
            assert!(chunk.pairs.len() <= PAIRS_PER_QUERY);
            for (at, n) in chunk.lookups.iter().enumerate() {
                seen[*n] += 1;
                let ids: Vec<&str> = chunk
                    .pairs
                    .iter()
                    .filter(|(a, _)| *a == at)
                    .map(|(_, id)| *id)
                    .collect();
                assert_eq!(ids.len(), filters[*n].aggregate_ids.len());
            }
        }
        assert!(seen.iter().all(|n| *n == 1), "{seen:?}");
    }

    #[test]
    fn a_kinds_look_ups_spread_over_the_queries_that_run_at_once() {
        let many: Vec<EventFilter> = (0..700).map(|i| filter("user", 1, i)).collect();
        check(&many, QUERIES_AT_ONCE);
        let event = made("user", "x.added", None);
        let lookups: Vec<(&Event, &EventFilter)> = many.iter().map(|f| (&event, f)).collect();
        assert_eq!(chunks(&lookups).len(), QUERIES_AT_ONCE);
        // Few look-ups stay in one query.
        let few: Vec<EventFilter> = (0..MIN_PAIRS_PER_QUERY)
            .map(|i| filter("user", 1, i))
            .collect();
        check(&few, 1);
        // A look-up of many ids is never split; kinds never share a query.
        let mut mixed = vec![filter("project", PAIRS_PER_QUERY, 0)];
        mixed.extend((0..200).map(|i| filter("user", 2, i)));
        mixed.push(filter("project", 3, 7));
        check(&mixed, 2 * QUERIES_AT_ONCE);
        // Too many ids for one query: left to a query of its own.
        let huge = filter("user", PAIRS_PER_QUERY + 1, 0);
        assert!(chunks(&[(&event, &huge)]).is_empty());
    }
}
