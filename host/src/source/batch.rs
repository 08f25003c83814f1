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
    read_window(db, q).await
}

/// The plain query: every condition on the table, in the global order.
async fn read_filtered(db: &Db, q: &BatchQuery<'_>) -> Result<Vec<Event>, StoreError> {
    let mut p = Params::new(db.dialect());
    let mut sql = format!(
        "SELECT {} FROM {} e WHERE e.aggregate_type IN ({}) AND e.event_type IN ({})",
        columns(db.dialect()),
        db.events_table(),
        p.list(q.aggregate_types),
        p.list(q.event_types),
    );
    if let Some(instance) = q.instance_id {
        sql.push_str(&format!(" AND e.instance_id = {}", p.text(instance)));
    }
    if !q.skip_instances.is_empty() {
        sql.push_str(&format!(
            " AND e.instance_id NOT IN ({})",
            p.list(q.skip_instances)
        ));
    }
    sql.push_str(&range(&mut p, q));
    sql.push_str(&format!(
        " ORDER BY {} LIMIT {}",
        event_order::order_by("e"),
        q.limit.max(1)
    ));
    fetch(db, &sql, p, 0)
        .await
        .map(|rows| rows.into_iter().map(|(event, _)| event).collect())
}

/// The window query: the next [`WINDOW_ROWS`] events in global order (an
/// index walk that stops early once the limit is met), of which the
/// subscribed ones and the window's last one come back.
async fn read_window(db: &Db, q: &BatchQuery<'_>) -> Result<Batch, StoreError> {
    // Parameters in the order they appear in the text (SQLite's are not
    // numbered): the wanted test, then the window's range.
    let mut p = Params::new(db.dialect());
    p.ordered_walk = true;
    let mut wanted = format!(
        "e.aggregate_type IN ({}) AND e.event_type IN ({})",
        p.list(q.aggregate_types),
        p.list(q.event_types),
    );
    if !q.skip_instances.is_empty() {
        wanted.push_str(&format!(
            " AND e.instance_id NOT IN ({})",
            p.list(q.skip_instances)
        ));
    }
    let mut inner = format!("SELECT * FROM {} e WHERE 1 = 1", db.events_table());
    inner.push_str(&range(&mut p, q));
    inner.push_str(&format!(
        " ORDER BY {} LIMIT {WINDOW_ROWS}",
        event_order::order_by("e")
    ));
    let order = event_order::order_by("e");
    let sql = format!(
        "SELECT {columns}, e.wanted, e.is_last, e.n FROM (\
         SELECT e.*, CAST(CASE WHEN {wanted} THEN 1 ELSE 0 END AS BIGINT) AS wanted, \
         CAST(CASE WHEN lead(1) OVER w IS NULL THEN 1 ELSE 0 END AS BIGINT) AS is_last, \
         CAST(row_number() OVER w AS BIGINT) AS n \
         FROM ({inner}) e WINDOW w AS (ORDER BY {order})) e \
         WHERE e.wanted = 1 OR e.is_last = 1 ORDER BY {order} LIMIT {}",
        q.limit.max(1) + 1,
        columns = columns(db.dialect()),
    );
    let rows = fetch(db, &sql, p, 3).await?;
    let limit = usize::try_from(q.limit.max(1)).unwrap_or(usize::MAX);
    let mut batch = Batch::default();
    for (event, flags) in rows {
        let [wanted, is_last, n] = flags[..] else {
            return Err(StoreError::Corrupt("a window row without its flags".into()));
        };
        if batch.events.len() == limit {
            // A row past the limit: the limit ended the read. (The window's
            // last row always comes back, so one does whenever the limit
            // is met before the window ends.)
            batch.more = true;
            break;
        }
        if wanted == 1 {
            batch.events.push(event.clone());
        }
        batch.through = Some(event);
        if is_last == 1 {
            // The window's last event: more may follow when it was full.
            batch.more = n >= WINDOW_ROWS;
            break;
        }
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
            event_order::tuple("e", Scope::Global),
            p.key(after)
        ));
    }
    sql
}
