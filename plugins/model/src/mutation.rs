//! Row mutations: what a family returns for an event.

use serde::{Deserialize, Serialize};

use crate::Value;

/// A column paired with a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Column.
    pub column: String,
    /// Value.
    pub value: Value,
}

/// How an update changes a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnOp {
    /// Set a value.
    Set(Value),
    /// Append an element to an array.
    ArrayAppend(Value),
    /// Remove an element from an array.
    ArrayRemove(Value),
    /// Keep only these elements of a text array.
    ArrayIntersect(Vec<String>),
    /// Add to an integer.
    Increment(i64),
    /// Take another column's value of the same row.
    CopyFrom(String),
}

/// One column change of an update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Column.
    pub column: String,
    /// Change.
    pub op: ColumnOp,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareOp {
    /// `=`.
    Eq,
    /// `<>`.
    NotEq,
    /// `<`.
    Lt,
    /// The array column contains the element.
    ArrayContains,
}

/// One predicate on a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Predicate {
    /// `column op value`.
    Compare {
        /// Column.
        column: String,
        /// Operator.
        op: CompareOp,
        /// Value.
        value: Value,
    },
    /// `column IS NULL`.
    IsNull(String),
    /// `column IS NOT NULL`.
    IsNotNull(String),
    /// `column IN (values)`.
    OneOf {
        /// Column.
        column: String,
        /// Values.
        values: Vec<Value>,
    },
}

impl Predicate {
    /// The column the predicate reads.
    pub fn column(&self) -> &str {
        match self {
            Predicate::Compare { column, .. } | Predicate::OneOf { column, .. } => column,
            Predicate::IsNull(column) | Predicate::IsNotNull(column) => column,
        }
    }
}

/// One condition; a mutation's conditions are ANDed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The predicate holds.
    All(Predicate),
    /// At least one predicate holds.
    AnyOf(Vec<Predicate>),
    /// No predicate holds.
    NoneOf(Vec<Predicate>),
}

impl Condition {
    /// `column = value`.
    pub fn eq(column: &str, value: impl Into<Value>) -> Condition {
        Condition::All(Predicate::Compare {
            column: column.to_owned(),
            op: CompareOp::Eq,
            value: value.into(),
        })
    }

    /// The predicates of the condition.
    pub fn predicates(&self) -> &[Predicate] {
        match self {
            Condition::All(p) => std::slice::from_ref(p),
            Condition::AnyOf(ps) | Condition::NoneOf(ps) => ps,
        }
    }
}

/// Where a copied column's value comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CopySource {
    /// A column of the source row.
    Column(String),
    /// A constant.
    Value(Value),
}

/// One target column of a copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyColumn {
    /// Target column.
    pub column: String,
    /// Source.
    pub source: CopySource,
}

/// Which row a predicate of a conditional upsert reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowSide {
    /// The stored row.
    Existing,
    /// The row being inserted.
    Incoming,
}

/// On conflict, take the incoming value of `column` only when every
/// predicate holds (the reference's "only set in case").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateWhen {
    /// Column.
    pub column: String,
    /// Predicates on the stored or incoming row, all of which must hold.
    pub when: Vec<(RowSide, Predicate)>,
}

/// One row mutation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Mutation {
    /// Insert one row.
    Insert {
        /// Table.
        table: String,
        /// Values.
        values: Vec<Cell>,
        /// Stamp from the event.
        bump: bool,
    },
    /// Insert or update one row.
    Upsert {
        /// Table.
        table: String,
        /// Values.
        values: Vec<Cell>,
        /// Conflict columns.
        conflict: Vec<String>,
        /// Columns kept on conflict.
        keep_on_conflict: Vec<String>,
        /// Columns updated on conflict only under a condition.
        #[serde(default)]
        update_when: Vec<UpdateWhen>,
        /// Stamp from the event.
        bump: bool,
    },
    /// Update rows.
    Update {
        /// Table.
        table: String,
        /// Changes.
        set: Vec<Assignment>,
        /// Conditions.
        conditions: Vec<Condition>,
        /// Stamp from the event.
        bump: bool,
    },
    /// Delete rows.
    Delete {
        /// Table.
        table: String,
        /// Conditions.
        conditions: Vec<Condition>,
    },
    /// Copy rows within the family's tables.
    Copy {
        /// Target table.
        table: String,
        /// Source table.
        source_table: String,
        /// Target columns and sources.
        columns: Vec<CopyColumn>,
        /// Conditions on the source rows.
        conditions: Vec<Condition>,
        /// Conflict columns.
        conflict: Vec<String>,
        /// Stamp from the event.
        bump: bool,
    },
}

impl Mutation {
    /// The mutation with every table it names (the one it writes, and a
    /// copy's source) renamed by `rename`.
    pub fn rename_tables(mut self, rename: impl Fn(&str) -> String) -> Mutation {
        match &mut self {
            Mutation::Insert { table, .. }
            | Mutation::Upsert { table, .. }
            | Mutation::Update { table, .. }
            | Mutation::Delete { table, .. } => *table = rename(table),
            Mutation::Copy {
                table,
                source_table,
                ..
            } => {
                *table = rename(table);
                *source_table = rename(source_table);
            }
        }
        self
    }

    /// The table the mutation writes.
    pub fn table(&self) -> &str {
        match self {
            Mutation::Insert { table, .. }
            | Mutation::Upsert { table, .. }
            | Mutation::Update { table, .. }
            | Mutation::Delete { table, .. }
            | Mutation::Copy { table, .. } => table,
        }
    }
}
