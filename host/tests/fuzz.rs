//! Fuzz targets for what reaches the host from outside: JSON-lines event
//! imports (`source::import::parse`) and a plugin's output as the WIT types
//! (`plugin::convert`).
//!
//! Each target is an ordinary test driven by random structured input: bytes
//! from a seeded PRNG read through `arbitrary::Unstructured`. A target runs
//! for `PROJECTOR_FUZZ_SECS` seconds (default 1), from the seed
//! `PROJECTOR_FUZZ_SEED` (default: from the clock), and prints
//! `fuzz <target>: <N> iterations in <S> s` (see it with `--nocapture`). A
//! failure prints the input and the seed that replays it first:
//!
//! ```sh
//! PROJECTOR_FUZZ_SECS=60 cargo test --release -p host --test fuzz -- --nocapture --test-threads 1
//! ```

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::Path;

use arbitrary::Unstructured;
use fuzzing::{Gen, Verdict, ensure, fuzz, mutate, non_blank, real_lines};
use host::plugin::bindings::projector::projection::types as w;
use host::plugin::convert;
use host::source::import::{ImportError, parse};
use projection_sdk as m;
use serde_json::Value as Json;

// ---------------------------------------------------------------------------
// Target 3: the JSON-lines import parser.

/// Fragments spliced into real lines.
const IMPORT_FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "null",
    "-0",
    "1e999",
    "99999999999999999999",
    "\"\\ud800\"",
    "\\u0000",
    "\u{e9}",
    "\u{1f4a5}",
    "\u{feff}",
    "\n",
    "\r\n",
    "\"position\": \"NaN\", ",
    "\"position\": \"inf\", ",
    "\"position\": \"1e400\", ",
    "\"position\": \" 1\", ",
    "\"position\": \"0x10\", ",
    "\"position\": [1], ",
    "\"position\": 1e308, ",
    "\"sequence\": 0, ",
    "\"sequence\": -1, ",
    "\"sequence\": 1.5, ",
    "\"revision\": 40000, ",
    "\"in_tx_order\": -1, ",
    "\"resource_owner\": \"ro\", ",
    "\"colour\": 1, ",
    "\"payload\": [], ",
    "\"payload\": \"x\", ",
    "\"payload\": null, ",
    "\"created_at\": \"2024-02-30T00:00:00Z\", ",
    "\"created_at\": \"2026-01-01T00:00:00.1234567890123Z\", ",
    "\"created_at\": \"2026-01-01T00:00:00+99:99\", ",
    "\"created_at\": \"2026-01-01 00:00:00Z\", ",
    "\"created_at\": \"+10000-01-01T00:00:00Z\", ",
    "\"created_at\": \"0000-01-01T00:00:00+23:59\", ",
    "\"created_at\": null, ",
    "\"instance_id\": \"\", ",
    "\"event_type\": \"\", ",
    "\"aggregate_id\": \" \", ",
];

const IMPORT_KEYS: &[&str] = &[
    "\"created_at\": ",
    "\"sequence\": ",
    "\"payload\": ",
    "\"position\": ",
    "\"instance_id\": ",
    "\"revision\": ",
    "\"in_tx_order\": ",
    "\"owner\": ",
];

/// A text of one to four lines: real, repeated, mutated, arbitrary or blank.
fn import_text(u: &mut Unstructured<'_>, real: &[String]) -> Gen<String> {
    if u.ratio(1, 10u8)? {
        return u.arbitrary();
    }
    let n = 1 + u.int_in_range(0..=3u8)?;
    let mut text = String::new();
    let mut previous = u.choose(real)?.clone();
    for i in 0..n {
        if i > 0 {
            text.push_str(if u.ratio(1, 5u8)? { "\r\n" } else { "\n" });
        }
        let line = if u.ratio(1, 10u8)? {
            previous.clone()
        } else {
            u.choose(real)?.clone()
        };
        let written = match u.int_in_range(0..=9u8)? {
            0 | 1 => line,
            2 => if u.arbitrary()? { "" } else { "  \t" }.to_owned(),
            3 => u.arbitrary::<String>()?,
            _ => mutate(u, &line, IMPORT_KEYS, IMPORT_FRAGMENTS)?,
        };
        text.push_str(&written);
        previous = written;
    }
    Ok(text)
}

