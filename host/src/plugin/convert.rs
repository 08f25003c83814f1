//! Convert between the generated WIT types and the SDK's plain types.

use projection_sdk as m;

use super::bindings::projector::projection::types as w;

/// An SDK event as a WIT event.
pub(super) fn event_to_wit(e: &m::Event) -> w::Event {
    w::Event {
        position: e.position.clone(),
        in_tx_order: e.in_tx_order,
        instance_id: e.instance_id.clone(),
        aggregate_type: e.aggregate_type.clone(),
        aggregate_id: e.aggregate_id.clone(),
        event_type: e.event_type.clone(),
        sequence: e.sequence,
        revision: e.revision,
        created_at: e.created_at,
        payload: e.payload.clone(),
        creator: e.creator.clone(),
        owner: e.owner.clone(),
    }
}

/// A WIT filter as an SDK filter.
pub fn filter(f: w::EventFilter) -> m::EventFilter {
    m::EventFilter {
        aggregate_type: f.aggregate_type,
        aggregate_ids: f.aggregate_ids,
        event_types: f.event_types,
    }
}

/// A WIT value as an SDK value; also counts its bytes.
fn value(v: w::Value, size: &mut usize) -> m::Value {
    *size += 8;
    match v {
        w::Value::Null => m::Value::Null,
        w::Value::Text(s) => {
            *size += s.len();
            m::Value::Text(s)
        }
        w::Value::Int(i) => m::Value::Int(i),
        w::Value::Boolean(b) => m::Value::Boolean(b),
        w::Value::Timestamp(t) => m::Value::Timestamp(t),
        w::Value::Interval(i) => m::Value::Interval(i),
        w::Value::Bytes(b) => {
            *size += b.len();
            m::Value::Bytes(b)
        }
        w::Value::Json(j) => {
            *size += j.len();
            m::Value::Json(j)
        }
        w::Value::TextArray(a) => {
            *size += a.iter().map(|s| s.len() + 8).sum::<usize>();
            m::Value::TextArray(a)
        }
        w::Value::IntArray(a) => {
            *size += a.len() * 8;
            m::Value::IntArray(a)
        }
    }
}

fn column_type(t: w::ColumnType) -> m::ColumnType {
    match t {
        w::ColumnType::Text => m::ColumnType::Text,
        w::ColumnType::SmallInt => m::ColumnType::SmallInt,
        w::ColumnType::Int => m::ColumnType::Int,
        w::ColumnType::Boolean => m::ColumnType::Boolean,
        w::ColumnType::Timestamp => m::ColumnType::Timestamp,
        w::ColumnType::Interval => m::ColumnType::Interval,
        w::ColumnType::Bytes => m::ColumnType::Bytes,
        w::ColumnType::Json => m::ColumnType::Json,
        w::ColumnType::TextArray => m::ColumnType::TextArray,
        w::ColumnType::SmallIntArray => m::ColumnType::SmallIntArray,
        w::ColumnType::IntArray => m::ColumnType::IntArray,
    }
}

/// A WIT description as an SDK description.
pub fn description(d: w::Description) -> m::Description {
    let mut size = 0;
    m::Description {
        name: d.name,
        version: d.version,
        tables: d
            .tables
            .into_iter()
            .map(|t| m::Table {
                name: t.name,
                columns: t
                    .columns
                    .into_iter()
                    .map(|c| m::Column {
                        name: c.name,
                        kind: column_type(c.kind),
                        nullable: c.nullable,
                        default: c.default.map(|v| value(v, &mut size)),
                        generated: c.generated.map(|g| match g {
                            w::Generated::LowerCase(source) => m::Generated::Lower(source),
                        }),
                    })
                    .collect(),
                primary_key: t.primary_key,
                indexes: t
                    .indexes
                    .into_iter()
                    .map(|i| m::Index {
                        name: i.name,
                        columns: i.columns.into_iter().map(index_key).collect(),
                        include: i.include,
                    })
                    .collect(),
                parent: t.parent,
            })
            .collect(),
        views: d.views.into_iter().map(|v| view(v, &mut size)).collect(),
        subscriptions: d
            .subscriptions
            .into_iter()
            .map(|s| m::Subscription {
                aggregate_type: s.aggregate_type,
                event_types: s.event_types,
            })
            .collect(),
    }
}

