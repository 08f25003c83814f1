//! The host's own state: installed families, checkpoints and failed events.
//!
//! Checkpoints and failures are written inside the batch's transaction, so
//! they commit or vanish together with the rows they describe.

use projection_sdk::{ColumnType, Description, Event, Value};
use sqlx::Row;

use super::bind::{ph, placeholders};
use super::{Db, Dialect, Statement, StoreError, Tx, fetch_rows};
use crate::event_order::TenantKey;
use crate::time;

fn text(s: &str) -> (Value, ColumnType) {
    (Value::Text(s.to_owned()), ColumnType::Text)
}

fn int(i: i64) -> (Value, ColumnType) {
    (Value::Int(i), ColumnType::Int)
}

fn ts(micros: i64) -> (Value, ColumnType) {
    (Value::Timestamp(micros), ColumnType::Timestamp)
}

/// The description recorded for an installed family.
pub async fn stored_description(db: &Db, family: &str) -> Result<Option<Description>, StoreError> {
    let json: Option<String> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_scalar("SELECT description FROM projector_families WHERE name = ?")
                .bind(family)
                .fetch_optional(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_scalar("SELECT description::text FROM projector_families WHERE name = $1")
                .bind(family)
                .fetch_optional(pool)
                .await?
        }
    };
    json.map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// The description of the version whose tables a cutover kept aside
