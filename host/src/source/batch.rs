//! A family's next batch: the events it subscribes to after its cursor, in
//! global order, read through bounded windows of the stream.

use projection_sdk::Event;

use super::{Params, columns, fetch};
use crate::event_order::{self, Scope};
use crate::store::{Db, StoreError};

/// Which events a family's next batch takes. The caller drops the events
/// at or before each tenant's checkpoint (see [`crate::store::state::Checkpoint::is_before`]).
#[derive(Debug, Clone)]
pub struct BatchQuery<'a> {
    /// Subscribed aggregate types.
    pub aggregate_types: &'a [String],
    /// Subscribed event types (of any of those aggregate types).
    pub event_types: &'a [String],
    /// Only this tenant.
    pub instance_id: Option<&'a str>,
    /// Not these tenants (stuck on a failed event).
    pub skip_instances: &'a [String],
    /// Only events after this one (the end of the previous batch).
    pub after: Option<&'a Event>,
    /// Most events to take.
    pub limit: i64,
    /// Only events below this position (see [`order::Barrier::wait`]).
    pub below: Option<String>,
}

/// How many events, of any type, one read of the whole stream walks past
/// at most (see [`read_batch`]).
pub const WINDOW_ROWS: i64 = 10_000;

/// What one read found.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// The events the query takes, in global order.
    pub events: Vec<Event>,
    /// The last event the read walked past (taken or not): where the next
    /// read starts. `None` when there was nothing after the cursor.
    pub through: Option<Event>,
    /// Whether events may follow `through` (below the bound): the read
    /// stopped at its limit or at the end of its window, not at the end
    /// of the stream.
    pub more: bool,
}

/// The next events of the subscribed types after the cursor, in global order.
///
/// A read of one tenant walks that tenant's events (an index leads with
/// `instance_id`). A read of every tenant walks the global order through a
/// window of at most [`WINDOW_ROWS`] events of any type and keeps the
/// subscribed ones. Without the window, a family whose events are rare
/// would sort or filter everything after its cursor on every read, so a
/// replay would cost the square of the stream; with it, every read costs
/// at most a window and a replay walks the stream once. When the window
/// ends before the limit is reached, `through` is its last event, so the
/// next read starts after it.
pub async fn read_batch(db: &Db, q: &BatchQuery<'_>) -> Result<Batch, StoreError> {
    read_batch_in_windows(db, q, WINDOW_ROWS).await
}

/// [`read_batch`] with windows of `window_rows` events (at least one).
#[doc(hidden)]
pub async fn read_batch_in_windows(
    db: &Db,
    q: &BatchQuery<'_>,
    window_rows: i64,
) -> Result<Batch, StoreError> {
    if q.aggregate_types.is_empty() || q.event_types.is_empty() {
        return Ok(Batch::default());
    }
    if q.instance_id.is_some() {
        let events = read_filtered(db, q).await?;
        return Ok(Batch {
            more: events.len() as i64 >= q.limit.max(1),
            through: events.last().cloned(),
            events,
        });
    }
    read_window(db, q, window_rows.max(1)).await
}

/// The plain query: every condition on the table, in the global order.
async fn read_filtered(db: &Db, q: &BatchQuery<'_>) -> Result<Vec<Event>, StoreError> {
    let mut p = Params::new(db.dialect());
    let mut sql = format!(
        "SELECT {} FROM {} e WHERE {}",
        columns(db.dialect()),
        db.events_table(),
        wanted(&mut p, q),
    );
    if let Some(instance) = q.instance_id {
        sql.push_str(&format!(" AND e.instance_id = {}", p.text(instance)));
    }
    sql.push_str(&range(&mut p, q));
    sql.push_str(&format!(
        " ORDER BY {} LIMIT {}",
        event_order::order_by("e", db.dialect()),
        q.limit.max(1)
    ));
    fetch(db, &sql, p, 0)
        .await
        .map(|rows| rows.into_iter().map(|(event, _)| event).collect())
}

