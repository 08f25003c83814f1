//! Views: read-only queries over a family's own tables, declared by the
//! plugin and rendered to SQL by the host.
//!
//! A view is a base table, left joins of other tables of the family, and
//! output columns computed by a small typed expression language. The host
//! adds the tenant to every join, so a view never mixes tenants.
//!
//! ```
//! use projection_model::{ColumnType, Table, View};
//!
//! let mut view = View::new("greeting_names", "greetings_projection", "g");
//! let id = view.column("g", "id");
//! let text = view.column("g", "text");
//! let lower = view.lower(text);
//! let tenant = view.column("g", "instance_id");
//! view.output("id", id);
//! view.output("text_lower", lower);
//! view.output("instance_id", tenant);
//! assert_eq!(view.columns.len(), 3);
//! ```

mod check;

pub use check::{ViewError, check_view, view_shape};

use serde::{Deserialize, Serialize};

use crate::Value;

/// An expression of a view, by its index in [`View::exprs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExprRef(pub u32);

/// One expression of a view; operands are earlier expressions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewExpr {
    /// A column of the table with this alias.
    Column {
        /// Alias of the base table or a join.
        alias: String,
        /// Column.
        column: String,
    },
    /// A constant: null, text, int or boolean.
    Literal(Value),
    /// `lower(text)`.
    Lower(ExprRef),
    /// Text concatenation (NULL if any part is NULL).
    Concat(Vec<ExprRef>),
    /// The first part that is not NULL.
    Coalesce(Vec<ExprRef>),
    /// Equality (NULL when either side is NULL).
    Equals(ExprRef, ExprRef),
    /// Boolean negation.
    Not(ExprRef),
    /// Every boolean holds.
    All(Vec<ExprRef>),
    /// The expression is NULL.
    IsNull(ExprRef),
    /// `CASE WHEN condition THEN then ELSE otherwise END`.
    When {
        /// Boolean condition.
        condition: ExprRef,
        /// Value when it holds.
        then: ExprRef,
        /// Value otherwise.
        otherwise: ExprRef,
    },
}

/// A left join of one of the family's tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Join {
    /// Joined table.
    pub table: String,
    /// Its alias.
    pub alias: String,
    /// Boolean expressions that must all hold (the host adds the tenant).
    pub on: Vec<ExprRef>,
}

/// One output column of a view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewColumn {
    /// Column name.
    pub name: String,
    /// Its expression.
    pub expr: ExprRef,
}

/// A read-only view over a family's tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// View name.
    pub name: String,
    /// Base table.
    pub table: String,
    /// Alias of the base table.
    pub alias: String,
    /// Left joins, in order.
    pub joins: Vec<Join>,
    /// Expressions; each reads only earlier ones.
    pub exprs: Vec<ViewExpr>,
    /// Output columns.
    pub columns: Vec<ViewColumn>,
}

impl View {
    /// Start a view over `table`, called `alias` in expressions.
    pub fn new(name: &str, table: &str, alias: &str) -> View {
        View {
            name: name.to_owned(),
            table: table.to_owned(),
            alias: alias.to_owned(),
            joins: Vec::new(),
            exprs: Vec::new(),
            columns: Vec::new(),
        }
    }

    fn push(&mut self, expr: ViewExpr) -> ExprRef {
        let index = u32::try_from(self.exprs.len()).unwrap_or(u32::MAX);
        self.exprs.push(expr);
        ExprRef(index)
    }

    /// A column of the base table or of a join.
    pub fn column(&mut self, alias: &str, column: &str) -> ExprRef {
        self.push(ViewExpr::Column {
            alias: alias.to_owned(),
            column: column.to_owned(),
        })
    }

    /// A constant.
    pub fn literal(&mut self, value: impl Into<Value>) -> ExprRef {
        self.push(ViewExpr::Literal(value.into()))
    }

    /// `lower(text)`.
    pub fn lower(&mut self, text: ExprRef) -> ExprRef {
        self.push(ViewExpr::Lower(text))
    }

    /// Concatenate texts.
    pub fn concat(&mut self, parts: &[ExprRef]) -> ExprRef {
        self.push(ViewExpr::Concat(parts.to_vec()))
    }

    /// The first part that is not NULL.
    pub fn coalesce(&mut self, parts: &[ExprRef]) -> ExprRef {
        self.push(ViewExpr::Coalesce(parts.to_vec()))
    }

    /// `left = right`.
    pub fn equals(&mut self, left: ExprRef, right: ExprRef) -> ExprRef {
        self.push(ViewExpr::Equals(left, right))
    }

    /// `NOT value`.
    pub fn not(&mut self, value: ExprRef) -> ExprRef {
        self.push(ViewExpr::Not(value))
    }

    /// Every boolean holds.
    pub fn all(&mut self, parts: &[ExprRef]) -> ExprRef {
        self.push(ViewExpr::All(parts.to_vec()))
    }

    /// `value IS NULL`.
    pub fn is_null(&mut self, value: ExprRef) -> ExprRef {
        self.push(ViewExpr::IsNull(value))
    }

    /// `CASE WHEN condition THEN then ELSE otherwise END`.
    pub fn when(&mut self, condition: ExprRef, then: ExprRef, otherwise: ExprRef) -> ExprRef {
        self.push(ViewExpr::When {
            condition,
            then,
            otherwise,
        })
    }

    /// Left-join `table` as `alias` where every `on` expression holds.
    pub fn left_join(&mut self, table: &str, alias: &str, on: &[ExprRef]) {
        self.joins.push(Join {
            table: table.to_owned(),
            alias: alias.to_owned(),
            on: on.to_vec(),
        });
    }

    /// Add an output column.
    pub fn output(&mut self, name: &str, expr: ExprRef) {
        self.columns.push(ViewColumn {
            name: name.to_owned(),
            expr,
        });
    }

    /// Expression number `index`, if it exists.
    pub fn expr(&self, index: ExprRef) -> Option<&ViewExpr> {
        self.exprs.get(index.0 as usize)
    }
}
