//! The event store: read events in global order, look events up for plugins,
//! append imported events.
//!
//! Events are read in the global order of [`crate::event_order`], which
//! orders batches, look-ups and checkpoints alike.

mod batch;
pub mod import;
mod lag;
mod lookup;
pub mod order;

pub use batch::{Batch, BatchQuery, WINDOW_ROWS, read_batch, read_batch_in_windows};
pub use lag::{Lag, family_lag};
pub use lookup::{LookupError, MAX_LOOKUP_EVENTS, find_events, find_events_ahead};

use projection_sdk::{Event, Subscription};
use sqlx::Row;

use crate::event_order::{self, Part, Scope};
use crate::store::bind::ph;
use crate::store::{Db, Dialect, StoreError};
use crate::time;

fn columns(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "e.\"position\"::text, e.in_tx_order::bigint, e.instance_id, e.aggregate_type, e.aggregate_id, \
            e.event_type, e.\"sequence\", e.revision::bigint, (EXTRACT(EPOCH FROM e.created_at) * 1000000)::bigint::text, \
            e.payload::text, e.creator, e.\"owner\""
        }
        Dialect::Sqlite => {
            "printf('%.6f', e.\"position\"), e.in_tx_order, e.instance_id, e.aggregate_type, e.aggregate_id, \
            e.event_type, e.\"sequence\", e.revision, e.created_at, e.payload, e.creator, e.\"owner\""
        }
    }
}

/// Bind parameters collected while writing SQL text.
struct Params {
    dialect: Dialect,
    values: Vec<String>,
    ints: Vec<(usize, i64)>,
    /// Planned for its values every time, not prepared once, and on
    /// PostgreSQL with sorting ruled out: a walk of the global-order index
    /// that stops at a limit, which the planner would otherwise trade for
    /// a sort of everything in range whenever it estimates the range to be
    /// small.
    ordered_walk: bool,
    /// Planned once and not kept: a statement whose text varies with its
    /// input (a list of look-ups), which would crowd the connection's
    /// prepared-statement cache.
    once: bool,
}

impl Params {
    fn new(dialect: Dialect) -> Self {
        Params {
            dialect,
            values: Vec::new(),
            ints: Vec::new(),
            ordered_walk: false,
            once: false,
        }
    }

    fn text(&mut self, value: &str) -> String {
        self.values.push(value.to_owned());
        ph(self.dialect, self.values.len(), "TEXT")
    }

    fn typed(&mut self, value: &str, cast: &str) -> String {
        self.values.push(value.to_owned());
        ph(self.dialect, self.values.len(), cast)
    }

    fn int(&mut self, value: i64, cast: &str) -> String {
        self.values.push(String::new());
        self.ints.push((self.values.len() - 1, value));
        ph(self.dialect, self.values.len(), cast)
    }