/// (lane `prev`), if any.
pub async fn kept_description(db: &Db, family: &str) -> Result<Option<Description>, StoreError> {
    let sql = match db.dialect() {
        Dialect::Sqlite => "SELECT kept_description FROM projector_families WHERE name = ?1",
        Dialect::Postgres => {
            "SELECT kept_description::text FROM projector_families WHERE name = $1"
        }
    };
    let rows = fetch_rows!(db, sql, binds = [family], |r| r
        .try_get::<Option<String>, _>(0)?);
    rows.into_iter()
        .flatten()
        .next()
        .map(|j| serde_json::from_str(&j).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// Record which version's tables lane `prev` holds (`None`: none).
pub async fn set_kept_description(
    tx: &mut Tx,
    family: &str,
    kept: Option<&Description>,
) -> Result<(), StoreError> {
    let d = tx.dialect();
    let json = kept
        .map(|k| serde_json::to_string(k).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()?;
    tx.execute(&Statement {
        sql: format!(
            "UPDATE projector_families SET kept_description = {} WHERE name = {}",
            ph(d, 1, "JSONB"),
            ph(d, 2, "TEXT")
        ),
        binds: vec![
            (json.map_or(Value::Null, Value::Json), ColumnType::Json),
            text(family),
        ],
        arrays: Vec::new(),
    })
    .await?;
    Ok(())
}

/// Record the family's description (after creating its tables).
pub async fn record_family(
    tx: &mut Tx,
    description: &Description,
    plugin_hash: &str,
) -> Result<(), StoreError> {
    let d = tx.dialect();
    let json =
        serde_json::to_string(description).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let sql = format!(
        "INSERT INTO projector_families (name, version, plugin_hash, description, installed_at) \
         VALUES ({}, {}, {}, {}, {}) ON CONFLICT (name) DO UPDATE SET version = excluded.version, \
         plugin_hash = excluded.plugin_hash, description = excluded.description, installed_at = excluded.installed_at",
        ph(d, 1, "TEXT"),
        ph(d, 2, "TEXT"),
        ph(d, 3, "TEXT"),
        ph(d, 4, "JSONB"),
        ph(d, 5, "TIMESTAMPTZ"),
    );
    let statement = Statement {
        sql,
        binds: vec![
            text(&description.name),
            text(&description.version),
            text(plugin_hash),
            (Value::Json(json), ColumnType::Json),
            ts(time::now_micros()),
        ],
        arrays: Vec::new(),
    };
    tx.execute(&statement).await?;
    Ok(())
}

/// A table or view a family created, as recorded in `projector_tables`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedRelation {
    /// Its name.
    pub name: String,
    /// The family that created it.
    pub family: String,
    /// `table` or `view`.
    pub kind: String,
}

const OWNED_SQL: &str = "SELECT name, family, kind FROM projector_tables ORDER BY family, name";

/// Every recorded table and view, by family and name.
pub async fn owned_relations(db: &Db) -> Result<Vec<OwnedRelation>, StoreError> {
    Ok(fetch_rows!(db, OWNED_SQL, |r| {
        OwnedRelation {
            name: r.try_get(0)?,
            family: r.try_get(1)?,
            kind: r.try_get(2)?,
        }
    }))
}

/// The recorded relations, read inside a transaction.
async fn owned_relations_in(tx: &mut Tx) -> Result<Vec<OwnedRelation>, StoreError> {
    macro_rules! fetch {
        ($t:expr) => {
            sqlx::query(OWNED_SQL)
                .fetch_all(&mut **$t)
                .await?
                .iter()
                .map(|r| {
                    Ok(OwnedRelation {
                        name: r.try_get(0)?,
                        family: r.try_get(1)?,
                        kind: r.try_get(2)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        };
    }
    Ok(match tx {
        Tx::Sqlite(t) => fetch!(t),
        Tx::Postgres(t) => fetch!(t),
    })
}

/// Recorded owner of every table and view: name to family.
pub async fn table_owners(
    tx: &mut Tx,
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    Ok(owned_relations_in(tx)
        .await?
        .into_iter()
        .map(|r| (r.name, r.family))
        .collect())
}

/// The tables and views recorded for one family.
pub async fn family_relations(tx: &mut Tx, family: &str) -> Result<Vec<OwnedRelation>, StoreError> {
    Ok(owned_relations_in(tx)
        .await?
        .into_iter()
        .filter(|r| r.family == family)
        .collect())
}

/// Record the family's tables and views as its own (in the transaction that
/// creates them), replacing what was recorded for it before (unchanged
/// records are kept as they are). A name recorded for another family fails
/// on the primary key: never two owners.
pub async fn record_tables(tx: &mut Tx, description: &Description) -> Result<(), StoreError> {
    let mut recorded: Vec<(String, String)> = family_relations(tx, &description.name)
        .await?
        .into_iter()
        .map(|r| (r.kind, r.name))
        .collect();
    let mut declared: Vec<(String, String)> = super::owner::declared(description)
        .map(|(kind, name)| (kind.to_owned(), name.to_owned()))
        .collect();
    recorded.sort();
    declared.sort();
    if recorded == declared {
        return Ok(());
    }
    let d = tx.dialect();
    tx.execute(&Statement {
        sql: format!(
            "DELETE FROM projector_tables WHERE family = {}",
            ph(d, 1, "TEXT")
        ),
        binds: vec![text(&description.name)],
        arrays: Vec::new(),
    })
    .await?;
    let now = time::now_micros();
    for (kind, name) in super::owner::declared(description) {
        tx.execute(&Statement {
            sql: format!(
                "INSERT INTO projector_tables (name, family, kind, recorded_at) VALUES ({})",
                placeholders(d, 1, &["TEXT", "TEXT", "TEXT", "TIMESTAMPTZ"])
            ),
            binds: vec![text(name), text(&description.name), text(kind), ts(now)],
            arrays: Vec::new(),
        })
        .await?;
    }
    Ok(())
}

/// Make `hash` the family's active deployed version (no longer staged), or
/// (`None`) none, so the plugin directory's file is the effective one.
pub async fn activate_version(
    tx: &mut Tx,
    family: &str,
    hash: Option<&str>,
) -> Result<(), StoreError> {
    let d = tx.dialect();
    let boolean = |b: bool| (Value::Boolean(b), ColumnType::Boolean);
    tx.execute(&Statement {
        sql: format!(
            "UPDATE projector_plugins SET active = {} WHERE family = {}",
            ph(d, 1, "BOOLEAN"),
            ph(d, 2, "TEXT")
        ),
        binds: vec![boolean(false), text(family)],
        arrays: Vec::new(),
    })
    .await?;
    if let Some(hash) = hash {
        tx.execute(&Statement {
            sql: format!(
                "UPDATE projector_plugins SET active = {}, stage = NULL WHERE family = {} AND hash = {}",
                ph(d, 1, "BOOLEAN"),
                ph(d, 2, "TEXT"),
                ph(d, 3, "TEXT")
            ),
            binds: vec![boolean(true), text(family), text(hash)],
            arrays: Vec::new(),
        })
        .await?;
    }
    Ok(())
}

/// Forget the records of the tables and views of a family (or a lane's
/// key), once they are dropped.
pub async fn forget_relations(tx: &mut Tx, family: &str) -> Result<(), StoreError> {
    let d = tx.dialect();
    tx.execute(&Statement {
        sql: format!(
            "DELETE FROM projector_tables WHERE family = {}",
            ph(d, 1, "TEXT")
        ),
        binds: vec![text(family)],
        arrays: Vec::new(),
    })
    .await?;
    Ok(())
}

/// Forget checkpoints and failures of a family, or of one of its tenants.
pub async fn forget_family_progress(
    tx: &mut Tx,
    family: &str,
    instance_id: Option<&str>,
) -> Result<(), StoreError> {
    let d = tx.dialect();
    for table in ["projector_checkpoints", "projector_failed_events"] {
        let mut statement = Statement {
            sql: format!("DELETE FROM {table} WHERE family = {}", ph(d, 1, "TEXT")),
            binds: vec![text(family)],
            arrays: Vec::new(),
        };
        if let Some(instance) = instance_id {
            statement
                .sql
                .push_str(&format!(" AND instance_id = {}", ph(d, 2, "TEXT")));
            statement.binds.push(text(instance));
        }
        tx.execute(&statement).await?;
    }
    Ok(())
}

/// Move the (family, tenant) checkpoint to `event`, one more event consumed.
pub async fn save_checkpoint(
    tx: &mut Tx,
    family: &str,
    version: &str,
    event: &Event,
) -> Result<(), StoreError> {
    save_checkpoints(tx, family, version, &[(event, 1)]).await
}

/// Move the checkpoints of several tenants of a family, one statement (each
/// event must be of another tenant), each to its event, adding the number
/// of events of that tenant consumed since its last checkpoint (applied,
/// or skipped by an operator) to the checkpoint's `n_consumed`.
pub async fn save_checkpoints(
    tx: &mut Tx,
    family: &str,
    version: &str,
    events: &[(&Event, i64)],
) -> Result<(), StoreError> {
    const CASTS: [&str; 11] = [
        "TEXT",
        "TEXT",
        "DECIMAL",
        "INTEGER",
        "TEXT",
        "TEXT",
        "BIGINT",
        "TIMESTAMPTZ",
        "TEXT",
        "TIMESTAMPTZ",
        "BIGINT",
    ];
    let d = tx.dialect();
    let now = time::now_micros();
    for chunk in events.chunks(1000) {
        let mut rows = Vec::with_capacity(chunk.len());
        let mut binds = Vec::with_capacity(chunk.len() * CASTS.len());
        for (r, (event, consumed)) in chunk.iter().enumerate() {
            rows.push(format!(
                "({})",
                placeholders(d, r * CASTS.len() + 1, &CASTS)
            ));
            binds.extend([
                text(family),
                text(&event.instance_id),
                text(&event.position),
                int(i64::from(event.in_tx_order)),
                text(&event.aggregate_type),
                text(&event.aggregate_id),
                int(event.sequence),
                ts(event.created_at),
                text(version),
                ts(now),
                int(*consumed),
            ]);
        }
        let sql = format!(
            "INSERT INTO projector_checkpoints (family, instance_id, \"position\", in_tx_order, aggregate_type, \
             aggregate_id, \"sequence\", event_date, plugin_version, updated_at, n_consumed) VALUES {} \
             ON CONFLICT (family, instance_id) DO UPDATE SET \"position\" = excluded.\"position\", \
             in_tx_order = excluded.in_tx_order, aggregate_type = excluded.aggregate_type, \
             aggregate_id = excluded.aggregate_id, \"sequence\" = excluded.\"sequence\", \
             event_date = excluded.event_date, plugin_version = excluded.plugin_version, \
             updated_at = excluded.updated_at, \
             n_consumed = projector_checkpoints.n_consumed + excluded.n_consumed",
            rows.join(", ")
        );
        tx.execute(&Statement {
            sql,
            binds,
            arrays: Vec::new(),
        })
        .await?;
    }
    Ok(())
}

/// How long a (family, tenant) waits before its failed event is tried again
/// by `run`: one second, doubling per failure, at most five minutes.
pub fn retry_delay_micros(failure_count: i64) -> i64 {
    let doublings = u32::try_from(failure_count.clamp(1, 20) - 1).unwrap_or(0);
    (1_000_000_i64 << doublings).min(300_000_000)
}

/// Record (or count again) a failed event of a family.
pub async fn record_failure(
    tx: &mut Tx,
    family: &str,
    event: &Event,
    error: &str,
) -> Result<(), StoreError> {
    let d = tx.dialect();
    let count_sql = format!(
        "SELECT CAST(failure_count AS BIGINT) FROM projector_failed_events WHERE family = {} AND instance_id = {} \
         AND aggregate_type = {} AND aggregate_id = {} AND \"sequence\" = {}",
        ph(d, 1, "TEXT"),
        ph(d, 2, "TEXT"),
        ph(d, 3, "TEXT"),
        ph(d, 4, "TEXT"),
        ph(d, 5, "BIGINT")
    );
    macro_rules! count {
        ($t:expr) => {
            sqlx::query_scalar::<_, i64>(&count_sql)
                .bind(family)
                .bind(&event.instance_id)
                .bind(&event.aggregate_type)
                .bind(&event.aggregate_id)
                .bind(event.sequence)
                .fetch_optional(&mut **$t)
                .await?
        };
    }
    let previous = match tx {
        Tx::Sqlite(t) => count!(t),
        Tx::Postgres(t) => count!(t),
    };
    let failure_count = previous.unwrap_or(0) + 1;
    let p = placeholders(
        d,
        1,
        &[
            "TEXT",
            "TEXT",
            "TEXT",
            "TEXT",
            "BIGINT",
            "TEXT",
            "DECIMAL",
            "INTEGER",
            "TEXT",
            "TIMESTAMPTZ",
            "TIMESTAMPTZ",
            "INTEGER",
            "TIMESTAMPTZ",
        ],
    );
    let sql = format!(
        "INSERT INTO projector_failed_events (family, instance_id, aggregate_type, aggregate_id, \"sequence\", \
         event_type, \"position\", in_tx_order, error, first_failed, last_failed, failure_count, retry_after) \
         VALUES ({}) ON CONFLICT (family, instance_id, aggregate_type, aggregate_id, \"sequence\") DO UPDATE SET \
         error = excluded.error, last_failed = excluded.last_failed, failure_count = excluded.failure_count, \
         retry_after = excluded.retry_after",
        p
    );
    let now = time::now_micros();
    let statement = Statement {
        sql,
        binds: vec![
            text(family),
            text(&event.instance_id),
            text(&event.aggregate_type),
            text(&event.aggregate_id),
            int(event.sequence),
            text(&event.event_type),
            text(&event.position),
            int(i64::from(event.in_tx_order)),
            text(error),
            ts(now),
            ts(now),
            int(failure_count),
            ts(now + retry_delay_micros(failure_count)),
        ],
        arrays: Vec::new(),
    };
    tx.execute(&statement).await?;
    Ok(())
}

/// Remove the failure record of an event that has now been applied.
pub async fn clear_failure(tx: &mut Tx, family: &str, event: &Event) -> Result<(), StoreError> {
    let d = tx.dialect();
    let statement = Statement {
        sql: format!(
            "DELETE FROM projector_failed_events WHERE family = {} AND instance_id = {} \
             AND aggregate_type = {} AND aggregate_id = {} AND \"sequence\" = {}",
            ph(d, 1, "TEXT"),
            ph(d, 2, "TEXT"),
            ph(d, 3, "TEXT"),
            ph(d, 4, "TEXT"),
            ph(d, 5, "BIGINT")
        ),
        binds: vec![
            text(family),
            text(&event.instance_id),
            text(&event.aggregate_type),
            text(&event.aggregate_id),
            int(event.sequence),
        ],
        arrays: Vec::new(),
    };
    tx.execute(&statement).await?;
    Ok(())
}

/// A checkpoint row.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Family.
    pub family: String,
    /// Tenant.
    pub instance_id: String,
    /// Position of the last applied event.
    pub position: String,
    /// Its order in its transaction.
    pub in_tx_order: i64,
    /// Its aggregate type.
    pub aggregate_type: String,
    /// Its aggregate id.
    pub aggregate_id: String,
    /// Its sequence.
    pub sequence: i64,
    /// Plugin version that applied it.
    pub plugin_version: String,
    /// Events of this tenant the family consumed (applied, or skipped by an
    /// operator) since the checkpoint was created (a rebuild starts again).
    pub n_consumed: i64,
}

impl Checkpoint {
    /// Whether `event` (of this tenant) comes after the checkpoint.
    pub fn is_before(&self, event: &Event) -> bool {
        TenantKey::of(event) > self.key()
    }

    /// The checkpoint's place in its tenant's order.
    pub fn key(&self) -> TenantKey<'_> {
        TenantKey {
            position: &self.position,
            in_tx_order: self.in_tx_order,
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            sequence: self.sequence,
        }
    }
}

/// A failed-event row.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Identifier for `failed retry` / `failed skip`.
    pub id: i64,
    /// Position of the event.
    pub position: String,
    /// Its order in its transaction.
    pub in_tx_order: i64,
    /// When `run` tries it again (microseconds since the epoch).
    pub retry_after: Option<i64>,
    /// Family.
    pub family: String,
    /// Tenant.
    pub instance_id: String,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Sequence.
    pub sequence: i64,
    /// Event type.
    pub event_type: String,
    /// Error text.
    pub error: String,
    /// How often it failed.
    pub failure_count: i64,
}

/// All checkpoints, by family and tenant.
pub async fn checkpoints(db: &Db) -> Result<Vec<Checkpoint>, StoreError> {
    checkpoints_of(db, None).await
}

/// One family's checkpoints, by tenant.
pub async fn family_checkpoints(db: &Db, family: &str) -> Result<Vec<Checkpoint>, StoreError> {
    checkpoints_of(db, Some(family)).await
}

/// ` WHERE` one family, or all when the bound family is NULL.
fn family_filter(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => " WHERE (?1 IS NULL OR family = ?1)",
        Dialect::Postgres => " WHERE ($1::TEXT IS NULL OR family = $1::TEXT)",
    }
}

fn checkpoints_sql(d: Dialect) -> String {
    let position = match d {
        Dialect::Sqlite => "printf('%.6f', \"position\")",
        Dialect::Postgres => "\"position\"::text",
    };
    format!(
        "SELECT family, instance_id, {position}, CAST(in_tx_order AS BIGINT), aggregate_type, aggregate_id, \
         \"sequence\", plugin_version, CAST(n_consumed AS BIGINT) FROM projector_checkpoints{} \
         ORDER BY family, instance_id",
        family_filter(d)
    )
}

macro_rules! checkpoint_row {
    ($r:ident) => {
        Checkpoint {
            family: $r.try_get(0)?,
            instance_id: $r.try_get(1)?,
            position: $r.try_get(2)?,
            in_tx_order: $r.try_get(3)?,
            aggregate_type: $r.try_get(4)?,
            aggregate_id: $r.try_get(5)?,
            sequence: $r.try_get(6)?,
            plugin_version: $r.try_get(7)?,
            n_consumed: $r.try_get(8)?,
        }
    };
}

async fn checkpoints_of(db: &Db, family: Option<&str>) -> Result<Vec<Checkpoint>, StoreError> {
    let sql = checkpoints_sql(db.dialect());
    Ok(fetch_rows!(
        db,
        &sql,
        binds = [family],
        |r| checkpoint_row!(r)
    ))
}

/// One family's checkpoints, by tenant, read inside a transaction.
pub async fn family_checkpoints_in(
    tx: &mut Tx,
    family: &str,
) -> Result<Vec<Checkpoint>, StoreError> {
    let sql = checkpoints_sql(tx.dialect());
    macro_rules! fetch {
        ($t:expr) => {
            sqlx::query(&sql)
                .bind(family)
                .fetch_all(&mut **$t)
                .await?
                .iter()
                .map(|r| Ok(checkpoint_row!(r)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        };
    }
    Ok(match tx {
        Tx::Sqlite(t) => fetch!(t),
        Tx::Postgres(t) => fetch!(t),
    })
}

/// All failed events.
pub async fn failures(db: &Db) -> Result<Vec<Failure>, StoreError> {
    failures_of(db, None).await
}

/// One family's failed events.
pub async fn family_failures(db: &Db, family: &str) -> Result<Vec<Failure>, StoreError> {
    failures_of(db, Some(family)).await
}

async fn failures_of(db: &Db, family: Option<&str>) -> Result<Vec<Failure>, StoreError> {
    let (id, position, retry) = match db.dialect() {
        Dialect::Sqlite => ("rowid", "printf('%.6f', \"position\")", "retry_after"),
        Dialect::Postgres => (
            "id",
            "\"position\"::text",
            "(EXTRACT(EPOCH FROM retry_after) * 1000000)::bigint::text",
        ),
    };
    let sql = format!(
        "SELECT {id}, family, instance_id, aggregate_type, aggregate_id, \"sequence\", event_type, error, \
         CAST(failure_count AS BIGINT), {position}, CAST(in_tx_order AS BIGINT), {retry} \
         FROM projector_failed_events{} ORDER BY family, instance_id, \"position\", in_tx_order",
        family_filter(db.dialect())
    );
    let dialect = db.dialect();
    let rows = fetch_rows!(db, &sql, binds = [family], |r| {
        let retry: Option<String> = r.try_get(11)?;
        (
            Failure {
                id: r.try_get(0)?,
                family: r.try_get(1)?,
                instance_id: r.try_get(2)?,
                aggregate_type: r.try_get(3)?,
                aggregate_id: r.try_get(4)?,
                sequence: r.try_get(5)?,
                event_type: r.try_get(6)?,
                error: r.try_get(7)?,
                failure_count: r.try_get(8)?,
                position: r.try_get(9)?,
                in_tx_order: r.try_get(10)?,
                retry_after: None,
            },
            retry,
        )
    });
    // A retry time that does not parse is corrupt state, not "due now".
    rows.into_iter()
        .map(|(mut failure, retry)| {
            failure.retry_after = retry
                .map(|t| {
                    match dialect {
                        Dialect::Sqlite => time::parse_rfc3339(&t),
                        Dialect::Postgres => t.parse().ok(),
                    }
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!(
                            "projector_failed_events.retry_after {t:?} of failed event {} is not a time",
                            failure.id
                        ))
                    })
                })
                .transpose()?;
            Ok(failure)
        })
        .collect()
}

/// Make failed events due for another try now (`None`: all of them);
/// returns how many.
pub async fn retry_now(db: &Db, id: Option<i64>) -> Result<u64, StoreError> {
    let d = db.dialect();
    let id_column = if d == Dialect::Sqlite { "rowid" } else { "id" };
    let mut statement = Statement {
        sql: format!(
            "UPDATE projector_failed_events SET retry_after = {}",
            ph(d, 1, "TIMESTAMPTZ")
        ),
        binds: vec![ts(time::now_micros())],
        arrays: Vec::new(),
    };
    if let Some(id) = id {
        statement
            .sql
            .push_str(&format!(" WHERE {id_column} = {}", ph(d, 2, "BIGINT")));
        statement.binds.push(int(id));
    }
    db.execute(&statement).await
}

/// One failed event by its id.
pub async fn failure(db: &Db, id: i64) -> Result<Failure, StoreError> {
    failures(db)
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or(StoreError::NoFailedEvent(id))
}

/// Skip a failed event on purpose: record who skipped it and when, and move
/// the (family, tenant) checkpoint past it, in one transaction. `event` is
/// the failed event as the event store has it (see
/// [`crate::runtime::skip_failed`]).
pub async fn skip(
    db: &Db,
    failure: Failure,
    event: &Event,
    by: &str,
) -> Result<Failure, StoreError> {
    let d = db.dialect();
    let mut tx = db.begin().await?;
    let p = placeholders(
        d,
        1,
        &[
            "TEXT",
            "TEXT",
            "TEXT",
            "TEXT",
            "BIGINT",
            "TEXT",
            "DECIMAL",
            "INTEGER",
            "TEXT",
            "TEXT",
            "TIMESTAMPTZ",
        ],
    );
    let record = Statement {
        sql: format!(
            "INSERT INTO projector_skipped_events (family, instance_id, aggregate_type, aggregate_id, \"sequence\", \
             event_type, \"position\", in_tx_order, error, skipped_by, skipped_at) VALUES ({})",
            p
        ),
        binds: vec![
            text(&failure.family),
            text(&event.instance_id),
            text(&event.aggregate_type),
            text(&event.aggregate_id),
            int(event.sequence),
            text(&event.event_type),
            text(&event.position),
            int(i64::from(event.in_tx_order)),
            text(&failure.error),
            text(by),
            ts(time::now_micros()),
        ],
        arrays: Vec::new(),
    };
    tx.execute(&record).await?;
    clear_failure(&mut tx, &failure.family, event).await?;
    let version = format!("skipped by {by}");
    save_checkpoint(&mut tx, &failure.family, &version, event).await?;
    tx.commit().await?;
    Ok(failure)
}

/// A skipped-event row.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// Family.
    pub family: String,
    /// Tenant.
    pub instance_id: String,
    /// Event type.
    pub event_type: String,
    /// Who skipped it.
    pub skipped_by: String,
    /// Why it had failed.
    pub error: String,
}

/// Every event skipped on purpose.
pub async fn skipped(db: &Db) -> Result<Vec<Skipped>, StoreError> {
    let sql = "SELECT family, instance_id, event_type, skipped_by, error FROM projector_skipped_events ORDER BY id";
    Ok(fetch_rows!(db, sql, |r| {
        Skipped {
            family: r.try_get(0)?,
            instance_id: r.try_get(1)?,
            event_type: r.try_get(2)?,
            skipped_by: r.try_get(3)?,
            error: r.try_get(4)?,
        }
    }))
}
