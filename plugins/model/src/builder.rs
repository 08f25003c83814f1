//! Builders for row mutations.
//!
//! ```
//! use projection_model::{insert, update};
//! let added = insert("orgs_projection").value("id", "org-1").value("name", "ACME").build();
//! let renamed = update("orgs_projection").set("name", "ACME Inc").eq("id", "org-1").build();
//! assert_eq!(added.table(), renamed.table());
//! ```
//!
//! The host adds the tenant scope (`instance_id`) to every mutation and, unless
//! a builder says `no_bump()`, stamps `change_date` and `sequence` (and
//! `creation_date` on inserts) from the event.

use crate::{
    Assignment, Cell, ColumnOp, CompareOp, Condition, CopyColumn, CopySource, Mutation, Predicate,
    RowSide, UpdateWhen, Value,
};

/// Start an insert into `table`.
pub fn insert(table: &str) -> RowBuilder {
    RowBuilder {
        table: table.to_owned(),
        values: Vec::new(),
        conflict: None,
        keep: Vec::new(),
        update_when: Vec::new(),
        bump: true,
    }
}

/// Start an upsert into `table`, conflicting on `conflict`.
pub fn upsert(table: &str, conflict: &[&str]) -> RowBuilder {
    RowBuilder {
        table: table.to_owned(),
        values: Vec::new(),
        conflict: Some(conflict.iter().map(|c| (*c).to_owned()).collect()),
        keep: Vec::new(),
        update_when: Vec::new(),
        bump: true,
    }
}

/// Start an update of `table`.
pub fn update(table: &str) -> UpdateBuilder {
    UpdateBuilder {
        table: table.to_owned(),
        set: Vec::new(),
        conditions: Conditions::default(),
        bump: true,
    }
}

/// Start a delete from `table`.
pub fn delete(table: &str) -> DeleteBuilder {
    DeleteBuilder {
        table: table.to_owned(),
        conditions: Conditions::default(),
    }
}

/// Start a copy of rows of `source_table` into `table`, upserting on `conflict`.
pub fn copy(table: &str, source_table: &str, conflict: &[&str]) -> CopyBuilder {
    CopyBuilder {
        table: table.to_owned(),
        source_table: source_table.to_owned(),
        columns: Vec::new(),
        conditions: Conditions::default(),
        conflict: conflict.iter().map(|c| (*c).to_owned()).collect(),
        bump: true,
    }
}

/// Builds an insert or upsert.
#[derive(Debug, Clone)]
pub struct RowBuilder {
    table: String,
    values: Vec<Cell>,
    conflict: Option<Vec<String>>,
    keep: Vec<String>,
    update_when: Vec<UpdateWhen>,
    bump: bool,
}

impl RowBuilder {
    /// On conflict, update `column` only when every predicate holds on the
    /// stored or incoming row (upserts).
    pub fn update_when(mut self, column: &str, when: Vec<(RowSide, Predicate)>) -> Self {
        self.update_when.push(UpdateWhen {
            column: column.to_owned(),
            when,
        });
        self
    }

    /// Set a column.
    pub fn value(mut self, column: &str, value: impl Into<Value>) -> Self {
        self.values.push(Cell {
            column: column.to_owned(),
            value: value.into(),
        });
        self
    }

    /// Keep these columns' existing values when the row exists (upserts).
    pub fn keep_on_conflict(mut self, columns: &[&str]) -> Self {
        self.keep.extend(columns.iter().map(|c| (*c).to_owned()));
        self
    }

    /// Do not stamp change_date/sequence from the event.
    pub fn no_bump(mut self) -> Self {
        self.bump = false;
        self
    }

    /// Finish.
    pub fn build(self) -> Mutation {
        match self.conflict {
            None => Mutation::Insert {
                table: self.table,
                values: self.values,
                bump: self.bump,
            },
            Some(conflict) => Mutation::Upsert {
                table: self.table,
                values: self.values,
                conflict,
                keep_on_conflict: self.keep,
                update_when: self.update_when,
                bump: self.bump,
            },
        }
    }
}

/// Conditions shared by the builders that filter rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Conditions(Vec<Condition>);

impl Conditions {
    fn compare(&mut self, column: &str, op: CompareOp, value: Value) {
        self.0.push(Condition::All(Predicate::Compare {
            column: column.to_owned(),
            op,
            value,
        }));
    }
}