fn index_key(key: w::IndexKey) -> m::IndexKey {
    match key {
        w::IndexKey::Column(c) => m::IndexKey::Column(c),
        w::IndexKey::LowerCase(c) => m::IndexKey::Expression(m::IndexExpression::Lower(c)),
        w::IndexKey::Sha256(c) => m::IndexKey::Expression(m::IndexExpression::Sha256(c)),
    }
}

fn view(v: w::View, size: &mut usize) -> m::View {
    let refs = |r: Vec<u32>| r.into_iter().map(m::ExprRef).collect();
    m::View {
        name: v.name,
        table: v.table,
        alias: v.alias,
        joins: v
            .joins
            .into_iter()
            .map(|j| m::Join {
                table: j.table,
                alias: j.alias,
                on: refs(j.on),
            })
            .collect(),
        exprs: v
            .exprs
            .into_iter()
            .map(|e| match e {
                w::ViewExpr::Column(c) => m::ViewExpr::Column {
                    alias: c.alias,
                    column: c.column,
                },
                w::ViewExpr::Literal(l) => m::ViewExpr::Literal(value(l, size)),
                w::ViewExpr::LowerCase(a) => m::ViewExpr::Lower(m::ExprRef(a)),
                w::ViewExpr::Concat(p) => m::ViewExpr::Concat(refs(p)),
                w::ViewExpr::Coalesce(p) => m::ViewExpr::Coalesce(refs(p)),
                w::ViewExpr::Equals((a, b)) => m::ViewExpr::Equals(m::ExprRef(a), m::ExprRef(b)),
                w::ViewExpr::Not(a) => m::ViewExpr::Not(m::ExprRef(a)),
                w::ViewExpr::All(p) => m::ViewExpr::All(refs(p)),
                w::ViewExpr::IsNull(a) => m::ViewExpr::IsNull(m::ExprRef(a)),
                w::ViewExpr::When(c) => m::ViewExpr::When {
                    condition: m::ExprRef(c.condition),
                    then: m::ExprRef(c.then),
                    otherwise: m::ExprRef(c.otherwise),
                },
            })
            .collect(),
        columns: v
            .columns
            .into_iter()
            .map(|c| m::ViewColumn {
                name: c.name,
                expr: m::ExprRef(c.expr),
            })
            .collect(),
    }
}

fn cells(cells: Vec<w::Cell>, size: &mut usize) -> Vec<m::Cell> {
    cells
        .into_iter()
        .map(|c| {
            *size += c.column.len();
            m::Cell {
                column: c.column,
                value: value(c.value, size),
            }
        })
        .collect()
}

fn predicate(p: w::Predicate, size: &mut usize) -> m::Predicate {
    match p {
        w::Predicate::Compare(c) => m::Predicate::Compare {
            column: c.column,
            op: match c.op {
                w::CompareOp::Eq => m::CompareOp::Eq,
                w::CompareOp::NotEq => m::CompareOp::NotEq,
                w::CompareOp::Lt => m::CompareOp::Lt,
                w::CompareOp::ArrayContains => m::CompareOp::ArrayContains,
            },
            value: value(c.value, size),
        },
        w::Predicate::IsNull(c) => m::Predicate::IsNull(c),
        w::Predicate::IsNotNull(c) => m::Predicate::IsNotNull(c),
        w::Predicate::OneOf(c) => m::Predicate::OneOf {
            column: c.column,
            values: c.values.into_iter().map(|v| value(v, size)).collect(),
        },
    }
}