/// The subscribed events of the tenants not skipped (`e`'s).
fn wanted(p: &mut Params, q: &BatchQuery<'_>) -> String {
    let mut sql = format!(
        "e.aggregate_type IN ({}) AND e.event_type IN ({})",
        p.list(q.aggregate_types),
        p.list(q.event_types),
    );
    if !q.skip_instances.is_empty() {
        sql.push_str(&format!(
            " AND e.instance_id NOT IN ({})",
            p.list(q.skip_instances)
        ));
    }
    sql
}

/// The window query, one statement (one snapshot) of two parts:
///
/// - the subscribed events among the next `window_rows` events in global
///   order, up to the limit: an index walk that stops at the limit, the
///   events filtered as they are walked;
/// - only when the limit was not met, the window's end: its last event
///   (found by walking the index alone), or the stream's last event when
///   fewer follow the cursor, with whether the window was full.
async fn read_window(db: &Db, q: &BatchQuery<'_>, window_rows: i64) -> Result<Batch, StoreError> {
    // Parameters in the order they appear in the text (SQLite's are not
    // numbered).
    let mut p = Params::new(db.dialect());
    p.ordered_walk = true;
    let limit = q.limit.max(1);
    let (events, order) = (db.events_table(), event_order::order_by("e", db.dialect()));
    let desc = event_order::order_by_desc("e", db.dialect());
    let window_range = range(&mut p, q);
    let taken = format!(
        "SELECT e.* FROM (SELECT * FROM {events} e WHERE 1 = 1{window_range} \
         ORDER BY {order} LIMIT {window_rows}) e WHERE {} ORDER BY {order} LIMIT {limit}",
        wanted(&mut p, q),
    );
    let full_range = range(&mut p, q);
    let tail_range = range(&mut p, q);
    let names = event_order::names("e");
    let end = format!(
        "SELECT * FROM (SELECT {names}, 1 AS window_full FROM {events} e WHERE 1 = 1{full_range} \
         ORDER BY {order} LIMIT 1 OFFSET {}) f \
         UNION ALL SELECT * FROM (SELECT {names}, 0 AS window_full FROM {events} e WHERE 1 = 1{tail_range} \
         ORDER BY {desc} LIMIT 1) t LIMIT 1",
        window_rows - 1,
    );
    let sql = format!(
        "WITH taken AS MATERIALIZED ({taken}), window_end AS MATERIALIZED ({end}) \
         SELECT {columns}, CAST(1 AS BIGINT), CAST(0 AS BIGINT) FROM taken e \
         UNION ALL SELECT {columns}, CAST(0 AS BIGINT), CAST(w.window_full AS BIGINT) \
         FROM window_end w JOIN {events} e ON {} \
         WHERE (SELECT count(*) FROM taken) < {limit}",
        event_order::same_place("e", "w"),
        columns = columns(db.dialect()),
    );
    let rows = fetch(db, &sql, p, 2).await?;
    let mut batch = Batch::default();
    let mut end: Option<(Event, bool)> = None;
    for (event, flags) in rows {
        let [taken, full] = flags[..] else {
            return Err(StoreError::Corrupt("a window row without its flags".into()));
        };
        if taken == 1 {
            batch.events.push(event);
        } else {
            end = Some((event, full == 1));
        }
    }
    batch.events.sort_by(event_order::cmp_global);
    if batch.events.len() as i64 >= limit {
        // The limit ended the read before its window did.
        batch.more = true;
        batch.through = batch.events.last().cloned();
    } else if let Some((last, full)) = end {
        // The window's last event: more may follow when it was full.
        batch.more = full;
        batch.through = Some(last);
    }
    Ok(batch)
}

/// The bound and the cursor: `position < below`, then after the cursor (the
/// plain range first: planners estimate it well and walk the global-order
/// index instead of sorting everything after the cursor).
fn range(p: &mut Params, q: &BatchQuery<'_>) -> String {
    let mut sql = String::new();
    if let Some(below) = &q.below {
        sql.push_str(&format!(
            " AND e.\"position\" < {}",
            p.typed(below, "DECIMAL")
        ));
    }
    if let Some(after) = q.after {
        sql.push_str(&format!(
            " AND e.\"position\" >= {} AND {} > {}",
            p.typed(&after.position, "DECIMAL"),
            event_order::tuple("e", Scope::Global, p.dialect),
            p.key(after)
        ));
    }
    sql
}
