//! Read a declared table back as JSON rows in one canonical form on both
//! dialects, ordered by primary key: for display and for comparing stores.
//!
//! Canonical values: timestamps as RFC 3339 text with microseconds, intervals
//! as integer nanoseconds, JSON as parsed JSON, bytes as base64 text, arrays
//! as JSON arrays, booleans as booleans.

use projection_sdk::{ColumnType, Description, Table};
use serde_json::{Map, Value as Json};
use sqlx::Row;

use super::sql::quote;
use super::{Db, Dialect, StoreError};

/// One row: column name to canonical value.
pub type JsonRow = Map<String, Json>;

fn select_expr(dialect: Dialect, name: &str, kind: ColumnType) -> Result<String, StoreError> {
    Ok(text_of(dialect, &quote(name)?, kind))
}

/// The SQL expression `col` (a column, possibly qualified) as text, in the
/// canonical form of its kind.
pub(super) fn text_of(dialect: Dialect, col: &str, kind: ColumnType) -> String {
    match (dialect, kind) {
        (Dialect::Postgres, ColumnType::Timestamp) => {
            format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
        }
        (Dialect::Postgres, ColumnType::Interval) => {
            format!("(EXTRACT(EPOCH FROM {col}) * 1000000000)::bigint::text")
        }
        (Dialect::Postgres, ColumnType::Bytes) => {
            format!("translate(encode({col}, 'base64'), E'\\n', '')")
        }
        (
            Dialect::Postgres,
            ColumnType::TextArray
            | ColumnType::SmallIntArray
            | ColumnType::IntArray
            | ColumnType::Json,
        ) => {
            format!("to_jsonb({col})::text")
        }
        (Dialect::Postgres, ColumnType::Boolean) => {
            format!("CASE WHEN {col} THEN 'true' WHEN NOT {col} THEN 'false' END")
        }
        (Dialect::Postgres, _) => format!("{col}::text"),
        (Dialect::Sqlite, ColumnType::Bytes) => {
            format!("CASE WHEN {col} IS NULL THEN NULL ELSE hex({col}) END")
        }
        (Dialect::Sqlite, ColumnType::Boolean) => {
            format!("CASE WHEN {col} THEN 'true' WHEN NOT {col} THEN 'false' END")
        }
        (Dialect::Sqlite, _) => format!("CAST({col} AS TEXT)"),
    }
}

fn canonical(dialect: Dialect, kind: ColumnType, text: Option<String>) -> Result<Json, StoreError> {
    let Some(text) = text else {
        return Ok(Json::Null);
    };
    let parse = |t: &str| {
        serde_json::from_str::<Json>(t).map_err(|e| StoreError::Corrupt(format!("{t:?}: {e}")))
    };
    Ok(match kind {
        ColumnType::Text | ColumnType::Timestamp => Json::String(text),
        ColumnType::SmallInt | ColumnType::Int | ColumnType::Interval | ColumnType::Boolean => {
            parse(&text)?
        }
        ColumnType::Json
        | ColumnType::TextArray
        | ColumnType::SmallIntArray
        | ColumnType::IntArray => {
            // serde_json's map sorts keys, as PostgreSQL's jsonb does.
            parse(&text)?
        }
        ColumnType::Bytes => match dialect {
            Dialect::Postgres => Json::String(text),
            Dialect::Sqlite => Json::String(hex_to_base64(&text)?),
        },
    })
}

fn hex_to_base64(hex: &str) -> Result<String, StoreError> {
    use base64::Engine as _;
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| StoreError::Corrupt(format!("bad hex {hex:?}")))
        })
        .collect::<Result<Vec<u8>, _>>()?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The family's tables, then its views as table shapes (every column
/// nullable, ordered by all columns): everything `dump_table` can read.
pub fn relations(description: &Description) -> Result<Vec<Table>, StoreError> {
    let mut relations = description.tables.clone();
    for view in &description.views {
        relations.push(projection_sdk::view_shape(description, view)?);
    }
    Ok(relations)
}

/// All rows of `table` (or of a view's shape), ordered by primary key.
pub async fn dump_table(db: &Db, table: &Table) -> Result<Vec<JsonRow>, StoreError> {
    let dialect = db.dialect();
    let exprs = table
        .columns
        .iter()
        .map(|c| select_expr(dialect, &c.name, c.kind))
        .collect::<Result<Vec<_>, _>>()?;
    let order = table
        .primary_key
        .iter()
        .map(|c| quote(c))
        .collect::<Result<Vec<_>, _>>()?;
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        exprs.join(", "),
        quote(&table.name)?,
        order.join(", ")
    );
    let texts: Vec<Vec<Option<String>>> = match db {
        Db::Sqlite(pool) => sqlx::query(&sql)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| (0..table.columns.len()).map(|i| r.try_get(i)).collect())
            .collect::<Result<_, sqlx::Error>>()?,
        Db::Postgres(pool) => sqlx::query(&sql)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| (0..table.columns.len()).map(|i| r.try_get(i)).collect())
            .collect::<Result<_, sqlx::Error>>()?,
    };
    let mut rows = texts
        .into_iter()
        .map(|row| {
            let mut map = Map::new();
            for (column, text) in table.columns.iter().zip(row) {
                map.insert(column.name.clone(), canonical(dialect, column.kind, text)?);
            }
            Ok(map)
        })
        .collect::<Result<Vec<JsonRow>, StoreError>>()?;
    // Collations differ between stores: order by the key's values byte-wise.
    let key = |row: &JsonRow| -> Vec<String> {
        table
            .primary_key
            .iter()
            .map(|c| row.get(c).map(Json::to_string).unwrap_or_default())
            .collect()
    };
    rows.sort_by_key(key);
    Ok(rows)
}