/// An accepted line's event is what the line says.
fn check_event(parsed: &host::source::import::ParsedEvent, line: &str) -> Result<(), String> {
    let json: Json =
        serde_json::from_str(line).map_err(|e| format!("accepted a line that is not JSON: {e}"))?;
    ensure!(json.is_object(), "accepted a line that is no object");
    let e = &parsed.event;
    for (field, value) in [
        ("instance_id", &e.instance_id),
        ("aggregate_type", &e.aggregate_type),
        ("aggregate_id", &e.aggregate_id),
        ("event_type", &e.event_type),
    ] {
        ensure!(
            json[field].as_str() == Some(value.as_str()),
            "{field} is {value:?}, the line says {}",
            json[field]
        );
        ensure!(
            field == "instance_id" || !value.is_empty(),
            "accepted an empty {field}"
        );
    }
    let owner = json["owner"].as_str().or(json["resource_owner"].as_str());
    ensure!(owner == Some(e.owner.as_str()), "owner is {:?}", e.owner);
    ensure!(
        e.creator == json["creator"].as_str().unwrap_or(""),
        "creator is {:?}",
        e.creator
    );
    ensure!(e.sequence == json["sequence"].as_i64(), "sequence changed");
    if let Some(seq) = e.sequence {
        ensure!(seq >= 1, "accepted sequence {seq}");
    }
    ensure!(
        e.revision.map(i64::from) == json["revision"].as_i64(),
        "revision changed"
    );
    ensure!(
        e.in_tx_order.map(u64::from) == json["in_tx_order"].as_u64(),
        "in_tx_order changed"
    );
    let payload = e.payload.clone().unwrap_or(Json::Null);
    ensure!(payload == json["payload"], "payload changed: {payload}");
    ensure!(
        payload.is_object() || payload.is_null(),
        "accepted payload {payload}"
    );
    match (&json["created_at"], parsed.created_at) {
        (Json::Null, None) => {}
        (Json::String(_), Some(micros)) => {
            let again = host::time::parse_rfc3339(&host::time::format_micros(micros));
            ensure!(
                again == Some(micros),
                "created_at {micros} does not survive formatting: {again:?}"
            );
        }
        (given, got) => return Err(format!("created_at {given} read as {got:?}")),
    }
    match (&json["position"], &parsed.position) {
        (Json::Null, None) => {}
        (Json::Number(n), Some(p)) => ensure!(
            p.parse::<f64>().ok() == n.as_f64(),
            "position {n} read as {p:?}"
        ),
        (Json::String(s), Some(p)) => ensure!(s == p, "position {s:?} read as {p:?}"),
        (given, got) => return Err(format!("position {given} read as {got:?}")),
    }
    if let Some(p) = &parsed.position {
        ensure!(
            p.parse::<f64>().is_ok_and(f64::is_finite),
            "accepted position {p:?}, which is not a finite number"
        );
    }
    Ok(())
}

fn check_import(text: &str) -> Verdict {
    const SOURCE: &str = "fuzz.jsonl";
    let lines = non_blank(text);
    match parse(text, SOURCE) {
        Ok(events) => {
            ensure!(
                events.len() == lines.len(),
                "{} events from {} lines",
                events.len(),
                lines.len()
            );
            let mut keys = HashSet::new();
            for (parsed, (n, line)) in events.iter().zip(&lines) {
                ensure!(
                    parsed.line == *n,
                    "event of line {n} says line {}",
                    parsed.line
                );
                check_event(parsed, line).map_err(|e| format!("line {n}: {e}"))?;
                if let Some(seq) = parsed.event.sequence {
                    let e = &parsed.event;
                    let key = (&e.instance_id, &e.aggregate_type, &e.aggregate_id, seq);
                    ensure!(keys.insert(key), "accepted the same event twice: {key:?}");
                }
            }
            Ok("ok")
        }
        Err(ImportError::Malformed {
            source_name,
            line,
            message,
        }) => {
            ensure!(source_name == SOURCE, "the error names {source_name:?}");
            ensure!(
                lines.iter().any(|(n, _)| *n == line),
                "the error names line {line}, which is blank or absent"
            );
            let shown = ImportError::Malformed {
                source_name,
                line,
                message,
            }
            .to_string();
            ensure!(
                shown.starts_with(&format!("{SOURCE}:{line}: ")),
                "the error does not start with FILE:LINE: {shown}"
            );
            let before: Vec<&str> = text.lines().take(line - 1).collect();
            ensure!(
                parse(&before.join("\n"), SOURCE).is_ok(),
                "the error names line {line}, but an earlier line is bad"
            );
            Ok("error")
        }
        Err(other) => Err(format!("an error of the wrong kind: {other}")),
    }
}