    fn list(&mut self, values: &[String]) -> String {
        values
            .iter()
            .map(|v| self.text(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// An event's place in the global order, bound: the values of
    /// [`event_order::tuple`] with [`Scope::Global`].
    fn key(&mut self, event: &Event) -> String {
        format!("({})", self.key_parts(event).join(", "))
    }

    /// The placeholders of [`Params::key`], one per column of the order.
    fn key_parts(&mut self, event: &Event) -> Vec<String> {
        event_order::parts(event)
            .into_iter()
            .map(|part| match part {
                Part::Decimal(position) => self.typed(position, "DECIMAL"),
                Part::Int(value, cast) => self.int(value, cast),
                Part::Text(value) => self.text(value),
            })
            .collect()
    }
}

/// Run a query of [`columns`] followed by `n_extra` integer columns: each
/// row's event and extra values.
async fn fetch(
    db: &Db,
    sql: &str,
    params: Params,
    n_extra: usize,
) -> Result<Vec<(Event, Vec<i64>)>, StoreError> {
    macro_rules! run {
        ($pool:expr) => {{
            let mut query = sqlx::query(sql).persistent(!params.ordered_walk && !params.once);
            for (i, value) in params.values.iter().enumerate() {
                match params.ints.iter().find(|(at, _)| *at == i) {
                    Some((_, n)) => query = query.bind(*n),
                    None => query = query.bind(value.clone()),
                }
            }
            query
                .fetch_all($pool)
                .await?
                .iter()
                .map(|r| -> Result<(Event, Vec<i64>), StoreError> {
                    let created: String = r.try_get(8)?;
                    let created_at = match db.dialect() {
                        Dialect::Postgres => created.parse::<i64>().ok(),
                        Dialect::Sqlite => time::parse_rfc3339(&created),
                    }
                    .ok_or_else(|| StoreError::Corrupt(format!("event created_at {created:?}")))?;
                    let in_tx_order: i64 = r.try_get(1)?;
                    let revision: i64 = r.try_get(7)?;
                    let extra = (12..12 + n_extra)
                        .map(|i| r.try_get::<i64, _>(i))
                        .collect::<Result<Vec<_>, _>>()?;
                    let event = Event {
                        position: r.try_get(0)?,
                        in_tx_order: u32::try_from(in_tx_order).map_err(|_| {
                            StoreError::Corrupt(format!("in_tx_order {in_tx_order}"))
                        })?,
                        instance_id: r.try_get(2)?,
                        aggregate_type: r.try_get(3)?,
                        aggregate_id: r.try_get(4)?,
                        event_type: r.try_get(5)?,
                        sequence: r.try_get(6)?,
                        revision: i16::try_from(revision)
                            .map_err(|_| StoreError::Corrupt(format!("revision {revision}")))?,
                        created_at,
                        payload: r.try_get(9)?,
                        creator: r.try_get(10)?,
                        owner: r.try_get(11)?,
                    };
                    Ok((event, extra))
                })
                .collect::<Result<Vec<_>, _>>()?
        }};
    }
    Ok(match db {
        Db::Sqlite(pool) => run!(pool),
        Db::Postgres(pool) if params.ordered_walk => {
            let mut tx = pool.begin().await?;
            sqlx::query("SET LOCAL enable_sort = off")
                .execute(&mut *tx)
                .await?;
            let rows = run!(&mut *tx);
            tx.commit().await?;
            rows
        }
        Db::Postgres(pool) => run!(pool),
    })
}

/// One stored event by its primary key.
pub async fn get_event(
    db: &Db,
    instance_id: &str,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
) -> Result<Option<Event>, StoreError> {
    let mut p = Params::new(db.dialect());
    let sql = format!(
        "SELECT {} FROM {} e WHERE e.instance_id = {} AND e.aggregate_type = {} AND e.aggregate_id = {} AND e.\"sequence\" = {}",
        columns(db.dialect()),
        db.events_table(),
        p.text(instance_id),
        p.text(aggregate_type),
        p.text(aggregate_id),
        p.int(sequence, "BIGINT"),
    );
    Ok(fetch(db, &sql, p, 0).await?.pop().map(|(event, _)| event))
}

/// Per tenant: how many events of these types come after the family's checkpoint.
pub async fn events_behind(
    db: &Db,
    family: &str,
    aggregate_types: &[String],
    event_types: &[String],
) -> Result<Vec<(String, i64)>, StoreError> {
    if aggregate_types.is_empty() || event_types.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = Params::new(db.dialect());
    let sql = format!(
        "SELECT e.instance_id, COUNT(*) FROM {} e LEFT JOIN projector_checkpoints c ON c.family = {} \
         AND c.instance_id = e.instance_id WHERE e.aggregate_type IN ({}) AND e.event_type IN ({}) AND \
         (c.family IS NULL OR {} > {}) \
         GROUP BY e.instance_id ORDER BY e.instance_id",
        db.events_table(),
        p.text(family),
        p.list(aggregate_types),
        p.list(event_types),
        event_order::tuple("e", Scope::Tenant, db.dialect()),
        event_order::tuple("c", Scope::Tenant, db.dialect()),
    );
    macro_rules! run {
        ($pool:expr) => {{
            let mut query = sqlx::query(&sql);
            for v in &p.values {
                query = query.bind(v.clone());
            }
            query
                .fetch_all($pool)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }};
    }
    Ok(match db {
        Db::Sqlite(pool) => run!(pool),
        Db::Postgres(pool) => run!(pool),
    })
}

/// One tenant's lag in a family: events committed and not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantLag {
    /// The tenant.
    pub instance_id: String,
    /// Subscribed events after the checkpoint (all of them without one):
    /// what the next replay applies.
    pub after_checkpoint: i64,
    /// Subscribed events at or below the checkpoint.
    pub at_or_below: i64,
    /// Events the family consumed (applied or skipped) for this tenant
    /// since the checkpoint was created; `None` without a checkpoint.
    pub consumed: Option<i64>,
}

impl TenantLag {
    /// Events at or below the checkpoint that were never applied: committed
    /// after the family had moved past their position (a writer that broke
    /// the ordering protocol), or subscribed to only after the checkpoint
    /// moved past them. Only a rebuild of the tenant applies them.
    pub fn missed(&self) -> i64 {
        self.consumed
            .map_or(0, |consumed| (self.at_or_below - consumed).max(0))
    }

    /// Every committed event the family has not applied.
    pub fn behind(&self) -> i64 {
        self.after_checkpoint + self.missed()
    }
}

/// Per tenant with subscribed events: how many lie after the family's
/// checkpoint, how many at or below it, and how many the family consumed
/// (see [`TenantLag`]). Exactly the subscribed (aggregate type, event
/// type) pairs count, as a replay takes them. One statement (one snapshot),
/// which reads every subscribed event.
pub async fn tenant_lag(
    db: &Db,
    family: &str,
    subscriptions: &[Subscription],
) -> Result<Vec<TenantLag>, StoreError> {
    let mut p = Params::new(db.dialect());
    let family_param = p.text(family);
    let pairs: Vec<String> = subscriptions
        .iter()
        .filter(|s| !s.event_types.is_empty())
        .map(|s| {
            format!(
                "(e.aggregate_type = {} AND e.event_type IN ({}))",
                p.text(&s.aggregate_type),
                p.list(&s.event_types)
            )
        })
        .collect();
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let key = event_order::tuple("e", Scope::Tenant, db.dialect());
    let checkpoint = event_order::tuple("c", Scope::Tenant, db.dialect());
    let sql = format!(
        "SELECT e.instance_id, \
         CAST(SUM(CASE WHEN c.family IS NULL OR {key} > {checkpoint} THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(CASE WHEN c.family IS NOT NULL AND {key} <= {checkpoint} THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(MAX(c.n_consumed) AS BIGINT) \
         FROM {} e LEFT JOIN projector_checkpoints c ON c.family = {family_param} \
         AND c.instance_id = e.instance_id WHERE ({}) \
         GROUP BY e.instance_id ORDER BY e.instance_id",
        db.events_table(),
        pairs.join(" OR "),
    );
    macro_rules! run {
        ($pool:expr) => {{
            let mut query = sqlx::query(&sql);
            for v in &p.values {
                query = query.bind(v.clone());
            }
            query
                .fetch_all($pool)
                .await?
                .iter()
                .map(|r| {
                    Ok(TenantLag {
                        instance_id: r.try_get(0)?,
                        after_checkpoint: r.try_get(1)?,
                        at_or_below: r.try_get(2)?,
                        consumed: r.try_get(3)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }};
    }
    Ok(match db {
        Db::Sqlite(pool) => run!(pool),
        Db::Postgres(pool) => run!(pool),
    })
}
