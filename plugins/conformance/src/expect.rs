//! The expected side of a case: effects and the value encodings of the
//! case format.

use std::collections::BTreeMap;
use std::fmt;

use ::base64::Engine as _;
use ::base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer};
use serde_json::Value as Json;

/// The kind of an expected effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Insert one row.
    Insert,
    /// Insert, or update on conflict.
    Upsert,
    /// Update rows.
    Update,
    /// Delete rows.
    Delete,
    /// Insert rows selected from the same table, upserting.
    Copy,
    /// The event must produce no mutation.
    Noop,
    /// The event must be rejected with an error.
    Error,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Insert => "insert",
            Op::Upsert => "upsert",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Copy => "copy",
            Op::Noop => "noop",
            Op::Error => "error",
        })
    }
}

/// One expected row mutation (or `noop` / `error`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Effect {
    /// What kind of mutation.
    pub op: Op,
    /// The table written (absent for `noop` and `error`).
    #[serde(default)]
    pub table: Option<String>,
    /// Columns written and their expected values.
    #[serde(default)]
    pub values: BTreeMap<String, Expected>,
    /// Equality conditions: column and expected value.
    #[serde(default, rename = "where")]
    pub where_: BTreeMap<String, Expected>,
    /// Conditions other than equality.
    #[serde(default)]
    pub conditions: Vec<ExpectedCondition>,
    /// Conflict columns of an upsert or copy.
    #[serde(default)]
    pub conflict: Option<Vec<String>>,
    /// Columns an upsert keeps when the row exists.
    #[serde(default)]
    pub keep_on_conflict: Option<Vec<String>>,
}

/// A condition other than equality, e.g. `password_checked_at < created_at`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ExpectedCondition {
    /// Column compared.
    pub column: String,
    /// Operator.
    pub op: ConditionOp,
    /// The value compared with (unused for the null tests).
    #[serde(default = "Expected::null")]
    pub value: Expected,
}

/// Operators of [`ExpectedCondition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    /// `=`.
    Eq,
    /// `<>`.
    #[serde(alias = "ne", alias = "neq")]
    NotEq,
    /// `<`.
    Lt,
    /// The array column contains the value.
    ArrayContains,
    /// `IS NULL`.
    IsNull,
    /// `IS NOT NULL`.
    IsNotNull,
}

impl fmt::Display for ConditionOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConditionOp::Eq => "=",
            ConditionOp::NotEq => "<>",
            ConditionOp::Lt => "<",
            ConditionOp::ArrayContains => "contains",
            ConditionOp::IsNull => "IS NULL",
            ConditionOp::IsNotNull => "IS NOT NULL",
        })
    }
}

/// An expected cell value or column operation, in the case format's encoding.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// `{"any": true}`: any value.
    Any,
    /// `{"event_created_at": true}`: the event's creation time.
    EventCreatedAt,
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (integers, enums).
    Number(serde_json::Number),
    /// A string: text, or a timestamp when it is RFC 3339.
    Text(String),
    /// A JSON array (text or integer arrays).
    Array(Vec<Expected>),
    /// Any other JSON object, e.g. an encrypted value, stored as JSON.
    Object(BTreeMap<String, Expected>),
    /// `{"bytes_b64": ".."}`: bytes, often JSON in a jsonb column.
    Bytes(Vec<u8>),
    /// `{"duration_ns": N}`: an interval.
    Duration(i64),
    /// `{"copy_from_column": "c"}`: column `c` of the existing row.
    CopyFromColumn(String),
    /// `{"array_append": v}`.
    ArrayAppend(Box<Expected>),
    /// `{"array_remove": v}`.
    ArrayRemove(Box<Expected>),
    /// `{"array_intersect": [..]}`: keep only these elements.
    ArrayIntersect(Vec<Expected>),
}

impl Expected {
    fn null() -> Expected {
        Expected::Null
    }

