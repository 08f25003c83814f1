//! Constants written into SQL text: column defaults and view literals.
//!
//! Everything else a plugin sends is bound as a parameter; defaults and view
//! literals cannot be (DDL has no parameters), so they are rendered here, by
//! one function, in a form that reads the same on every server:
//!
//! - PostgreSQL: text is always an escape string `E'...'` with backslashes
//!   and quotes escaped. An ordinary string `'...'` would mean something else
//!   when `standard_conforming_strings` is off (a backslash escapes), an
//!   escape string does not depend on the setting.
//! - SQLite: quotes doubled; a backslash has no meaning in its strings.
//! - NUL is refused: PostgreSQL text cannot hold it, and SQLite stops reading
//!   a statement at it.
//!
//! Nothing but these forms is produced: `NULL`, integers, booleans, text,
//! JSON (text cast to `jsonb` on PostgreSQL) and empty arrays.

use projection_sdk::{ColumnType, Value};

use super::sql::column_sql_type;
use super::{Dialect, StoreError};

/// A text constant as SQL text.
pub fn text(dialect: Dialect, value: &str) -> Result<String, StoreError> {
    if value.contains('\0') {
        return Err(StoreError::NulInConstant(format!(
            "text constant {value:?}"
        )));
    }
    Ok(match dialect {
        Dialect::Postgres => format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''")),
        Dialect::Sqlite => format!("'{}'", value.replace('\'', "''")),
    })
}

/// A constant as SQL text: a column default (`column` is the column's type)
/// or a view literal (`column` is `None`: only null, integers, booleans and
/// text).
pub fn constant(
    dialect: Dialect,
    value: &Value,
    column: Option<ColumnType>,
) -> Result<String, StoreError> {
    let unsupported = || match column {
        Some(_) => {
            StoreError::BadValue(format!("unsupported column default {}", value.kind_name()))
        }
        None => StoreError::BadValue(format!("a view literal cannot be {}", value.kind_name())),
    };
    Ok(match (value, column) {
        (Value::Null, _) => "NULL".to_owned(),
        (Value::Text(s), _) => text(dialect, s)?,
        (Value::Int(i), _) => i.to_string(),
        (Value::Boolean(b), _) => match (dialect, b) {
            (Dialect::Postgres, true) => "TRUE".to_owned(),
            (Dialect::Postgres, false) => "FALSE".to_owned(),
            (Dialect::Sqlite, true) => "1".to_owned(),
            (Dialect::Sqlite, false) => "0".to_owned(),
        },
        (Value::Json(j), Some(_)) => match dialect {
            Dialect::Postgres => format!("{}::jsonb", text(dialect, j)?),
            Dialect::Sqlite => text(dialect, j)?,
        },
        (Value::TextArray(a), Some(kind)) if a.is_empty() => empty_array(dialect, kind),
        (Value::IntArray(a), Some(kind)) if a.is_empty() => empty_array(dialect, kind),
        _ => return Err(unsupported()),
    })
}

fn empty_array(dialect: Dialect, kind: ColumnType) -> String {
    match dialect {
        Dialect::Postgres => format!("'{{}}'::{}", column_sql_type(dialect, kind)),
        Dialect::Sqlite => "'[]'".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_an_escape_string_on_postgres_and_plain_on_sqlite() {
        let tricky = r"it's \ a $$ \' '' end";
        assert_eq!(
            text(Dialect::Postgres, tricky).unwrap(),
            r"E'it''s \\ a $$ \\'' '''' end'"
        );
        assert_eq!(
            text(Dialect::Sqlite, tricky).unwrap(),
            r"'it''s \ a $$ \'' '''' end'"
        );
        assert_eq!(text(Dialect::Postgres, "").unwrap(), "E''");
    }

    #[test]
    fn nul_is_refused_everywhere() {
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            let err = text(dialect, "a\0b").unwrap_err();
            assert!(matches!(err, StoreError::NulInConstant(_)), "{err}");
            assert!(err.to_string().contains("NUL"), "{err}");
            let json = Value::Json("{\"a\":\"\0\"}".into());
            assert!(constant(dialect, &json, Some(ColumnType::Json)).is_err());
        }
    }

    #[test]
    fn views_take_only_plain_constants() {
        let json = Value::Json("{}".into());
        let err = constant(Dialect::Postgres, &json, None).unwrap_err();
        assert!(
            err.to_string().contains("a view literal cannot be json"),
            "{err}"
        );
        assert_eq!(
            constant(Dialect::Postgres, &json, Some(ColumnType::Json)).unwrap(),
            "E'{}'::jsonb"
        );
        assert_eq!(
            constant(
                Dialect::Postgres,
                &Value::TextArray(vec![]),
                Some(ColumnType::TextArray)
            )
            .unwrap(),
            "'{}'::TEXT[]"
        );
        assert_eq!(
            constant(Dialect::Sqlite, &Value::Boolean(true), None).unwrap(),
            "1"
        );
    }
}
