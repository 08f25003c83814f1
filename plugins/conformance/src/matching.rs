//! Whether an actual cell value, column operation or copy source matches an
//! [`Expected`] value of the case format.

use ::base64::Engine as _;
use ::base64::engine::general_purpose::STANDARD;
use serde_json::Value as Json;

use crate::expect::Expected;
use crate::render;
use projection_sdk::time::parse_rfc3339;
use projection_sdk::{ColumnOp, CopySource, Value};

/// What an actual mutation puts into a column.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Actual<'a> {
    /// A value of an inserted or upserted row.
    Value(&'a Value),
    /// An operation of an update.
    Op(&'a ColumnOp),
    /// A source of a copied column.
    Source(&'a CopySource),
}

impl<'a> Actual<'a> {
    /// The plain value written, if it is one.
    pub(crate) fn plain(self) -> Option<&'a Value> {
        match self {
            Actual::Value(v)
            | Actual::Op(ColumnOp::Set(v))
            | Actual::Source(CopySource::Value(v)) => Some(v),
            _ => None,
        }
    }

    /// Readable text of what is written.
    pub(crate) fn render(self) -> String {
        match self {
            Actual::Value(v) => render::value(v),
            Actual::Op(op) => render::column_op(op),
            Actual::Source(source) => render::copy_source(source),
        }
    }
}

/// Whether `actual` matches `expected`; `created_at` is the event's creation time.
pub(crate) fn matches(expected: &Expected, actual: Actual<'_>, created_at: i64) -> bool {
    match (expected, actual) {
        (Expected::Any, _) => true,
        (Expected::CopyFromColumn(c), Actual::Op(ColumnOp::CopyFrom(from)))
        | (Expected::CopyFromColumn(c), Actual::Source(CopySource::Column(from))) => c == from,
        (Expected::ArrayAppend(e), Actual::Op(ColumnOp::ArrayAppend(v)))
        | (Expected::ArrayRemove(e), Actual::Op(ColumnOp::ArrayRemove(v))) => {
            value_matches(e, v, created_at)
        }
        (Expected::ArrayIntersect(items), Actual::Op(ColumnOp::ArrayIntersect(kept))) => {
            items.len() == kept.len()
                && items
                    .iter()
                    .zip(kept)
                    .all(|(e, k)| matches!(e, Expected::Text(t) if t == k))
        }
        (
            Expected::CopyFromColumn(_)
            | Expected::ArrayAppend(_)
            | Expected::ArrayRemove(_)
            | Expected::ArrayIntersect(_),
            _,
        ) => false,
        (e, a) => a.plain().is_some_and(|v| value_matches(e, v, created_at)),
    }
}

/// Whether a plain value matches `expected`.
pub(crate) fn value_matches(expected: &Expected, actual: &Value, created_at: i64) -> bool {
    match (expected, actual) {
        (Expected::Any, _) => true,
        (Expected::EventCreatedAt, Value::Timestamp(t)) => *t == created_at,
        (Expected::Null, Value::Null) => true,
        (Expected::Bool(b), Value::Boolean(a)) => b == a,
        (Expected::Number(n), Value::Int(a)) => n.as_i64() == Some(*a),
        (Expected::Text(s), Value::Text(a)) => s == a,
        (Expected::Text(s), Value::Timestamp(t)) => parse_rfc3339(s) == Some(*t),
        (Expected::Duration(ns), Value::Interval(a)) => ns == a,
        (Expected::Bytes(b), Value::Bytes(a)) => b == a,
        (Expected::Bytes(b), Value::Json(text)) => same_json_text(b, text.as_bytes()),
        (Expected::Array(items), Value::TextArray(a)) => {
            items.len() == a.len()
                && items
                    .iter()
                    .zip(a)
                    .all(|(e, v)| matches!(e, Expected::Text(t) if t == v))
        }
        (Expected::Array(items), Value::IntArray(a)) => {
            items.len() == a.len()
                && items
                    .iter()
                    .zip(a)
                    .all(|(e, v)| matches!(e, Expected::Number(n) if n.as_i64() == Some(*v)))
        }
        (Expected::Object(_) | Expected::Array(_), Value::Bytes(b)) => {
            serde_json::from_slice::<Json>(b).is_ok_and(|j| json_matches(expected, &j, created_at))
        }
        (_, Value::Json(text)) => {
            serde_json::from_str::<Json>(text).is_ok_and(|j| json_matches(expected, &j, created_at))
        }
        _ => false,
    }
}

/// Whether two byte strings hold the same JSON document.
fn same_json_text(left: &[u8], right: &[u8]) -> bool {
    match (
        serde_json::from_slice::<Json>(left),
        serde_json::from_slice::<Json>(right),
    ) {
        (Ok(l), Ok(r)) => l == r,
        _ => false,
    }
}

/// Whether a JSON document (or a part of one) matches `expected`.
pub(crate) fn json_matches(expected: &Expected, actual: &Json, created_at: i64) -> bool {
    match (expected, actual) {
        (Expected::Any, _) => true,
        (Expected::EventCreatedAt, Json::String(s)) => parse_rfc3339(s) == Some(created_at),
        (Expected::Null, Json::Null) => true,
        (Expected::Bool(b), Json::Bool(a)) => b == a,
        (Expected::Number(n), Json::Number(a)) => {
            n == a || (n.as_f64().is_some() && n.as_f64() == a.as_f64())
        }
        (Expected::Text(s), Json::String(a)) => {
            s == a || parse_rfc3339(s).is_some_and(|t| parse_rfc3339(a) == Some(t))
        }
        (Expected::Duration(ns), Json::Number(a)) => a.as_i64() == Some(*ns),
        (Expected::Bytes(b), other) => {
            let base64_equal =
                matches!(other, Json::String(a) if STANDARD.decode(a).is_ok_and(|d| d == *b));
            base64_equal || serde_json::from_slice::<Json>(b).is_ok_and(|j| j == *other)
        }
        (Expected::Array(items), Json::Array(a)) => {
            items.len() == a.len()
                && items
                    .iter()
                    .zip(a)
                    .all(|(e, v)| json_matches(e, v, created_at))
        }
        (Expected::Object(fields), Json::Object(a)) => {
            fields.len() == a.len()
                && fields
                    .iter()
                    .all(|(key, e)| a.get(key).is_some_and(|v| json_matches(e, v, created_at)))
        }
        _ => false,
    }
}
