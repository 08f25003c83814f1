//! Bind contract values to statements, per dialect.
//!
//! PostgreSQL gets native types (the SQL carries a cast per placeholder);
//! SQLite stores timestamps as RFC 3339 text, arrays as JSON text, intervals
//! as integer nanoseconds and booleans as 0/1.

use projection_sdk::{ColumnType, Value};
use sqlx::postgres::PgArguments;
use sqlx::postgres::types::PgInterval;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{Postgres, Sqlite};

use super::sql::ColumnArray;
use super::{Dialect, StoreError};
use crate::time;

/// One placeholder: `?` on SQLite, `$n::cast` on PostgreSQL. Every
/// placeholder the host writes comes from here.
pub fn ph(dialect: Dialect, n: usize, pg_cast: &str) -> String {
    match dialect {
        Dialect::Sqlite => "?".to_owned(),
        Dialect::Postgres => format!("${n}::{pg_cast}"),
    }
}

/// Placeholders numbered from `first`, one per cast, joined with commas.
pub fn placeholders(dialect: Dialect, first: usize, casts: &[&str]) -> String {
    casts
        .iter()
        .enumerate()
        .map(|(i, cast)| ph(dialect, first + i, cast))
        .collect::<Vec<_>>()
        .join(", ")
}

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;
type SqliteQuery<'q> = Query<'q, Sqlite, SqliteArguments<'q>>;

fn timestamp(micros: i64) -> Result<chrono::DateTime<chrono::Utc>, StoreError> {
    time::from_micros(micros)
        .ok_or_else(|| StoreError::BadValue(format!("time {micros} out of range")))
}

/// Bind values to a PostgreSQL query.
///
/// Each parameter's type comes from the column it meets, never from the
/// value: a statement is prepared once per connection and cached by its
/// text, and PostgreSQL keeps the parameter types of that first use. A NULL
/// bound as text and a boolean bound later to the same placeholder would
/// send the boolean's bytes to a text parameter. So a NULL is bound with its
/// column's type, and a value of another type than its column is refused.
pub fn postgres<'q>(
    mut query: PgQuery<'q>,
    binds: &[(Value, ColumnType)],
) -> Result<PgQuery<'q>, StoreError> {
    for (value, kind) in binds {
        if !kind.accepts(value) {
            return Err(mismatch(*kind, value));
        }
        query = match value {
            Value::Null => postgres_null(query, *kind),
            Value::Text(s) | Value::Json(s) => query.bind(s.clone()),
            Value::Int(i) => query.bind(*i),
            Value::Boolean(b) => query.bind(*b),
            Value::Timestamp(t) => query.bind(timestamp(*t)?),
            Value::Interval(nanos) => query.bind(interval(*nanos)),
            Value::Bytes(b) => query.bind(b.clone()),
            Value::TextArray(a) => query.bind(a.clone()),
            Value::IntArray(a) => query.bind(a.clone()),
        };
    }
    Ok(query)
}

/// A NULL of the Rust type that [`postgres`] binds for values of `kind`, so
/// that the parameter's type is the same whether the value is NULL or not.
fn postgres_null(query: PgQuery<'_>, kind: ColumnType) -> PgQuery<'_> {
    match kind {
        ColumnType::Text | ColumnType::Json => query.bind(None::<String>),
        ColumnType::SmallInt | ColumnType::Int => query.bind(None::<i64>),
        ColumnType::Boolean => query.bind(None::<bool>),
        ColumnType::Timestamp => query.bind(None::<chrono::DateTime<chrono::Utc>>),
        ColumnType::Interval => query.bind(None::<PgInterval>),
        ColumnType::Bytes => query.bind(None::<Vec<u8>>),
        ColumnType::TextArray => query.bind(None::<Vec<String>>),
        ColumnType::SmallIntArray | ColumnType::IntArray => query.bind(None::<Vec<i64>>),
    }
}

fn interval(nanos: i64) -> PgInterval {
    PgInterval {
        months: 0,
        days: 0,
        microseconds: nanos / 1000,
    }
}

fn mismatch(kind: ColumnType, value: &Value) -> StoreError {
    StoreError::BadValue(format!(
        "a {} value in a {kind:?} column",
        value.kind_name()
    ))
}

/// Bind whole columns as PostgreSQL arrays (see [`ColumnArray`]), in order.
pub fn postgres_arrays<'q>(
    mut query: PgQuery<'q>,
    arrays: &[ColumnArray],
) -> Result<PgQuery<'q>, StoreError> {
    fn collect<T>(
        column: &ColumnArray,
        pick: impl Fn(&Value) -> Result<Option<T>, StoreError>,
    ) -> Result<Vec<Option<T>>, StoreError> {
        column
            .values
            .iter()
            .map(|value| {
                if column.kind.accepts(value) {
                    pick(value)
                } else {
                    Err(mismatch(column.kind, value))
                }
            })
            .collect()
    }
    let wrong = |column: &ColumnArray, value: &Value| mismatch(column.kind, value);
    for column in arrays {
        query = match column.kind {
            ColumnType::Text | ColumnType::Json => query.bind(collect(column, |v| match v {
                Value::Null => Ok(None),
                Value::Text(s) | Value::Json(s) => Ok(Some(s.clone())),
                other => Err(wrong(column, other)),
            })?),
            ColumnType::SmallInt | ColumnType::Int | ColumnType::Interval => {
                query.bind(collect(column, |v| match v {
                    Value::Null => Ok(None),
                    Value::Int(i) | Value::Interval(i) => Ok(Some(*i)),
                    other => Err(wrong(column, other)),
                })?)
            }
            ColumnType::Boolean => query.bind(collect(column, |v| match v {
                Value::Null => Ok(None),
                Value::Boolean(b) => Ok(Some(*b)),
                other => Err(wrong(column, other)),
            })?),
            ColumnType::Timestamp => query.bind(collect(column, |v| match v {
                Value::Null => Ok(None),
                Value::Timestamp(t) => timestamp(*t).map(Some),
                other => Err(wrong(column, other)),
            })?),
            ColumnType::Bytes => query.bind(collect(column, |v| match v {
                Value::Null => Ok(None),
                Value::Bytes(b) => Ok(Some(b.clone())),
                other => Err(wrong(column, other)),
            })?),
            ColumnType::TextArray | ColumnType::SmallIntArray | ColumnType::IntArray => {
                return Err(StoreError::BadValue(format!(
                    "{:?} columns cannot be bound as one array",
                    column.kind
                )));
            }
        };
    }
    Ok(query)
}

/// Bind values to a SQLite query.
pub fn sqlite<'q>(
    mut query: SqliteQuery<'q>,
    binds: &[(Value, ColumnType)],
) -> Result<SqliteQuery<'q>, StoreError> {
    for (value, _kind) in binds {
        query = match value {
            Value::Null => query.bind(None::<String>),
            Value::Text(s) | Value::Json(s) => query.bind(s.clone()),
            Value::Int(i) | Value::Interval(i) => query.bind(*i),
            Value::Boolean(b) => query.bind(*b),
            Value::Timestamp(t) => query.bind(time::format_micros(*t)),
            Value::Bytes(b) => query.bind(b.clone()),
            Value::TextArray(a) => query.bind(json_text(a)?),
            Value::IntArray(a) => query.bind(json_text(a)?),
        };
    }
    Ok(query)
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::BadValue(e.to_string()))
}
