//! The glue between the generated WIT bindings and the SDK's plain types.
//!
//! Only compiled for `wasm32`; [`crate::export!`] is its only user.

use crate::{Context, Event, Family, Lookup};
use projection_model as m;

#[allow(missing_docs, unreachable_pub, unsafe_code, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "../../wit",
        default_bindings_module: "projection_sdk::wasm::bindings",
        pub_export_macro: true,
        export_macro_name: "__export_plugin",
    });
}

mod schema;

use bindings::projector::projection::host;
use bindings::projector::projection::types as w;

/// Describe `F` in WIT types.
pub fn describe<F: Family>() -> w::Description {
    let d = F::describe();
    w::Description {
        name: d.name,
        version: d.version,
        tables: d.tables.into_iter().map(schema::table).collect(),
        views: d.views.into_iter().map(schema::view).collect(),
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

/// Report panics through the host's log (the default hook would reach for
/// the environment and stderr, which a plugin does not have).
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".to_owned());
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            host::log(w::Level::Error, &format!("panic: {message}{location}"));
        }));
    });
}

/// Handle a batch with `F`.
pub fn handle<F: Family>(events: Vec<w::Event>) -> Vec<w::Outcome> {
    install_panic_hook();
    events
        .into_iter()
        .enumerate()
        .map(|(index, e)| {
            let event = event_from_wit(e);
            let lookup = HostLookup {
                index: u32::try_from(index).unwrap_or(u32::MAX),
            };
            let ctx = Context::new(&lookup);
            match F::handle(&event, &ctx) {
                Ok(mutations) => Ok(mutations.into_iter().map(mutation).collect()),
                Err(e) => Err(error(e)),
            }
        })
        .collect()
}

/// Send a log line to the host.
pub fn log(level: m::Level, message: &str) {
    let level = match level {
        m::Level::Debug => w::Level::Debug,
        m::Level::Info => w::Level::Info,
        m::Level::Warn => w::Level::Warn,
        m::Level::Error => w::Level::Error,
    };
    host::log(level, message);
}

struct HostLookup {
    index: u32,
}

impl Lookup for HostLookup {
    fn find_events(&self, filter: &m::EventFilter) -> Vec<Event> {
        let filter = w::EventFilter {
            aggregate_type: filter.aggregate_type.clone(),
            aggregate_ids: filter.aggregate_ids.clone(),
            event_types: filter.event_types.clone(),
        };
        host::find_events(self.index, &filter)
            .into_iter()
            .map(event_from_wit)
            .collect()
    }
}

fn event_from_wit(e: w::Event) -> Event {
    Event {
        position: e.position,
        in_tx_order: e.in_tx_order,
        instance_id: e.instance_id,
        aggregate_type: e.aggregate_type,
        aggregate_id: e.aggregate_id,
        event_type: e.event_type,
        sequence: e.sequence,
        revision: e.revision,
        created_at: e.created_at,
        payload: e.payload,
        creator: e.creator,
        owner: e.owner,
    }
}

