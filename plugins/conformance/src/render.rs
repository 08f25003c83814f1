//! Human-readable text of values, mutations and expected effects for diffs.

use std::collections::BTreeMap;

use ::base64::Engine as _;
use ::base64::engine::general_purpose::STANDARD;

use crate::expect::{Effect, Expected};
use projection_sdk::time::format_rfc3339;
use projection_sdk::{ColumnOp, CompareOp, Condition, CopySource, Mutation, Predicate, Value};

/// Bytes as text when they are UTF-8, else as base64.
pub(crate) fn bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => format!("bytes {text:?}"),
        Err(_) => format!("bytes (base64) {}", STANDARD.encode(bytes)),
    }
}

/// A cell value, with its kind where that matters.
pub(crate) fn value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Text(s) => format!("{s:?}"),
        Value::Int(n) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Timestamp(t) => format!("timestamp {}", format_rfc3339(*t)),
        Value::Interval(ns) => format!("interval {ns}ns"),
        Value::Bytes(b) => bytes(b),
        Value::Json(text) => format!("json {text}"),
        Value::TextArray(items) => format!("{items:?}"),
        Value::IntArray(items) => format!("{items:?}"),
    }
}

/// A column operation of an update.
pub(crate) fn column_op(op: &ColumnOp) -> String {
    match op {
        ColumnOp::Set(v) => value(v),
        ColumnOp::ArrayAppend(v) => format!("append {}", value(v)),
        ColumnOp::ArrayRemove(v) => format!("remove {}", value(v)),
        ColumnOp::ArrayIntersect(items) => format!("keep only {items:?}"),
        ColumnOp::Increment(n) => format!("increment by {n}"),
        ColumnOp::CopyFrom(column) => format!("copy of column {column}"),
    }
}

/// The source of a copied column.
pub(crate) fn copy_source(source: &CopySource) -> String {
    match source {
        CopySource::Column(column) => format!("copy of column {column}"),
        CopySource::Value(v) => value(v),
    }
}

/// One predicate.
pub(crate) fn predicate(predicate: &Predicate) -> String {
    match predicate {
        Predicate::Compare {
            column,
            op,
            value: v,
        } => {
            let op = match op {
                CompareOp::Eq => "=",
                CompareOp::NotEq => "<>",
                CompareOp::Lt => "<",
                CompareOp::ArrayContains => "contains",
            };
            format!("{column} {op} {}", value(v))
        }
        Predicate::IsNull(column) => format!("{column} IS NULL"),
        Predicate::IsNotNull(column) => format!("{column} IS NOT NULL"),
        Predicate::OneOf { column, values } => {
            let values: Vec<String> = values.iter().map(value).collect();
            format!("{column} IN ({})", values.join(", "))
        }
    }
}

/// One condition.
pub(crate) fn condition(condition: &Condition) -> String {
    match condition {
        Condition::All(p) => predicate(p),
        Condition::AnyOf(ps) => format!("any of ({})", predicates(ps)),
        Condition::NoneOf(ps) => format!("none of ({})", predicates(ps)),
    }
}

fn predicates(ps: &[Predicate]) -> String {
    ps.iter().map(predicate).collect::<Vec<_>>().join("; ")
}

/// A block of lines: a header and `label: item, item` lines.
///
/// Items wrap onto further lines, so wide rows stay readable in a terminal.
fn block(header: String, parts: &[(&str, Vec<String>)]) -> String {
    const WIDTH: usize = 100;
    let mut out = header;
    for (label, items) in parts {
        let mut line = String::new();
        for (idx, item) in items.iter().enumerate() {
            if idx == 0 {
                line = format!("   {label:<9}{item}");
            } else if line.len() + item.len() + 2 > WIDTH {
                out.push('\n');
                out.push_str(&line);
                line = format!("{:12}{item}", "");
            } else {
                line.push_str(", ");
                line.push_str(item);
            }
        }
        if !line.is_empty() {
            out.push('\n');
            out.push_str(&line);
        }
    }
    out
}

/// An actual mutation, over several lines.
pub(crate) fn mutation(m: &Mutation) -> String {
    let cells = |mut pairs: Vec<(&String, String)>| -> Vec<String> {
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        pairs
            .into_iter()
            .map(|(c, v)| format!("{c} = {v}"))
            .collect()
    };
    let conds = |cs: &[Condition]| cs.iter().map(condition).collect::<Vec<_>>();
    match m {
        Mutation::Insert { table, values, .. } => block(
            format!("insert {table}"),
            &[(
                "values",
                cells(
                    values
                        .iter()
                        .map(|c| (&c.column, value(&c.value)))
                        .collect(),
                ),
            )],
        ),
        Mutation::Upsert {
            table,
            values,
            conflict,
            keep_on_conflict,
            ..
        } => block(
            format!("upsert {table}"),
            &[
                (
                    "values",
                    cells(
                        values
                            .iter()
                            .map(|c| (&c.column, value(&c.value)))
                            .collect(),
                    ),
                ),
                ("conflict", conflict.clone()),
                ("keep", keep_on_conflict.clone()),
            ],
        ),
        Mutation::Update {
            table,
            set,
            conditions,
            ..
        } => block(
            format!("update {table}"),
            &[
                (
                    "set",
                    cells(set.iter().map(|a| (&a.column, column_op(&a.op))).collect()),
                ),
                ("where", conds(conditions)),
            ],
        ),
        Mutation::Delete { table, conditions } => {
            block(format!("delete {table}"), &[("where", conds(conditions))])
        }
        Mutation::Copy {
            table,
            source_table,
            columns,
            conditions,
            conflict,
            ..
        } => block(
            format!("copy into {table} from {source_table}"),
            &[
                (
                    "columns",
                    cells(
                        columns
                            .iter()
                            .map(|c| (&c.column, copy_source(&c.source)))
                            .collect(),
                    ),
                ),
                ("where", conds(conditions)),
                ("conflict", conflict.clone()),
            ],
        ),
    }
}

/// An expected effect, over several lines.
pub(crate) fn effect(e: &Effect) -> String {
    let pairs = |map: &BTreeMap<String, Expected>, op: &str| -> Vec<String> {
        map.iter().map(|(c, v)| format!("{c} {op} {v}")).collect()
    };
    let mut conditions = pairs(&e.where_, "=");
    conditions.extend(
        e.conditions
            .iter()
            .map(|c| format!("{} {} {}", c.column, c.op, c.value)),
    );
    let header = match &e.table {
        Some(table) => format!("{} {table}", e.op),
        None => e.op.to_string(),
    };
    block(
        header,
        &[
            ("values", pairs(&e.values, "=")),
            ("where", conditions),
            ("conflict", e.conflict.clone().unwrap_or_default()),
            ("keep", e.keep_on_conflict.clone().unwrap_or_default()),
        ],
    )
}