/// Below this many iterations a run is too short to expect every outcome.
const ENOUGH: u64 = 1000;

/// Arbitrary text, real lines of the sample stream (repeated, blank,
/// mutated). Never panics; an error is `ImportError::Malformed` naming the
/// source and the first bad, non-blank line as `FILE:LINE: `; on success
/// there is one event per non-blank line, with the fields the line gave.
#[test]
fn fuzz_import_parser() {
    let real = real_lines(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/demo.jsonl"));
    let events = parse(&real.join("\n"), "demo.jsonl").unwrap();
    assert_eq!(events.len(), real.len());
    let tally = fuzz(
        "import_parser",
        |u| import_text(u, &real),
        |text: &String| check_import(text),
    );
    if tally.values().sum::<u64>() >= ENOUGH {
        assert!(
            tally.contains_key("ok") && tally.contains_key("error"),
            "both outcomes must occur: {tally:?}"
        );
    }
}

/// The check of an accepted line catches an event that differs from it.
#[test]
fn the_import_check_catches_changed_fields() {
    let line =
        real_lines(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/demo.jsonl")).remove(0);
    let parsed = parse(&line, "demo.jsonl").unwrap().remove(0);
    assert_eq!(check_event(&parsed, &line), Ok(()));
    let mut other_tenant = parsed.clone();
    other_tenant.event.instance_id.push('x');
    let mut no_time = parsed.clone();
    no_time.created_at = None;
    let mut other_position = parsed.clone();
    other_position.position = Some("1".into());
    let mut no_payload = parsed;
    no_payload.event.payload = None;
    for changed in [other_tenant, no_time, other_position, no_payload] {
        assert!(check_event(&changed, &line).is_err(), "{changed:?}");
    }
}

// ---------------------------------------------------------------------------
// Target 4: a plugin's output, WIT types to the SDK's.

/// Names from declared-looking to hostile.
const NAMES: &[&str] = &[
    "orgs_projection",
    "instance_id",
    "id",
    "",
    "x\"; DROP TABLE orgs_projection; --",
    "M\u{fc}ller",
    "\0",
    "\u{1f980}",
];

struct G<'u, 'a> {
    u: &'u mut Unstructured<'a>,
}

impl G<'_, '_> {
    fn text(&mut self) -> Gen<String> {
        if self.u.ratio(1, 2u8)? {
            Ok((*self.u.choose(NAMES)?).to_owned())
        } else {
            self.u.arbitrary()
        }
    }

    fn list<T>(&mut self, max: usize, mut f: impl FnMut(&mut Self) -> Gen<T>) -> Gen<Vec<T>> {
        let n = self.u.int_in_range(0..=max)?;
        (0..n).map(|_| f(self)).collect()
    }

    fn texts(&mut self, max: usize) -> Gen<Vec<String>> {
        self.list(max, Self::text)
    }

    fn value(&mut self) -> Gen<m::Value> {
        Ok(match self.u.int_in_range(0..=9u8)? {
            0 => m::Value::Null,
            1 => m::Value::Text(self.text()?),
            2 => m::Value::Int(self.u.arbitrary()?),
            3 => m::Value::Boolean(self.u.arbitrary()?),
            4 => m::Value::Timestamp(self.u.arbitrary()?),
            5 => m::Value::Interval(self.u.arbitrary()?),
            6 => m::Value::Bytes(self.u.arbitrary()?),
            7 => m::Value::Json(self.text()?),
            8 => m::Value::TextArray(self.texts(4)?),
            _ => m::Value::IntArray(self.list(4, |g| g.u.arbitrary())?),
        })
    }

    fn kind(&mut self) -> Gen<m::ColumnType> {
        use m::ColumnType as T;
        self.u
            .choose(&[
                T::Text,
                T::SmallInt,
                T::Int,
                T::Boolean,
                T::Timestamp,
                T::Interval,
                T::Bytes,
                T::Json,
                T::TextArray,
                T::SmallIntArray,
                T::IntArray,
            ])
            .copied()
    }

    fn predicate(&mut self) -> Gen<m::Predicate> {
        Ok(match self.u.int_in_range(0..=3u8)? {
            0 => m::Predicate::IsNull(self.text()?),
            1 => m::Predicate::IsNotNull(self.text()?),
            2 => m::Predicate::OneOf {
                column: self.text()?,
                values: self.list(3, Self::value)?,
            },
            _ => m::Predicate::Compare {
                column: self.text()?,
                op: *self.u.choose(&[
                    m::CompareOp::Eq,
                    m::CompareOp::NotEq,
                    m::CompareOp::Lt,
                    m::CompareOp::ArrayContains,
                ])?,
                value: self.value()?,
            },
        })
    }

    fn condition(&mut self) -> Gen<m::Condition> {
        Ok(match self.u.int_in_range(0..=2u8)? {
            0 => m::Condition::All(self.predicate()?),
            1 => m::Condition::AnyOf(self.list(3, Self::predicate)?),
            _ => m::Condition::NoneOf(self.list(3, Self::predicate)?),
        })
    }

    fn cell(&mut self) -> Gen<m::Cell> {
        Ok(m::Cell {
            column: self.text()?,
            value: self.value()?,
        })
    }

    fn column_op(&mut self) -> Gen<m::ColumnOp> {
        Ok(match self.u.int_in_range(0..=5u8)? {
            0 => m::ColumnOp::Set(self.value()?),
            1 => m::ColumnOp::ArrayAppend(self.value()?),
            2 => m::ColumnOp::ArrayRemove(self.value()?),
            3 => m::ColumnOp::ArrayIntersect(self.texts(3)?),
            4 => m::ColumnOp::Increment(self.u.arbitrary()?),
            _ => m::ColumnOp::CopyFrom(self.text()?),
        })
    }

    fn mutation(&mut self) -> Gen<m::Mutation> {
        let table = self.text()?;
        let bump = self.u.arbitrary()?;
        Ok(match self.u.int_in_range(0..=4u8)? {
            0 => m::Mutation::Insert {
                table,
                values: self.list(4, Self::cell)?,
                bump,
            },
            1 => m::Mutation::Upsert {
                table,
                values: self.list(4, Self::cell)?,
                conflict: self.texts(3)?,
                keep_on_conflict: self.texts(2)?,
                update_when: self.list(2, |g| {
                    Ok(m::UpdateWhen {
                        column: g.text()?,
                        when: g.list(2, |g| {
                            let side =
                                *g.u.choose(&[m::RowSide::Existing, m::RowSide::Incoming])?;
                            Ok((side, g.predicate()?))
                        })?,
                    })
                })?,
                bump,
            },
            2 => m::Mutation::Update {
                table,
                set: self.list(3, |g| {
                    Ok(m::Assignment {
                        column: g.text()?,
                        op: g.column_op()?,
                    })
                })?,
                conditions: self.list(3, Self::condition)?,
                bump,
            },
            3 => m::Mutation::Delete {
                table,
                conditions: self.list(3, Self::condition)?,
            },
            _ => m::Mutation::Copy {
                table,
                source_table: self.text()?,
                columns: self.list(3, |g| {
                    Ok(m::CopyColumn {
                        column: g.text()?,
                        source: if g.u.arbitrary()? {
                            m::CopySource::Column(g.text()?)
                        } else {
                            m::CopySource::Value(g.value()?)
                        },
                    })
                })?,
                conditions: self.list(3, Self::condition)?,
                conflict: self.texts(3)?,
                bump,
            },
        })
    }

    fn expr_ref(&mut self) -> Gen<m::ExprRef> {
        Ok(m::ExprRef(self.u.arbitrary()?))
    }

    fn view(&mut self) -> Gen<m::View> {
        Ok(m::View {
            name: self.text()?,
            table: self.text()?,
            alias: self.text()?,
            joins: self.list(2, |g| {
                Ok(m::Join {
                    table: g.text()?,
                    alias: g.text()?,
                    on: g.list(2, Self::expr_ref)?,
                })
            })?,
            exprs: self.list(5, |g| {
                Ok(match g.u.int_in_range(0..=9u8)? {
                    0 => m::ViewExpr::Column {
                        alias: g.text()?,
                        column: g.text()?,
                    },
                    1 => m::ViewExpr::Literal(g.value()?),
                    2 => m::ViewExpr::Lower(g.expr_ref()?),
                    3 => m::ViewExpr::Concat(g.list(3, Self::expr_ref)?),
                    4 => m::ViewExpr::Coalesce(g.list(3, Self::expr_ref)?),
                    5 => m::ViewExpr::Equals(g.expr_ref()?, g.expr_ref()?),
                    6 => m::ViewExpr::Not(g.expr_ref()?),
                    7 => m::ViewExpr::All(g.list(3, Self::expr_ref)?),
                    8 => m::ViewExpr::IsNull(g.expr_ref()?),
                    _ => m::ViewExpr::When {
                        condition: g.expr_ref()?,
                        then: g.expr_ref()?,
                        otherwise: g.expr_ref()?,
                    },
                })
            })?,
            columns: self.list(3, |g| {
                Ok(m::ViewColumn {
                    name: g.text()?,
                    expr: g.expr_ref()?,
                })
            })?,
        })
    }

    fn description(&mut self) -> Gen<m::Description> {
        Ok(m::Description {
            name: self.text()?,
            version: self.text()?,
            tables: self.list(3, |g| {
                Ok(m::Table {
                    name: g.text()?,
                    columns: g.list(4, |g| {
                        Ok(m::Column {
                            name: g.text()?,
                            kind: g.kind()?,
                            nullable: g.u.arbitrary()?,
                            default: if g.u.arbitrary()? {
                                Some(g.value()?)
                            } else {
                                None
                            },
                            generated: if g.u.arbitrary()? {
                                Some(m::Generated::Lower(g.text()?))
                            } else {
                                None
                            },
                        })
                    })?,
                    primary_key: g.texts(3)?,
                    indexes: g.list(2, |g| {
                        Ok(m::Index {
                            name: g.text()?,
                            columns: g.list(3, |g| {
                                let c = g.text()?;
                                Ok(match g.u.int_in_range(0..=2u8)? {
                                    0 => m::IndexKey::Column(c),
                                    1 => m::lower(&c),
                                    _ => m::sha256(&c),
                                })
                            })?,
                            include: g.texts(2)?,
                        })
                    })?,
                    parent: if g.u.arbitrary()? {
                        Some(g.text()?)
                    } else {
                        None
                    },
                })
            })?,
            views: self.list(2, Self::view)?,
            subscriptions: self.list(2, |g| {
                Ok(m::Subscription {
                    aggregate_type: g.text()?,
                    event_types: g.texts(3)?,
                })
            })?,
        })
    }

    fn error(&mut self) -> Gen<m::ProjectionError> {
        let message = self.text()?;
        Ok(match self.u.int_in_range(0..=3u8)? {
            0 => m::ProjectionError::UnhandledEvent(message),
            1 => m::ProjectionError::InvalidPayload(message),
            2 => m::ProjectionError::NotFound(message),
            _ => m::ProjectionError::Failed(message),
        })
    }
}

// What a plugin would send: the SDK's values written as the WIT types.

fn wit_value(v: &m::Value) -> w::Value {
    match v.clone() {
        m::Value::Null => w::Value::Null,
        m::Value::Text(s) => w::Value::Text(s),
        m::Value::Int(i) => w::Value::Int(i),
        m::Value::Boolean(b) => w::Value::Boolean(b),
        m::Value::Timestamp(t) => w::Value::Timestamp(t),
        m::Value::Interval(i) => w::Value::Interval(i),
        m::Value::Bytes(b) => w::Value::Bytes(b),
        m::Value::Json(j) => w::Value::Json(j),
        m::Value::TextArray(a) => w::Value::TextArray(a),
        m::Value::IntArray(a) => w::Value::IntArray(a),
    }
}

fn wit_kind(k: m::ColumnType) -> w::ColumnType {
    use m::ColumnType as T;
    match k {
        T::Text => w::ColumnType::Text,
        T::SmallInt => w::ColumnType::SmallInt,
        T::Int => w::ColumnType::Int,
        T::Boolean => w::ColumnType::Boolean,
        T::Timestamp => w::ColumnType::Timestamp,
        T::Interval => w::ColumnType::Interval,
        T::Bytes => w::ColumnType::Bytes,
        T::Json => w::ColumnType::Json,
        T::TextArray => w::ColumnType::TextArray,
        T::SmallIntArray => w::ColumnType::SmallIntArray,
        T::IntArray => w::ColumnType::IntArray,
    }
}

fn wit_predicate(p: &m::Predicate) -> w::Predicate {
    match p {
        m::Predicate::Compare { column, op, value } => w::Predicate::Compare(w::Comparison {
            column: column.clone(),
            op: match op {
                m::CompareOp::Eq => w::CompareOp::Eq,
                m::CompareOp::NotEq => w::CompareOp::NotEq,
                m::CompareOp::Lt => w::CompareOp::Lt,
                m::CompareOp::ArrayContains => w::CompareOp::ArrayContains,
            },
            value: wit_value(value),
        }),
        m::Predicate::IsNull(c) => w::Predicate::IsNull(c.clone()),
        m::Predicate::IsNotNull(c) => w::Predicate::IsNotNull(c.clone()),
        m::Predicate::OneOf { column, values } => w::Predicate::OneOf(w::Choice {
            column: column.clone(),
            values: values.iter().map(wit_value).collect(),
        }),
    }
}

fn wit_conditions(cs: &[m::Condition]) -> Vec<w::Condition> {
    cs.iter()
        .map(|c| match c {
            m::Condition::All(p) => w::Condition::All(wit_predicate(p)),
            m::Condition::AnyOf(ps) => w::Condition::AnyOf(ps.iter().map(wit_predicate).collect()),
            m::Condition::NoneOf(ps) => {
                w::Condition::NoneOf(ps.iter().map(wit_predicate).collect())
            }
        })
        .collect()
}

fn wit_cells(cells: &[m::Cell]) -> Vec<w::Cell> {
    cells
        .iter()
        .map(|c| w::Cell {
            column: c.column.clone(),
            value: wit_value(&c.value),
        })
        .collect()
}

fn wit_mutation(mutation: &m::Mutation) -> w::Mutation {
    match mutation.clone() {
        m::Mutation::Insert {
            table,
            values,
            bump,
        } => w::Mutation::Insert(w::InsertRow {
            table,
            values: wit_cells(&values),
            bump,
        }),
        m::Mutation::Upsert {
            table,
            values,
            conflict,
            keep_on_conflict,
            update_when,
            bump,
        } => w::Mutation::Upsert(w::UpsertRow {
            table,
            values: wit_cells(&values),
            conflict,
            keep_on_conflict,
            update_when: update_when
                .iter()
                .map(|u| w::UpdateWhen {
                    column: u.column.clone(),
                    when: u
                        .when
                        .iter()
                        .map(|(side, p)| w::SidePredicate {
                            side: match side {
                                m::RowSide::Existing => w::RowSide::Existing,
                                m::RowSide::Incoming => w::RowSide::Incoming,
                            },
                            predicate: wit_predicate(p),
                        })
                        .collect(),
                })
                .collect(),
            bump,
        }),
        m::Mutation::Update {
            table,
            set,
            conditions,
            bump,
        } => w::Mutation::Update(w::UpdateRows {
            table,
            set: set
                .into_iter()
                .map(|a| w::Assignment {
                    column: a.column,
                    op: match a.op {
                        m::ColumnOp::Set(v) => w::ColumnOp::Set(wit_value(&v)),
                        m::ColumnOp::ArrayAppend(v) => w::ColumnOp::ArrayAppend(wit_value(&v)),
                        m::ColumnOp::ArrayRemove(v) => w::ColumnOp::ArrayRemove(wit_value(&v)),
                        m::ColumnOp::ArrayIntersect(k) => w::ColumnOp::ArrayIntersect(k),
                        m::ColumnOp::Increment(by) => w::ColumnOp::Increment(by),
                        m::ColumnOp::CopyFrom(c) => w::ColumnOp::CopyFrom(c),
                    },
                })
                .collect(),
            where_: wit_conditions(&conditions),
            bump,
        }),
        m::Mutation::Delete { table, conditions } => w::Mutation::Delete(w::DeleteRows {
            table,
            where_: wit_conditions(&conditions),
        }),
        m::Mutation::Copy {
            table,
            source_table,
            columns,
            conditions,
            conflict,
            bump,
        } => w::Mutation::Copy(w::CopyRows {
            table,
            source_table,
            columns: columns
                .into_iter()
                .map(|c| w::CopyColumn {
                    column: c.column,
                    source: match c.source {
                        m::CopySource::Column(name) => w::CopySource::Column(name),
                        m::CopySource::Value(v) => w::CopySource::Value(wit_value(&v)),
                    },
                })
                .collect(),
            where_: wit_conditions(&conditions),
            conflict,
            bump,
        }),
    }
}

fn wit_description(d: &m::Description) -> w::Description {
    let d = d.clone();
    w::Description {
        name: d.name,
        version: d.version,
        tables: d
            .tables
            .into_iter()
            .map(|t| w::Table {
                name: t.name,
                columns: t
                    .columns
                    .into_iter()
                    .map(|c| w::Column {
                        name: c.name,
                        kind: wit_kind(c.kind),
                        nullable: c.nullable,
                        default: c.default.as_ref().map(wit_value),
                        generated: c.generated.map(|g| match g {
                            m::Generated::Lower(s) => w::Generated::LowerCase(s),
                        }),
                    })
                    .collect(),
                primary_key: t.primary_key,
                indexes: t
                    .indexes
                    .into_iter()
                    .map(|i| w::Index {
                        name: i.name,
                        columns: i
                            .columns
                            .into_iter()
                            .map(|k| match k {
                                m::IndexKey::Column(c) => w::IndexKey::Column(c),
                                m::IndexKey::Expression(m::IndexExpression::Lower(c)) => {
                                    w::IndexKey::LowerCase(c)
                                }
                                m::IndexKey::Expression(m::IndexExpression::Sha256(c)) => {
                                    w::IndexKey::Sha256(c)
                                }
                            })
                            .collect(),
                        include: i.include,
                    })
                    .collect(),
                parent: t.parent,
            })
            .collect(),
        views: d
            .views
            .into_iter()
            .map(|v| {
                let refs = |r: Vec<m::ExprRef>| r.into_iter().map(|e| e.0).collect::<Vec<u32>>();
                w::View {
                    name: v.name,
                    table: v.table,
                    alias: v.alias,
                    joins: v
                        .joins
                        .into_iter()
                        .map(|j| w::Join {
                            table: j.table,
                            alias: j.alias,
                            on: refs(j.on),
                        })
                        .collect(),
                    exprs: v
                        .exprs
                        .into_iter()
                        .map(|e| match e {
                            m::ViewExpr::Column { alias, column } => {
                                w::ViewExpr::Column(w::ColumnRef { alias, column })
                            }
                            m::ViewExpr::Literal(v) => w::ViewExpr::Literal(wit_value(&v)),
                            m::ViewExpr::Lower(a) => w::ViewExpr::LowerCase(a.0),
                            m::ViewExpr::Concat(p) => w::ViewExpr::Concat(refs(p)),
                            m::ViewExpr::Coalesce(p) => w::ViewExpr::Coalesce(refs(p)),
                            m::ViewExpr::Equals(a, b) => w::ViewExpr::Equals((a.0, b.0)),
                            m::ViewExpr::Not(a) => w::ViewExpr::Not(a.0),
                            m::ViewExpr::All(p) => w::ViewExpr::All(refs(p)),
                            m::ViewExpr::IsNull(a) => w::ViewExpr::IsNull(a.0),
                            m::ViewExpr::When {
                                condition,
                                then,
                                otherwise,
                            } => w::ViewExpr::When(w::Conditional {
                                condition: condition.0,
                                then: then.0,
                                otherwise: otherwise.0,
                            }),
                        })
                        .collect(),
                    columns: v
                        .columns
                        .into_iter()
                        .map(|c| w::ViewColumn {
                            name: c.name,
                            expr: c.expr.0,
                        })
                        .collect(),
                }
            })
            .collect(),
        subscriptions: d
            .subscriptions
            .into_iter()
            .map(|s| w::Subscription {
                aggregate_type: s.aggregate_type,
                event_types: s.event_types,
            })
            .collect(),
    }
}

fn wit_error(e: &m::ProjectionError) -> w::ProjectionError {
    match e.clone() {
        m::ProjectionError::UnhandledEvent(s) => w::ProjectionError::UnhandledEvent(s),
        m::ProjectionError::InvalidPayload(s) => w::ProjectionError::InvalidPayload(s),
        m::ProjectionError::NotFound(s) => w::ProjectionError::NotFound(s),
        m::ProjectionError::Failed(s) => w::ProjectionError::Failed(s),
    }
}

/// Bytes of values a mutation carries (what the output cap counts).
fn value_bytes(mutation: &m::Mutation) -> usize {
    fn value(v: &m::Value) -> usize {
        match v {
            m::Value::Text(s) | m::Value::Json(s) => s.len(),
            m::Value::Bytes(b) => b.len(),
            m::Value::TextArray(a) => a.iter().map(String::len).sum(),
            m::Value::IntArray(a) => a.len() * 8,
            _ => 0,
        }
    }
    fn predicate(p: &m::Predicate) -> usize {
        match p {
            m::Predicate::Compare { value: v, .. } => value(v),
            m::Predicate::OneOf { values, .. } => values.iter().map(value).sum(),
            _ => 0,
        }
    }
    let in_conditions = |cs: &[m::Condition]| -> usize {
        cs.iter().flat_map(|c| c.predicates()).map(predicate).sum()
    };
    let cells = |cs: &[m::Cell]| -> usize { cs.iter().map(|c| value(&c.value)).sum() };
    match mutation {
        m::Mutation::Insert { values, .. } => cells(values),
        m::Mutation::Upsert {
            values,
            update_when,
            ..
        } => {
            cells(values)
                + update_when
                    .iter()
                    .flat_map(|u| &u.when)
                    .map(|(_, p)| predicate(p))
                    .sum::<usize>()
        }
        m::Mutation::Update {
            set, conditions, ..
        } => {
            set.iter()
                .map(|a| match &a.op {
                    m::ColumnOp::Set(v)
                    | m::ColumnOp::ArrayAppend(v)
                    | m::ColumnOp::ArrayRemove(v) => value(v),
                    m::ColumnOp::ArrayIntersect(k) => k.iter().map(String::len).sum(),
                    _ => 0,
                })
                .sum::<usize>()
                + in_conditions(conditions)
        }
        m::Mutation::Delete { conditions: cs, .. } => in_conditions(cs),
        m::Mutation::Copy {
            columns,
            conditions: cs,
            ..
        } => {
            columns
                .iter()
                .map(|c| match &c.source {
                    m::CopySource::Value(v) => value(v),
                    m::CopySource::Column(_) => 0,
                })
                .sum::<usize>()
                + in_conditions(cs)
        }
    }
}

/// One iteration's plugin output.
#[derive(Debug)]
enum Output {
    Mutations(usize, Vec<m::Mutation>),
    Error(m::ProjectionError),
    Description(Box<m::Description>),
    Filter(m::EventFilter),
}

fn output(u: &mut Unstructured<'_>) -> Gen<Output> {
    let mut g = G { u };
    Ok(match g.u.int_in_range(0..=9u8)? {
        0..=5 => {
            let start = g.u.int_in_range(0..=4096usize)?;
            Output::Mutations(start, g.list(4, G::mutation)?)
        }
        6 => Output::Error(g.error()?),
        7 | 8 => Output::Description(Box::new(g.description()?)),
        _ => Output::Filter(m::EventFilter {
            aggregate_type: g.text()?,
            aggregate_ids: g.texts(3)?,
            event_types: g.texts(3)?,
        }),
    })
}

fn check_output(out: &Output) -> Verdict {
    match out {
        Output::Mutations(start, mutations) => {
            let mut size = *start;
            for mutation in mutations {
                let before = size;
                let got = convert::mutation(wit_mutation(mutation), &mut size);
                ensure!(
                    got == *mutation,
                    "converted to {got:#?}, the plugin sent {mutation:#?}"
                );
                let bytes = value_bytes(mutation);
                ensure!(
                    size >= before && size - before >= bytes,
                    "counted {} bytes for {bytes} bytes of values",
                    size.saturating_sub(before)
                );
            }
            Ok("mutations")
        }
        Output::Error(e) => {
            let got = convert::error(wit_error(e));
            ensure!(got == *e, "error {e:?} converted to {got:?}");
            Ok("error")
        }
        Output::Description(d) => {
            let got = convert::description(wit_description(d));
            ensure!(got == **d, "description converted to {got:#?}");
            Ok("description")
        }
        Output::Filter(f) => {
            let got = convert::filter(w::EventFilter {
                aggregate_type: f.aggregate_type.clone(),
                aggregate_ids: f.aggregate_ids.clone(),
                event_types: f.event_types.clone(),
            });
            ensure!(got == *f, "filter converted to {got:?}");
            Ok("filter")
        }
    }
}

/// Mutations of every kind, errors of every kind, descriptions (tables,
/// generated columns, index keys, views) and look-up filters, as a plugin
/// sends them. Never panics; every one converts to the SDK value it stands
/// for (nothing dropped, nothing swapped), and the output size counts at
/// least the bytes of the values a mutation carries.
#[test]
fn fuzz_plugin_output_conversion() {
    let tally = fuzz("plugin_output", output, check_output);
    if tally.values().sum::<u64>() >= ENOUGH {
        assert!(
            ["mutations", "error", "description", "filter"]
                .iter()
                .all(|k| tally.contains_key(k)),
            "every kind of output must occur: {tally:?}"
        );
    }
}
