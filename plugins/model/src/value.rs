//! Cell values and column types.

use serde::{Deserialize, Serialize};

/// A typed cell value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Text.
    Text(String),
    /// An integer (SMALLINT or BIGINT column).
    Int(i64),
    /// A boolean.
    Boolean(bool),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// A duration in nanoseconds.
    Interval(i64),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A JSON document as JSON text.
    Json(String),
    /// An array of text.
    TextArray(Vec<String>),
    /// An array of integers.
    IntArray(Vec<i64>),
}

impl Value {
    /// A short name of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Text(_) => "text",
            Value::Int(_) => "int",
            Value::Boolean(_) => "boolean",
            Value::Timestamp(_) => "timestamp",
            Value::Interval(_) => "interval",
            Value::Bytes(_) => "bytes",
            Value::Json(_) => "json",
            Value::TextArray(_) => "text array",
            Value::IntArray(_) => "int array",
        }
    }

    /// A JSON value, stored as its JSON text.
    pub fn json(value: &serde_json::Value) -> Value {
        Value::Json(value.to_string())
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Boolean(v)
    }
}
impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::TextArray(v)
    }
}
impl From<Vec<i64>> for Value {
    fn from(v: Vec<i64>) -> Self {
        Value::IntArray(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The SQL type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// TEXT.
    Text,
    /// SMALLINT (enums).
    SmallInt,
    /// BIGINT.
    Int,
    /// BOOLEAN.
    Boolean,
    /// TIMESTAMPTZ.
    Timestamp,
    /// INTERVAL.
    Interval,
    /// BYTEA.
    Bytes,
    /// JSONB.
    Json,
    /// TEXT[].
    TextArray,
    /// SMALLINT[].
    SmallIntArray,
    /// BIGINT[].
    IntArray,
}

impl ColumnType {
    /// Whether a value fits a column of this type (NULL is checked separately).
    pub fn accepts(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (_, Value::Null)
                | (ColumnType::Text, Value::Text(_))
                | (ColumnType::SmallInt | ColumnType::Int, Value::Int(_))
                | (ColumnType::Boolean, Value::Boolean(_))
                | (ColumnType::Timestamp, Value::Timestamp(_))
                | (ColumnType::Interval, Value::Interval(_))
                | (ColumnType::Bytes, Value::Bytes(_))
                | (ColumnType::Json, Value::Json(_))
                | (ColumnType::TextArray, Value::TextArray(_))
                | (
                    ColumnType::SmallIntArray | ColumnType::IntArray,
                    Value::IntArray(_)
                )
        )
    }

    /// Whether the type is an array.
    pub fn is_array(self) -> bool {
        matches!(
            self,
            ColumnType::TextArray | ColumnType::SmallIntArray | ColumnType::IntArray
        )
    }
}
