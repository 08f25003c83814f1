//! The host's own state: installed families, checkpoints and failed events.
//!
//! Checkpoints and failures are written inside the batch's transaction, so
//! they commit or vanish together with the rows they describe.

use projection_sdk::{ColumnType, Description, Event, Value};
use sqlx::Row;

use super::{Db, Dialect, Statement, StoreError, Tx};
use crate::time;

/// One placeholder: `?` on SQLite, `$n::cast` on PostgreSQL.
pub fn ph(dialect: Dialect, n: usize, pg_cast: &str) -> String {
    match dialect {
        Dialect::Sqlite => "?".to_owned(),
        Dialect::Postgres => format!("${n}::{pg_cast}"),
    }
}

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
    };
    tx.execute(&statement).await?;
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

/// Move the (family, tenant) checkpoint to `event`.
pub async fn save_checkpoint(
    tx: &mut Tx,
    family: &str,
    version: &str,
    event: &Event,
) -> Result<(), StoreError> {
    let d = tx.dialect();
    let p: Vec<String> = [
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
    ]
    .iter()
    .enumerate()
    .map(|(i, cast)| ph(d, i + 1, cast))
    .collect();
    let sql = format!(
        "INSERT INTO projector_checkpoints (family, instance_id, \"position\", in_tx_order, aggregate_type, \
         aggregate_id, \"sequence\", event_date, plugin_version, updated_at) VALUES ({}) \
         ON CONFLICT (family, instance_id) DO UPDATE SET \"position\" = excluded.\"position\", \
         in_tx_order = excluded.in_tx_order, aggregate_type = excluded.aggregate_type, \
         aggregate_id = excluded.aggregate_id, \"sequence\" = excluded.\"sequence\", \
         event_date = excluded.event_date, plugin_version = excluded.plugin_version, \
         updated_at = excluded.updated_at",
        p.join(", ")
    );
    let statement = Statement {
        sql,
        binds: vec![
            text(family),
            text(&event.instance_id),
            text(&event.position),
            int(i64::from(event.in_tx_order)),
            text(&event.aggregate_type),
            text(&event.aggregate_id),
            int(event.sequence),
            ts(event.created_at),
            text(version),
            ts(time::now_micros()),
        ],
    };
    tx.execute(&statement).await?;
    Ok(())
}

/// Record (or count again) a failed event of a family.
pub async fn record_failure(
    tx: &mut Tx,
    family: &str,
    event: &Event,
    error: &str,
) -> Result<(), StoreError> {
    let d = tx.dialect();
    let p: Vec<String> = [
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
    ]
    .iter()
    .enumerate()
    .map(|(i, cast)| ph(d, i + 1, cast))
    .collect();
    let sql = format!(
        "INSERT INTO projector_failed_events (family, instance_id, aggregate_type, aggregate_id, \"sequence\", \
         event_type, \"position\", in_tx_order, error, first_failed, last_failed, failure_count) VALUES ({}, 1) \
         ON CONFLICT (family, instance_id, aggregate_type, aggregate_id, \"sequence\") DO UPDATE SET \
         error = excluded.error, last_failed = excluded.last_failed, \
         failure_count = projector_failed_events.failure_count + 1",
        p.join(", ")
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
        ],
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
    /// Plugin version that applied it.
    pub plugin_version: String,
}

/// A failed-event row.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
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
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT family, instance_id, printf('%.6f', \"position\") AS position, in_tx_order, plugin_version FROM projector_checkpoints ORDER BY family, instance_id"
        }
        Dialect::Postgres => {
            "SELECT family, instance_id, \"position\"::text AS position, in_tx_order::bigint AS in_tx_order, plugin_version FROM projector_checkpoints ORDER BY family, instance_id"
        }
    };
    let map = |family, instance_id, position, in_tx_order, plugin_version| Checkpoint {
        family,
        instance_id,
        position,
        in_tx_order,
        plugin_version,
    };
    Ok(match db {
        Db::Sqlite(pool) => sqlx::query(sql)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(map(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?,
        Db::Postgres(pool) => sqlx::query(sql)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(map(
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                ))
            })
            .collect::<Result<_, sqlx::Error>>()?,
    })
}

/// All failed events.
pub async fn failures(db: &Db) -> Result<Vec<Failure>, StoreError> {
    let sql = "SELECT family, instance_id, aggregate_type, aggregate_id, \"sequence\", event_type, error, \
               CAST(failure_count AS BIGINT) FROM projector_failed_events \
               ORDER BY family, instance_id, \"position\", in_tx_order";
    macro_rules! rows {
        ($pool:expr) => {
            sqlx::query(sql)
                .fetch_all($pool)
                .await?
                .iter()
                .map(|r| {
                    Ok(Failure {
                        family: r.try_get(0)?,
                        instance_id: r.try_get(1)?,
                        aggregate_type: r.try_get(2)?,
                        aggregate_id: r.try_get(3)?,
                        sequence: r.try_get(4)?,
                        event_type: r.try_get(5)?,
                        error: r.try_get(6)?,
                        failure_count: r.try_get(7)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        };
    }
    Ok(match db {
        Db::Sqlite(pool) => rows!(pool),
        Db::Postgres(pool) => rows!(pool),
    })
}