fn conditions(conditions: Vec<w::Condition>, size: &mut usize) -> Vec<m::Condition> {
    conditions
        .into_iter()
        .map(|c| match c {
            w::Condition::All(p) => m::Condition::All(predicate(p, size)),
            w::Condition::AnyOf(ps) => {
                m::Condition::AnyOf(ps.into_iter().map(|p| predicate(p, size)).collect())
            }
            w::Condition::NoneOf(ps) => {
                m::Condition::NoneOf(ps.into_iter().map(|p| predicate(p, size)).collect())
            }
        })
        .collect()
}

fn column_op(op: w::ColumnOp, size: &mut usize) -> m::ColumnOp {
    match op {
        w::ColumnOp::Set(v) => m::ColumnOp::Set(value(v, size)),
        w::ColumnOp::ArrayAppend(v) => m::ColumnOp::ArrayAppend(value(v, size)),
        w::ColumnOp::ArrayRemove(v) => m::ColumnOp::ArrayRemove(value(v, size)),
        w::ColumnOp::ArrayIntersect(items) => {
            *size += items.iter().map(String::len).sum::<usize>();
            m::ColumnOp::ArrayIntersect(items)
        }
        w::ColumnOp::Increment(by) => m::ColumnOp::Increment(by),
        w::ColumnOp::CopyFrom(c) => m::ColumnOp::CopyFrom(c),
    }
}

/// A WIT mutation as an SDK mutation; `size` grows by its approximate bytes.
pub fn mutation(mutation: w::Mutation, size: &mut usize) -> m::Mutation {
    match mutation {
        w::Mutation::Insert(r) => m::Mutation::Insert {
            table: r.table,
            values: cells(r.values, size),
            bump: r.bump,
        },
        w::Mutation::Upsert(r) => m::Mutation::Upsert {
            table: r.table,
            values: cells(r.values, size),
            conflict: r.conflict,
            keep_on_conflict: r.keep_on_conflict,
            update_when: r
                .update_when
                .into_iter()
                .map(|u| m::UpdateWhen {
                    column: u.column,
                    when: u
                        .when
                        .into_iter()
                        .map(|sp| {
                            let side = match sp.side {
                                w::RowSide::Existing => m::RowSide::Existing,
                                w::RowSide::Incoming => m::RowSide::Incoming,
                            };
                            (side, predicate(sp.predicate, size))
                        })
                        .collect(),
                })
                .collect(),
            bump: r.bump,
        },
        w::Mutation::Update(r) => m::Mutation::Update {
            table: r.table,
            set: r
                .set
                .into_iter()
                .map(|a| m::Assignment {
                    column: a.column,
                    op: column_op(a.op, size),
                })
                .collect(),
            conditions: conditions(r.where_, size),
            bump: r.bump,
        },
        w::Mutation::Delete(r) => m::Mutation::Delete {
            table: r.table,
            conditions: conditions(r.where_, size),
        },
        w::Mutation::Copy(r) => m::Mutation::Copy {
            table: r.table,
            source_table: r.source_table,
            columns: r
                .columns
                .into_iter()
                .map(|c| m::CopyColumn {
                    column: c.column,
                    source: match c.source {
                        w::CopySource::Column(name) => m::CopySource::Column(name),
                        w::CopySource::Value(v) => m::CopySource::Value(value(v, size)),
                    },
                })
                .collect(),
            conditions: conditions(r.where_, size),
            conflict: r.conflict,
            bump: r.bump,
        },
    }
}

/// A WIT projection error as an SDK error.
pub fn error(e: w::ProjectionError) -> m::ProjectionError {
    match e {
        w::ProjectionError::UnhandledEvent(s) => m::ProjectionError::UnhandledEvent(s),
        w::ProjectionError::InvalidPayload(s) => m::ProjectionError::InvalidPayload(s),
        w::ProjectionError::NotFound(s) => m::ProjectionError::NotFound(s),
        w::ProjectionError::Failed(s) => m::ProjectionError::Failed(s),
    }
}