macro_rules! filter_methods {
    () => {
        /// Require `column = value`.
        pub fn eq(mut self, column: &str, value: impl Into<Value>) -> Self {
            self.conditions.compare(column, CompareOp::Eq, value.into());
            self
        }

        /// Require `column <> value`.
        pub fn not_eq(mut self, column: &str, value: impl Into<Value>) -> Self {
            self.conditions
                .compare(column, CompareOp::NotEq, value.into());
            self
        }

        /// Require `column < value`.
        pub fn lt(mut self, column: &str, value: impl Into<Value>) -> Self {
            self.conditions.compare(column, CompareOp::Lt, value.into());
            self
        }

        /// Require the array column to contain `element`.
        pub fn array_contains(mut self, column: &str, element: impl Into<Value>) -> Self {
            self.conditions
                .compare(column, CompareOp::ArrayContains, element.into());
            self
        }

        /// Require `column IS NULL`.
        pub fn is_null(mut self, column: &str) -> Self {
            self.conditions
                .0
                .push(Condition::All(Predicate::IsNull(column.to_owned())));
            self
        }

        /// Require `column IS NOT NULL`.
        pub fn is_not_null(mut self, column: &str) -> Self {
            self.conditions
                .0
                .push(Condition::All(Predicate::IsNotNull(column.to_owned())));
            self
        }

        /// Require `column` to equal one of `values`.
        pub fn one_of(mut self, column: &str, values: Vec<Value>) -> Self {
            self.conditions.0.push(Condition::All(Predicate::OneOf {
                column: column.to_owned(),
                values,
            }));
            self
        }

        /// Add any condition.
        pub fn condition(mut self, condition: Condition) -> Self {
            self.conditions.0.push(condition);
            self
        }
    };
}

/// Builds an update.
#[derive(Debug, Clone)]
pub struct UpdateBuilder {
    table: String,
    set: Vec<Assignment>,
    conditions: Conditions,
    bump: bool,
}

impl UpdateBuilder {
    filter_methods!();

    /// Apply a column operation.
    pub fn op(mut self, column: &str, op: ColumnOp) -> Self {
        self.set.push(Assignment {
            column: column.to_owned(),
            op,
        });
        self
    }

    /// Set a column to a value.
    pub fn set(self, column: &str, value: impl Into<Value>) -> Self {
        self.op(column, ColumnOp::Set(value.into()))
    }

    /// Do not stamp change_date/sequence from the event.
    pub fn no_bump(mut self) -> Self {
        self.bump = false;
        self
    }

    /// Finish.
    pub fn build(self) -> Mutation {
        Mutation::Update {
            table: self.table,
            set: self.set,
            conditions: self.conditions.0,
            bump: self.bump,
        }
    }
}

/// Builds a delete.
#[derive(Debug, Clone)]
pub struct DeleteBuilder {
    table: String,
    conditions: Conditions,
}

impl DeleteBuilder {
    filter_methods!();

    /// Finish.
    pub fn build(self) -> Mutation {
        Mutation::Delete {
            table: self.table,
            conditions: self.conditions.0,
        }
    }
}

/// Builds a copy.
#[derive(Debug, Clone)]
pub struct CopyBuilder {
    table: String,
    source_table: String,
    columns: Vec<CopyColumn>,
    conditions: Conditions,
    conflict: Vec<String>,
    bump: bool,
}

impl CopyBuilder {
    filter_methods!();

    /// Copy a column of the source row into the same-named target column.
    pub fn column(self, column: &str) -> Self {
        self.column_from(column, column)
    }

    /// Copy source column `from` into target column `column`.
    pub fn column_from(mut self, column: &str, from: &str) -> Self {
        self.columns.push(CopyColumn {
            column: column.to_owned(),
            source: CopySource::Column(from.to_owned()),
        });
        self
    }

    /// Set a target column to a constant.
    pub fn value(mut self, column: &str, value: impl Into<Value>) -> Self {
        self.columns.push(CopyColumn {
            column: column.to_owned(),
            source: CopySource::Value(value.into()),
        });
        self
    }

    /// Do not stamp change_date/sequence from the event.
    pub fn no_bump(mut self) -> Self {
        self.bump = false;
        self
    }

    /// Finish.
    pub fn build(self) -> Mutation {
        Mutation::Copy {
            table: self.table,
            source_table: self.source_table,
            columns: self.columns,
            conditions: self.conditions.0,
            conflict: self.conflict,
            bump: self.bump,
        }
    }
}