pub(crate) fn value(v: m::Value) -> w::Value {
    match v {
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

pub(crate) fn column_type(t: m::ColumnType) -> w::ColumnType {
    match t {
        m::ColumnType::Text => w::ColumnType::Text,
        m::ColumnType::SmallInt => w::ColumnType::SmallInt,
        m::ColumnType::Int => w::ColumnType::Int,
        m::ColumnType::Boolean => w::ColumnType::Boolean,
        m::ColumnType::Timestamp => w::ColumnType::Timestamp,
        m::ColumnType::Interval => w::ColumnType::Interval,
        m::ColumnType::Bytes => w::ColumnType::Bytes,
        m::ColumnType::Json => w::ColumnType::Json,
        m::ColumnType::TextArray => w::ColumnType::TextArray,
        m::ColumnType::SmallIntArray => w::ColumnType::SmallIntArray,
        m::ColumnType::IntArray => w::ColumnType::IntArray,
    }
}

fn cells(cells: Vec<m::Cell>) -> Vec<w::Cell> {
    cells
        .into_iter()
        .map(|c| w::Cell {
            column: c.column,
            value: value(c.value),
        })
        .collect()
}

fn predicate(p: m::Predicate) -> w::Predicate {
    match p {
        m::Predicate::Compare {
            column,
            op,
            value: v,
        } => w::Predicate::Compare(w::Comparison {
            column,
            op: match op {
                m::CompareOp::Eq => w::CompareOp::Eq,
                m::CompareOp::NotEq => w::CompareOp::NotEq,
                m::CompareOp::Lt => w::CompareOp::Lt,
                m::CompareOp::ArrayContains => w::CompareOp::ArrayContains,
            },
            value: value(v),
        }),
        m::Predicate::IsNull(c) => w::Predicate::IsNull(c),
        m::Predicate::IsNotNull(c) => w::Predicate::IsNotNull(c),
        m::Predicate::OneOf { column, values } => w::Predicate::OneOf(w::Choice {
            column,
            values: values.into_iter().map(value).collect(),
        }),
    }
}

fn conditions(conditions: Vec<m::Condition>) -> Vec<w::Condition> {
    conditions
        .into_iter()
        .map(|c| match c {
            m::Condition::All(p) => w::Condition::All(predicate(p)),
            m::Condition::AnyOf(ps) => w::Condition::AnyOf(ps.into_iter().map(predicate).collect()),
            m::Condition::NoneOf(ps) => {
                w::Condition::NoneOf(ps.into_iter().map(predicate).collect())
            }
        })
        .collect()
}

fn column_op(op: m::ColumnOp) -> w::ColumnOp {
    match op {
        m::ColumnOp::Set(v) => w::ColumnOp::Set(value(v)),
        m::ColumnOp::ArrayAppend(v) => w::ColumnOp::ArrayAppend(value(v)),
        m::ColumnOp::ArrayRemove(v) => w::ColumnOp::ArrayRemove(value(v)),
        m::ColumnOp::ArrayIntersect(items) => w::ColumnOp::ArrayIntersect(items),
        m::ColumnOp::Increment(by) => w::ColumnOp::Increment(by),
        m::ColumnOp::CopyFrom(c) => w::ColumnOp::CopyFrom(c),
    }
}

fn mutation(mutation: m::Mutation) -> w::Mutation {
    match mutation {
        m::Mutation::Insert {
            table,
            values,
            bump,
        } => w::Mutation::Insert(w::InsertRow {
            table,
            values: cells(values),
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
            values: cells(values),
            conflict,
            keep_on_conflict,
            update_when: update_when
                .into_iter()
                .map(|u| w::UpdateWhen {
                    column: u.column,
                    when: u
                        .when
                        .into_iter()
                        .map(|(side, p)| w::SidePredicate {
                            side: match side {
                                m::RowSide::Existing => w::RowSide::Existing,
                                m::RowSide::Incoming => w::RowSide::Incoming,
                            },
                            predicate: predicate(p),
                        })
                        .collect(),
                })
                .collect(),
            bump,
        }),
        m::Mutation::Update {
            table,
            set,
            conditions: conds,
            bump,
        } => w::Mutation::Update(w::UpdateRows {
            table,
            set: set
                .into_iter()
                .map(|a| w::Assignment {
                    column: a.column,
                    op: column_op(a.op),
                })
                .collect(),
            where_: conditions(conds),
            bump,
        }),
        m::Mutation::Delete {
            table,
            conditions: conds,
        } => w::Mutation::Delete(w::DeleteRows {
            table,
            where_: conditions(conds),
        }),
        m::Mutation::Copy {
            table,
            source_table,
            columns,
            conditions: conds,
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
                        m::CopySource::Value(v) => w::CopySource::Value(value(v)),
                    },
                })
                .collect(),
            where_: conditions(conds),
            conflict,
            bump,
        }),
    }
}

fn error(e: m::ProjectionError) -> w::ProjectionError {
    match e {
        m::ProjectionError::UnhandledEvent(s) => w::ProjectionError::UnhandledEvent(s),
        m::ProjectionError::InvalidPayload(s) => w::ProjectionError::InvalidPayload(s),
        m::ProjectionError::NotFound(s) => w::ProjectionError::NotFound(s),
        m::ProjectionError::Failed(s) => w::ProjectionError::Failed(s),
    }
}
