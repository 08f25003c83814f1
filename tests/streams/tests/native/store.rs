//! In-memory tables that apply scoped mutations and refuse what the
//! database refuses: an insert whose primary key is taken, a sub-table row
//! whose parent row is missing. Deleting a parent row deletes its sub-table
//! rows, as the declared parent's foreign key does. A copy inserts a row
//! per matching source row, updating the copied columns of a row whose
//! conflict columns match.

use std::collections::{BTreeMap, HashMap};

use projection_sdk::{
    ColumnOp, CompareOp, Condition, CopySource, Description, Mutation, Predicate, Value,
};

type Row = BTreeMap<String, Value>;

/// One table's rows and what the checks need of its declaration.
struct Rows {
    key: Vec<String>,
    parent: Option<String>,
    defaults: Vec<(String, Value)>,
    rows: Vec<Row>,
}

/// The tables of the families.
pub(crate) struct Store {
    tables: HashMap<String, Rows>,
}

fn cell(row: &Row, column: &str) -> Value {
    row.get(column).cloned().unwrap_or(Value::Null)
}

fn key_of(row: &Row, key: &[String]) -> Vec<Value> {
    key.iter().map(|c| cell(row, c)).collect()
}

fn holds(row: &Row, predicate: &Predicate) -> bool {
    match predicate {
        Predicate::Compare { column, op, value } => {
            let stored = cell(row, column);
            match op {
                CompareOp::Eq => stored != Value::Null && stored == *value,
                CompareOp::NotEq => stored != Value::Null && stored != *value,
                CompareOp::Lt => match (&stored, value) {
                    (Value::Int(a), Value::Int(b)) | (Value::Timestamp(a), Value::Timestamp(b)) => {
                        a < b
                    }
                    _ => false,
                },
                CompareOp::ArrayContains => match (&stored, value) {
                    (Value::TextArray(items), Value::Text(t)) => items.contains(t),
                    _ => false,
                },
            }
        }
        Predicate::IsNull(column) => cell(row, column) == Value::Null,
        Predicate::IsNotNull(column) => cell(row, column) != Value::Null,
        Predicate::OneOf { column, values } => values.contains(&cell(row, column)),
    }
}

fn matches(row: &Row, conditions: &[Condition]) -> bool {
    conditions.iter().all(|c| match c {
        Condition::All(p) => holds(row, p),
        Condition::AnyOf(ps) => ps.iter().any(|p| holds(row, p)),
        Condition::NoneOf(ps) => !ps.iter().any(|p| holds(row, p)),
    })
}

fn assign(row: &mut Row, column: &str, op: &ColumnOp) {
    let new = match op {
        ColumnOp::Set(v) => v.clone(),
        ColumnOp::CopyFrom(source) => cell(row, source),
        ColumnOp::Increment(n) => match cell(row, column) {
            Value::Int(i) => Value::Int(i + n),
            other => other,
        },
        ColumnOp::ArrayAppend(Value::Text(t)) => match cell(row, column) {
            Value::TextArray(mut items) => {
                items.push(t.clone());
                Value::TextArray(items)
            }
            _ => Value::TextArray(vec![t.clone()]),
        },
        ColumnOp::ArrayAppend(Value::Int(n)) => match cell(row, column) {
            Value::IntArray(mut items) => {
                items.push(*n);
                Value::IntArray(items)
            }
            _ => Value::IntArray(vec![*n]),
        },
        ColumnOp::ArrayRemove(Value::Text(t)) => match cell(row, column) {
            Value::TextArray(items) => {
                Value::TextArray(items.into_iter().filter(|i| i != t).collect())
            }
            other => other,
        },
        ColumnOp::ArrayRemove(Value::Int(n)) => match cell(row, column) {
            Value::IntArray(items) => {
                Value::IntArray(items.into_iter().filter(|i| i != n).collect())
            }
            other => other,
        },
        ColumnOp::ArrayIntersect(keep) => match cell(row, column) {
            Value::TextArray(items) => {
                Value::TextArray(items.into_iter().filter(|i| keep.contains(i)).collect())
            }
            other => other,
        },
        ColumnOp::ArrayAppend(_) | ColumnOp::ArrayRemove(_) => cell(row, column),
    };
    row.insert(column.to_owned(), new);
}

impl Store {
    /// Empty tables of `descriptions`.
    pub(crate) fn new(descriptions: &[Description]) -> Store {
        let tables = descriptions
            .iter()
            .flat_map(|d| d.tables.iter())
            .map(|t| {
                let defaults = t
                    .columns
                    .iter()
                    .filter_map(|c| c.default.clone().map(|v| (c.name.clone(), v)))
                    .collect();
                let rows = Rows {
                    key: t.primary_key.clone(),
                    parent: t.parent.clone(),
                    defaults,
                    rows: Vec::new(),
                };
                (t.name.clone(), rows)
            })
            .collect();
        Store { tables }
    }

