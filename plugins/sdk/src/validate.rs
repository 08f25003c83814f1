//! Check a plugin's mutation against its family's description, scope it to
//! the event's tenant and stamp it from the event.
//!
//! The host runs [`scope`] on every mutation before any SQL exists, and the
//! native conformance harness runs the same function, so a family behaves
//! the same under test as in production. Invariants it enforces:
//!
//! - only tables the family declared, only declared columns, values of the
//!   declared types, no NULL in a NOT NULL column;
//! - `instance_id` is the event's tenant: the host adds it, and a plugin that
//!   names another tenant is refused;
//! - updates change at least one column and updates/deletes carry at least one
//!   condition of their own;
//! - upserts conflict on the primary key;
//! - `change_date`, `sequence` (and `creation_date` on inserts) come from the
//!   event unless the mutation opts out of the bump.

use crate::Event;
use crate::model::{
    Assignment, Cell, ColumnOp, ColumnType, CompareOp, Condition, CopyColumn, CopySource,
    Description, Mutation, Predicate, Table, UpdateWhen, Value,
};

/// The tenant column every table leads with.
pub const TENANT_COLUMN: &str = "instance_id";
/// Stamped with the event's creation time.
pub const CHANGE_DATE: &str = "change_date";
/// Stamped with the event's creation time on insert.
pub const CREATION_DATE: &str = "creation_date";
/// Stamped with the event's sequence.
pub const SEQUENCE: &str = "sequence";

/// Why a mutation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The family did not declare the table.
    #[error("table {0:?} is not owned by family {1:?}")]
    ForeignTable(String, String),
    /// The table has no such column.
    #[error("table {table:?} has no column {column:?}")]
    UnknownColumn {
        /// Table.
        table: String,
        /// Column.
        column: String,
    },
    /// The value does not fit the column's type.
    #[error("column {table}.{column} is {expected:?}, got a {found} value")]
    WrongType {
        /// Table.
        table: String,
        /// Column.
        column: String,
        /// Declared type.
        expected: ColumnType,
        /// Kind of the value given.
        found: &'static str,
    },
    /// NULL into a NOT NULL column.
    #[error("column {table}.{column} is NOT NULL, got null")]
    NullNotAllowed {
        /// Table.
        table: String,
        /// Column.
        column: String,
    },
    /// The mutation names a tenant other than the event's.
    #[error("mutation of {table:?} names tenant {found:?}, the event's tenant is {tenant:?}")]
    ForeignTenant {
        /// Table.
        table: String,
        /// Tenant named.
        found: String,
        /// The event's tenant.
        tenant: String,
    },
    /// An update or delete without a condition of its own.
    #[error("{op} of {table:?} has no condition")]
    MissingCondition {
        /// Operation.
        op: &'static str,
        /// Table.
        table: String,
    },
    /// An update that changes nothing.
    #[error("update of {0:?} sets no column")]
    NoAssignment(String),
    /// Upsert conflict columns that are not the primary key.
    #[error("conflict columns {found:?} of {table:?} are not its primary key {primary_key:?}")]
    BadConflict {
        /// Table.
        table: String,
        /// Given conflict columns.
        found: Vec<String>,
        /// Primary key.
        primary_key: Vec<String>,
    },
    /// A column named twice.
    #[error("column {table}.{column} is written twice")]
    DuplicateColumn {
        /// Table.
        table: String,
        /// Column.
        column: String,
    },
    /// An operation that does not fit the column (e.g. append to a non-array).
    #[error("column {table}.{column}: {message}")]
    BadOperation {
        /// Table.
        table: String,
        /// Column.
        column: String,
        /// What is wrong.
        message: String,
    },
}