    /// Read the case format's encoding of a value.
    pub fn from_json(json: &Json) -> Result<Expected, String> {
        Ok(match json {
            Json::Null => Expected::Null,
            Json::Bool(b) => Expected::Bool(*b),
            Json::Number(n) => Expected::Number(n.clone()),
            Json::String(s) => Expected::Text(s.clone()),
            Json::Array(items) => Expected::Array(from_items(items)?),
            Json::Object(map) => {
                if let Some((key, value)) = single_entry(map)
                    && let Some(marker) = marker(key, value)?
                {
                    return Ok(marker);
                }
                let mut fields = BTreeMap::new();
                for (key, value) in map {
                    fields.insert(key.clone(), Expected::from_json(value)?);
                }
                Expected::Object(fields)
            }
        })
    }
}

fn from_items(items: &[Json]) -> Result<Vec<Expected>, String> {
    items.iter().map(Expected::from_json).collect()
}

fn single_entry(map: &serde_json::Map<String, Json>) -> Option<(&str, &Json)> {
    let mut entries = map.iter();
    match (entries.next(), entries.next()) {
        (Some((key, value)), None) => Some((key.as_str(), value)),
        _ => None,
    }
}

/// The marker object `{key: value}`, or `None` when `key` is no marker.
fn marker(key: &str, value: &Json) -> Result<Option<Expected>, String> {
    let expected = match (key, value) {
        ("any", Json::Bool(true)) => Expected::Any,
        ("event_created_at", Json::Bool(true)) => Expected::EventCreatedAt,
        ("bytes_b64", Json::String(text)) => Expected::Bytes(
            STANDARD
                .decode(text)
                .map_err(|e| format!("bytes_b64 {text:?} is not base64: {e}"))?,
        ),
        ("duration_ns", n) => Expected::Duration(
            n.as_i64()
                .ok_or_else(|| format!("duration_ns {n} is not an integer"))?,
        ),
        ("copy_from_column", Json::String(column)) => Expected::CopyFromColumn(column.clone()),
        ("array_append", v) => Expected::ArrayAppend(Box::new(Expected::from_json(v)?)),
        ("array_remove", v) => Expected::ArrayRemove(Box::new(Expected::from_json(v)?)),
        ("array_intersect", Json::Array(items)) => Expected::ArrayIntersect(from_items(items)?),
        (
            "any" | "event_created_at" | "bytes_b64" | "copy_from_column" | "array_intersect",
            other,
        ) => return Err(format!("malformed {{{key:?}: {other}}}")),
        _ => return Ok(None),
    };
    Ok(Some(expected))
}

impl<'de> Deserialize<'de> for Expected {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = Json::deserialize(deserializer)?;
        Expected::from_json(&json).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Any => f.write_str("<any>"),
            Expected::EventCreatedAt => f.write_str("<the event's created_at>"),
            Expected::Null => f.write_str("null"),
            Expected::Bool(b) => write!(f, "{b}"),
            Expected::Number(n) => write!(f, "{n}"),
            Expected::Text(s) => write!(f, "{s:?}"),
            Expected::Array(items) => write_list(f, "[", items, "]"),
            Expected::Object(fields) => {
                f.write_str("{")?;
                for (idx, (key, value)) in fields.iter().enumerate() {
                    let sep = if idx == 0 { "" } else { ", " };
                    write!(f, "{sep}{key:?}: {value}")?;
                }
                f.write_str("}")
            }
            Expected::Bytes(bytes) => f.write_str(&crate::render::bytes(bytes)),
            Expected::Duration(ns) => write!(f, "interval {ns}ns"),
            Expected::CopyFromColumn(column) => write!(f, "copy of column {column}"),
            Expected::ArrayAppend(v) => write!(f, "append {v}"),
            Expected::ArrayRemove(v) => write!(f, "remove {v}"),
            Expected::ArrayIntersect(items) => write_list(f, "keep only [", items, "]"),
        }
    }
}

fn write_list(
    f: &mut fmt::Formatter<'_>,
    open: &str,
    items: &[Expected],
    close: &str,
) -> fmt::Result {
    f.write_str(open)?;
    for (idx, item) in items.iter().enumerate() {
        let sep = if idx == 0 { "" } else { ", " };
        write!(f, "{sep}{item}")?;
    }
    f.write_str(close)
}
