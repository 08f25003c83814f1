//! Tables and views in WIT types.

use super::{column_type, value, w};
use projection_model as m;

pub(super) fn table(t: m::Table) -> w::Table {
    w::Table {
        name: t.name,
        columns: t
            .columns
            .into_iter()
            .map(|c| w::Column {
                name: c.name,
                kind: column_type(c.kind),
                nullable: c.nullable,
                default: c.default.map(value),
                generated: c.generated.map(|g| match g {
                    m::Generated::Lower(source) => w::Generated::LowerCase(source),
                }),
            })
            .collect(),
        primary_key: t.primary_key,
        indexes: t
            .indexes
            .into_iter()
            .map(|i| w::Index {
                name: i.name,
                columns: i.columns.into_iter().map(index_key).collect(),
                include: i.include,
            })
            .collect(),
        parent: t.parent,
    }
}

fn index_key(key: m::IndexKey) -> w::IndexKey {
    match key {
        m::IndexKey::Column(c) => w::IndexKey::Column(c),
        m::IndexKey::Expression(m::IndexExpression::Lower(c)) => w::IndexKey::LowerCase(c),
        m::IndexKey::Expression(m::IndexExpression::Sha256(c)) => w::IndexKey::Sha256(c),
    }
}

fn expr(e: m::ViewExpr) -> w::ViewExpr {
    let refs = |r: Vec<m::ExprRef>| r.into_iter().map(|r| r.0).collect();
    match e {
        m::ViewExpr::Column { alias, column } => {
            w::ViewExpr::Column(w::ColumnRef { alias, column })
        }
        m::ViewExpr::Literal(l) => w::ViewExpr::Literal(value(l)),
        m::ViewExpr::Lower(a) => w::ViewExpr::LowerCase(a.0),
        m::ViewExpr::Concat(parts) => w::ViewExpr::Concat(refs(parts)),
        m::ViewExpr::Coalesce(parts) => w::ViewExpr::Coalesce(refs(parts)),
        m::ViewExpr::Equals(a, b) => w::ViewExpr::Equals((a.0, b.0)),
        m::ViewExpr::Not(a) => w::ViewExpr::Not(a.0),
        m::ViewExpr::All(parts) => w::ViewExpr::All(refs(parts)),
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
    }
}

pub(super) fn view(view: m::View) -> w::View {
    w::View {
        name: view.name,
        table: view.table,
        alias: view.alias,
        joins: view
            .joins
            .into_iter()
            .map(|j| w::Join {
                table: j.table,
                alias: j.alias,
                on: j.on.into_iter().map(|r| r.0).collect(),
            })
            .collect(),
        exprs: view.exprs.into_iter().map(expr).collect(),
        columns: view
            .columns
            .into_iter()
            .map(|c| w::ViewColumn {
                name: c.name,
                expr: c.expr.0,
            })
            .collect(),
    }
}