/// Validate `mutation` for `description`, then scope and stamp it from `event`.
pub fn scope(
    description: &Description,
    event: &Event,
    mutation: Mutation,
) -> Result<Mutation, Rejection> {
    let table = owned_table(description, mutation.table())?;
    let check = Checker { table, event };
    match mutation {
        Mutation::Insert {
            table: name,
            values,
            bump,
        } => Ok(Mutation::Insert {
            values: check.row(values, bump)?,
            table: name,
            bump,
        }),
        Mutation::Upsert {
            table: name,
            values,
            conflict,
            keep_on_conflict,
            update_when,
            bump,
        } => {
            let conflict = check.conflict(conflict)?;
            for column in &keep_on_conflict {
                check.column(column)?;
            }
            check.update_when(&update_when, &values, &conflict)?;
            let mut keep_on_conflict = keep_on_conflict;
            let values = check.row(values, bump)?;
            if bump
                && table.find_column(CREATION_DATE).is_some()
                && !keep_on_conflict.iter().any(|c| c == CREATION_DATE)
            {
                keep_on_conflict.push(CREATION_DATE.to_owned());
            }
            Ok(Mutation::Upsert {
                table: name,
                values,
                conflict,
                keep_on_conflict,
                update_when,
                bump,
            })
        }
        Mutation::Update {
            table: name,
            set,
            conditions,
            bump,
        } => {
            let conditions = check.conditions(conditions, "update")?;
            Ok(Mutation::Update {
                set: check.assignments(set, bump)?,
                table: name,
                conditions,
                bump,
            })
        }
        Mutation::Delete {
            table: name,
            conditions,
        } => Ok(Mutation::Delete {
            conditions: check.conditions(conditions, "delete")?,
            table: name,
        }),
        Mutation::Copy {
            table: name,
            source_table,
            columns,
            conditions,
            conflict,
            bump,
        } => {
            let source = owned_table(description, &source_table)?;
            let source_check = Checker {
                table: source,
                event,
            };
            let conditions = source_check.conditions(conditions, "copy")?;
            let columns = check.copy_columns(columns, source, bump)?;
            let conflict = check.conflict(conflict)?;
            Ok(Mutation::Copy {
                table: name,
                source_table,
                columns,
                conditions,
                conflict,
                bump,
            })
        }
    }
}

fn owned_table<'d>(description: &'d Description, name: &str) -> Result<&'d Table, Rejection> {
    description
        .find_table(name)
        .ok_or_else(|| Rejection::ForeignTable(name.to_owned(), description.name.clone()))
}

struct Checker<'a> {
    table: &'a Table,
    event: &'a Event,
}