    /// How many rows each table holds.
    pub(crate) fn counts(&self) -> BTreeMap<String, usize> {
        self.tables
            .iter()
            .map(|(name, t)| (name.clone(), t.rows.len()))
            .collect()
    }

    /// Apply a scoped mutation; why the database would refuse it.
    pub(crate) fn apply(&mut self, mutation: &Mutation) -> Result<(), String> {
        match mutation {
            Mutation::Insert { table, values, .. } => {
                let row: Row = values
                    .iter()
                    .map(|c| (c.column.clone(), c.value.clone()))
                    .collect();
                self.insert(table, row)
            }
            Mutation::Upsert {
                table,
                values,
                conflict,
                keep_on_conflict,
                ..
            } => {
                let incoming: Row = values
                    .iter()
                    .map(|c| (c.column.clone(), c.value.clone()))
                    .collect();
                let rows = self.table(table)?;
                let wanted = key_of(&incoming, conflict);
                match rows.rows.iter_mut().find(|r| key_of(r, conflict) == wanted) {
                    Some(stored) => {
                        for (column, value) in incoming {
                            if !keep_on_conflict.contains(&column) {
                                stored.insert(column, value);
                            }
                        }
                        Ok(())
                    }
                    None => self.insert(table, incoming),
                }
            }
            Mutation::Update {
                table,
                set,
                conditions,
                ..
            } => {
                let rows = self.table(table)?;
                for row in rows.rows.iter_mut().filter(|r| matches(r, conditions)) {
                    for a in set {
                        assign(row, &a.column, &a.op);
                    }
                }
                Ok(())
            }
            Mutation::Delete { table, conditions } => {
                let rows = self.table(table)?;
                let key = rows.key.clone();
                let (gone, kept): (Vec<Row>, Vec<Row>) =
                    rows.rows.drain(..).partition(|r| matches(r, conditions));
                rows.rows = kept;
                let gone_keys: Vec<Vec<Value>> = gone.iter().map(|r| key_of(r, &key)).collect();
                self.cascade(table, &gone_keys);
                Ok(())
            }
            Mutation::Copy {
                table,
                source_table,
                columns,
                conditions,
                conflict,
                ..
            } => {
                let sources: Vec<Row> = self
                    .table(source_table)?
                    .rows
                    .iter()
                    .filter(|r| matches(r, conditions))
                    .cloned()
                    .collect();
                for source in sources {
                    let copied: Row = columns
                        .iter()
                        .map(|c| {
                            let value = match &c.source {
                                CopySource::Column(from) => cell(&source, from),
                                CopySource::Value(value) => value.clone(),
                            };
                            (c.column.clone(), value)
                        })
                        .collect();
                    let rows = self.table(table)?;
                    let wanted = key_of(&copied, conflict);
                    match rows.rows.iter_mut().find(|r| key_of(r, conflict) == wanted) {
                        Some(stored) => {
                            for (column, value) in copied {
                                if !conflict.contains(&column) {
                                    stored.insert(column, value);
                                }
                            }
                        }
                        None => self.insert(table, copied)?,
                    }
                }
                Ok(())
            }
        }
    }

    fn table(&mut self, name: &str) -> Result<&mut Rows, String> {
        self.tables
            .get_mut(name)
            .ok_or_else(|| format!("no table {name}"))
    }

    fn insert(&mut self, table: &str, values: Row) -> Result<(), String> {
        let rows = self.table(table)?;
        let mut row: Row = rows.defaults.iter().cloned().collect();
        row.extend(values);
        let key = key_of(&row, &rows.key);
        if rows.rows.iter().any(|r| key_of(r, &rows.key) == key) {
            return Err(format!("{table}: duplicate primary key {key:?}"));
        }
        if let Some(parent) = rows.parent.clone() {
            let parent_rows = self.table(&parent)?;
            let n = parent_rows.key.len();
            let wanted = &key[..n];
            if !parent_rows
                .rows
                .iter()
                .any(|r| key_of(r, &parent_rows.key) == wanted)
            {
                return Err(format!("{table}: no row {wanted:?} in parent {parent}"));
            }
        }
        self.table(table)?.rows.push(row);
        Ok(())
    }

    /// Delete the sub-table rows of deleted parent rows.
    fn cascade(&mut self, parent: &str, gone: &[Vec<Value>]) {
        if gone.is_empty() {
            return;
        }
        let children: Vec<String> = self
            .tables
            .iter()
            .filter(|(_, t)| t.parent.as_deref() == Some(parent))
            .map(|(name, _)| name.clone())
            .collect();
        for child in children {
            if let Some(rows) = self.tables.get_mut(&child) {
                let key = rows.key.clone();
                rows.rows.retain(|r| {
                    let k = key_of(r, &key);
                    !gone.iter().any(|g| k.starts_with(g))
                });
            }
        }
    }
}