impl Checker<'_> {
    fn column(&self, name: &str) -> Result<ColumnType, Rejection> {
        self.table
            .find_column(name)
            .map(|c| c.kind)
            .ok_or_else(|| Rejection::UnknownColumn {
                table: self.table.name.clone(),
                column: name.to_owned(),
            })
    }

    /// Check a value written into (or compared with) a column.
    fn value(&self, column: &str, value: &Value, write: bool) -> Result<(), Rejection> {
        let kind = self.column(column)?;
        if !kind.accepts(value) {
            return Err(self.wrong_type(column, kind, value));
        }
        if write && matches!(value, Value::Null) {
            let nullable = self.table.find_column(column).is_some_and(|c| c.nullable);
            if !nullable {
                return Err(Rejection::NullNotAllowed {
                    table: self.table.name.clone(),
                    column: column.to_owned(),
                });
            }
        }
        if column == TENANT_COLUMN {
            self.tenant(value)?;
        }
        Ok(())
    }

    fn wrong_type(&self, column: &str, expected: ColumnType, value: &Value) -> Rejection {
        Rejection::WrongType {
            table: self.table.name.clone(),
            column: column.to_owned(),
            expected,
            found: value.kind_name(),
        }
    }

    fn tenant(&self, value: &Value) -> Result<(), Rejection> {
        match value {
            Value::Text(t) if *t == self.event.instance_id => Ok(()),
            other => Err(Rejection::ForeignTenant {
                table: self.table.name.clone(),
                found: match other {
                    Value::Text(t) => t.clone(),
                    v => format!("<{} value>", v.kind_name()),
                },
                tenant: self.event.instance_id.clone(),
            }),
        }
    }

    fn no_duplicates<'c>(&self, columns: impl Iterator<Item = &'c str>) -> Result<(), Rejection> {
        let mut seen: Vec<&str> = Vec::new();
        for column in columns {
            if seen.contains(&column) {
                return Err(Rejection::DuplicateColumn {
                    table: self.table.name.clone(),
                    column: column.to_owned(),
                });
            }
            seen.push(column);
        }
        Ok(())
    }

    fn has(&self, column: &str) -> bool {
        self.table.find_column(column).is_some()
    }

    /// Values of an inserted row, scoped and stamped.
    fn row(&self, mut values: Vec<Cell>, bump: bool) -> Result<Vec<Cell>, Rejection> {
        self.no_duplicates(values.iter().map(|c| c.column.as_str()))?;
        for cell in &values {
            self.value(&cell.column, &cell.value, true)?;
        }
        let mut set_cell = |column: &str, value: Value, overwrite: bool| match values
            .iter_mut()
            .find(|c| c.column == column)
        {
            Some(cell) if overwrite => cell.value = value,
            Some(_) => {}
            None => values.push(Cell {
                column: column.to_owned(),
                value,
            }),
        };
        set_cell(
            TENANT_COLUMN,
            Value::Text(self.event.instance_id.clone()),
            false,
        );
        if bump {
            let now = Value::Timestamp(self.event.created_at);
            if self.has(CREATION_DATE) {
                set_cell(CREATION_DATE, now.clone(), false);
            }
            if self.has(CHANGE_DATE) {
                set_cell(CHANGE_DATE, now, true);
            }
            if self.has(SEQUENCE) {
                set_cell(SEQUENCE, Value::Int(self.event.sequence), true);
            }
        }
        Ok(values)
    }

    /// Conditional on-conflict columns must be written, not keys, and their
    /// predicates must fit the table.
    fn update_when(
        &self,
        rules: &[UpdateWhen],
        values: &[Cell],
        conflict: &[String],
    ) -> Result<(), Rejection> {
        for rule in rules {
            let bad = |message: &str| Rejection::BadOperation {
                table: self.table.name.clone(),
                column: rule.column.clone(),
                message: message.to_owned(),
            };
            self.column(&rule.column)?;
            if !values.iter().any(|c| c.column == rule.column) {
                return Err(bad(
                    "a conditional update needs the column among the values",
                ));
            }
            if conflict.contains(&rule.column) {
                return Err(bad("a conflict column cannot be updated"));
            }
            for (_, predicate) in &rule.when {
                self.predicate(predicate)?;
            }
        }
        Ok(())
    }

    fn conflict(&self, conflict: Vec<String>) -> Result<Vec<String>, Rejection> {
        let mut conflict = conflict;
        if !conflict.iter().any(|c| c == TENANT_COLUMN) {
            conflict.insert(0, TENANT_COLUMN.to_owned());
        }
        let same_set = conflict.len() == self.table.primary_key.len()
            && conflict.iter().all(|c| self.table.primary_key.contains(c));
        if !same_set {
            return Err(Rejection::BadConflict {
                table: self.table.name.clone(),
                found: conflict,
                primary_key: self.table.primary_key.clone(),
            });
        }
        Ok(conflict)
    }

    fn predicate(&self, predicate: &Predicate) -> Result<(), Rejection> {
        match predicate {
            Predicate::Compare { column, op, value } => {
                let kind = self.column(column)?;
                if *op == CompareOp::ArrayContains {
                    self.element(column, kind, value)
                } else {
                    self.value(column, value, false)
                }
            }
            Predicate::IsNull(column) | Predicate::IsNotNull(column) => {
                self.column(column).map(|_| ())
            }
            Predicate::OneOf { column, values } => {
                values.iter().try_for_each(|v| self.value(column, v, false))
            }
        }
    }

    /// Check an array element against an array column.
    fn element(&self, column: &str, kind: ColumnType, value: &Value) -> Result<(), Rejection> {
        let fits = matches!(
            (kind, value),
            (ColumnType::TextArray, Value::Text(_))
                | (
                    ColumnType::SmallIntArray | ColumnType::IntArray,
                    Value::Int(_)
                )
        );
        if fits {
            Ok(())
        } else if !kind.is_array() {
            Err(Rejection::BadOperation {
                table: self.table.name.clone(),
                column: column.to_owned(),
                message: "not an array column".to_owned(),
            })
        } else {
            Err(self.wrong_type(column, kind, value))
        }
    }

    fn conditions(
        &self,
        mut conditions: Vec<Condition>,
        op: &'static str,
    ) -> Result<Vec<Condition>, Rejection> {
        if conditions.is_empty() {
            return Err(Rejection::MissingCondition {
                op,
                table: self.table.name.clone(),
            });
        }
        for condition in &conditions {
            for predicate in condition.predicates() {
                self.predicate(predicate)?;
                let tenant_equality = matches!(
                    (condition, predicate),
                    (
                        Condition::All(_),
                        Predicate::Compare {
                            op: CompareOp::Eq,
                            ..
                        }
                    )
                );
                if predicate.column() == TENANT_COLUMN && !tenant_equality {
                    return Err(Rejection::BadOperation {
                        table: self.table.name.clone(),
                        column: TENANT_COLUMN.to_owned(),
                        message: "the tenant may only be compared for equality".to_owned(),
                    });
                }
            }
        }
        let scoped = conditions.iter().any(|c| {
            matches!(c, Condition::All(Predicate::Compare { column, op: CompareOp::Eq, .. })
                if column == TENANT_COLUMN)
        });
        if !scoped {
            conditions.insert(
                0,
                Condition::eq(TENANT_COLUMN, self.event.instance_id.as_str()),
            );
        }
        Ok(conditions)
    }

    fn assignments(&self, set: Vec<Assignment>, bump: bool) -> Result<Vec<Assignment>, Rejection> {
        if set.is_empty() {
            return Err(Rejection::NoAssignment(self.table.name.clone()));
        }
        self.no_duplicates(set.iter().map(|a| a.column.as_str()))?;
        for assignment in &set {
            self.assignment(assignment)?;
        }
        let mut set = set;
        if bump {
            for (column, value) in [
                (CHANGE_DATE, Value::Timestamp(self.event.created_at)),
                (SEQUENCE, Value::Int(self.event.sequence)),
            ] {
                if !self.has(column) {
                    continue;
                }
                let op = ColumnOp::Set(value);
                match set.iter_mut().find(|a| a.column == column) {
                    Some(a) => a.op = op,
                    None => set.push(Assignment {
                        column: column.to_owned(),
                        op,
                    }),
                }
            }
        }
        Ok(set)
    }

    fn assignment(&self, assignment: &Assignment) -> Result<(), Rejection> {
        let column = assignment.column.as_str();
        if column == TENANT_COLUMN {
            return Err(Rejection::BadOperation {
                table: self.table.name.clone(),
                column: column.to_owned(),
                message: "the tenant column cannot be changed".to_owned(),
            });
        }
        let kind = self.column(column)?;
        match &assignment.op {
            ColumnOp::Set(value) => self.value(column, value, true),
            ColumnOp::ArrayAppend(value) | ColumnOp::ArrayRemove(value) => {
                self.element(column, kind, value)
            }
            ColumnOp::ArrayIntersect(_) if kind == ColumnType::TextArray => Ok(()),
            ColumnOp::Increment(_) if matches!(kind, ColumnType::Int | ColumnType::SmallInt) => {
                Ok(())
            }
            ColumnOp::CopyFrom(source) => {
                let source_kind = self.column(source)?;
                if source_kind == kind {
                    Ok(())
                } else {
                    Err(Rejection::BadOperation {
                        table: self.table.name.clone(),
                        column: column.to_owned(),
                        message: format!("cannot copy from {source} of type {source_kind:?}"),
                    })
                }
            }
            ColumnOp::ArrayIntersect(_) | ColumnOp::Increment(_) => Err(Rejection::BadOperation {
                table: self.table.name.clone(),
                column: column.to_owned(),
                message: format!("operation does not fit type {kind:?}"),
            }),
        }
    }

    fn copy_columns(
        &self,
        columns: Vec<CopyColumn>,
        source: &Table,
        bump: bool,
    ) -> Result<Vec<CopyColumn>, Rejection> {
        self.no_duplicates(columns.iter().map(|c| c.column.as_str()))?;
        for copy in &columns {
            let kind = self.column(&copy.column)?;
            match &copy.source {
                CopySource::Value(value) => self.value(&copy.column, value, true)?,
                CopySource::Column(from) => {
                    let from_kind = source.find_column(from).map(|c| c.kind).ok_or_else(|| {
                        Rejection::UnknownColumn {
                            table: source.name.clone(),
                            column: from.clone(),
                        }
                    })?;
                    if from_kind != kind {
                        return Err(Rejection::BadOperation {
                            table: self.table.name.clone(),
                            column: copy.column.clone(),
                            message: format!("cannot copy from {from} of type {from_kind:?}"),
                        });
                    }
                    if copy.column == TENANT_COLUMN && from != TENANT_COLUMN {
                        return Err(Rejection::BadOperation {
                            table: self.table.name.clone(),
                            column: copy.column.clone(),
                            message: "the tenant can only be copied from the tenant".to_owned(),
                        });
                    }
                }
            }
        }
        let mut columns = columns;
        let mut put = |column: &str, source: CopySource, overwrite: bool| match columns
            .iter_mut()
            .find(|c| c.column == column)
        {
            Some(c) if overwrite => c.source = source,
            Some(_) => {}
            None => columns.push(CopyColumn {
                column: column.to_owned(),
                source,
            }),
        };
        put(
            TENANT_COLUMN,
            CopySource::Value(Value::Text(self.event.instance_id.clone())),
            false,
        );
        if bump {
            if self.has(CHANGE_DATE) {
                put(
                    CHANGE_DATE,
                    CopySource::Value(Value::Timestamp(self.event.created_at)),
                    true,
                );
            }
            if self.has(SEQUENCE) {
                put(
                    SEQUENCE,
                    CopySource::Value(Value::Int(self.event.sequence)),
                    true,
                );
            }
        }
        Ok(columns)
    }
}

#[cfg(test)]
mod tests;
