//! Multi-row statements: inserts, single-row updates and equality deletes of
//! one shape merged into one statement each.

use projection_sdk::validate::Scoped;
use projection_sdk::{
    Cell, ColumnOp, ColumnType, CompareOp, Condition, Mutation, Predicate, Table, Value,
};

use super::{Statement, Writer, column_kind, render};
use crate::store::{Dialect, StoreError};

/// Most bound values in one multi-row statement (below both databases' limits).
pub const MAX_BINDS: usize = 30_000;

/// Whether `next` can join `first` in one multi-row INSERT: both inserts, or
/// both upserts with the same conflict handling, into the same table with the
/// same columns in the same order.
pub fn same_row_shape(first: &Mutation, next: &Mutation) -> bool {
    fn columns(values: &[Cell]) -> impl Iterator<Item = &str> {
        values.iter().map(|c| c.column.as_str())
    }
    match (first, next) {
        (
            Mutation::Insert {
                table: a,
                values: va,
                ..
            },
            Mutation::Insert {
                table: b,
                values: vb,
                ..
            },
        ) => a == b && columns(va).eq(columns(vb)),
        (
            Mutation::Upsert {
                table: a,
                values: va,
                conflict: ca,
                keep_on_conflict: ka,
                update_when: wa,
                ..
            },
            Mutation::Upsert {
                table: b,
                values: vb,
                conflict: cb,
                keep_on_conflict: kb,
                update_when: wb,
                ..
            },
        ) => a == b && ca == cb && ka == kb && wa == wb && columns(va).eq(columns(vb)),
        _ => false,
    }
}

/// The conflict-key values of an upsert (to keep one statement from
/// touching a row twice).
pub fn conflict_key(mutation: &Mutation) -> Option<Vec<&Value>> {
    match mutation {
        Mutation::Upsert {
            values, conflict, ..
        } => Some(
            conflict
                .iter()
                .filter_map(|c| values.iter().find(|v| &v.column == c).map(|v| &v.value))
                .collect(),
        ),
        _ => None,
    }
}

/// Render inserts or upserts of one shape (see [`same_row_shape`]) as one
/// multi-row statement.
pub fn render_rows(
    dialect: Dialect,
    table: &Table,
    rows: &[&Scoped],
) -> Result<Statement, StoreError> {
    let Some(&scoped) = rows.first() else {
        return Err(StoreError::BadValue("no rows to insert".into()));
    };
    if rows.len() == 1 {
        return render(dialect, table, None, scoped);
    }
    let mut w = Writer::new(dialect, table);
    let first = scoped.mutation();
    let (Mutation::Insert { values, .. } | Mutation::Upsert { values, .. }) = first else {
        return render(dialect, table, None, scoped);
    };
    w.push("INSERT INTO ");
    w.ident(&table.name)?;
    w.push(" (");
    let columns: Vec<&str> = values.iter().map(|c| c.column.as_str()).collect();
    w.column_list(&columns)?;
    w.push(") ");
    let values = rows
        .iter()
        .map(|row| match row.mutation() {
            Mutation::Insert { values, .. } | Mutation::Upsert { values, .. } => {
                Ok(values.iter().map(|c| c.value.clone()).collect())
            }
            _ => Err(StoreError::BadValue(
                "mixed mutations in one multi-row insert".into(),
            )),
        })
        .collect::<Result<Vec<Vec<Value>>, StoreError>>()?;
    let aliases: Vec<String> = (0..columns.len()).map(|i| format!("c{i}")).collect();
    w.row_source(&columns, &aliases, values)?;
    if let Mutation::Upsert {
        conflict,
        keep_on_conflict,
        update_when,
        ..
    } = first
    {
        let updated: Vec<&str> = columns
            .iter()
            .copied()
            .filter(|c| {
                !conflict.iter().any(|k| k == c) && !keep_on_conflict.iter().any(|k| k == c)
            })
            .collect();
        w.on_conflict(conflict, &updated, update_when)?;
    }
    Ok(w.finish())
}

/// Conditions that are all `column = value` (not NULL), as (column, value)
/// sorted by column; `None` when any condition is of another kind.
fn equality_key(conditions: &[Condition]) -> Option<Vec<(&str, &Value)>> {
    let mut key = Vec::with_capacity(conditions.len());
    for condition in conditions {
        match condition {
            Condition::All(Predicate::Compare {
                column,
                op: CompareOp::Eq,
                value,
            }) if *value != Value::Null => key.push((column.as_str(), value)),
            _ => return None,
        }
    }
    key.sort_by_key(|(c, _)| *c);
    Some(key)
}

/// The key of an update that can share a multi-row statement: it sets
/// columns to values or copies them from the same row, and its conditions
/// are equalities naming every column of the table's primary key once (so
/// it touches at most one row), and perhaps other columns too (the row is
/// then matched on those as well: `instances_projection` is keyed by
/// `instance_id` and updated where `instance_id` and `id` are the
/// instance's). `None` for any other update.
pub fn update_shape<'m>(table: &Table, mutation: &'m Mutation) -> Option<UpdateShape<'m>> {
    let Mutation::Update {
        table: name,
        set,
        conditions,
        ..
    } = mutation
    else {
        return None;
    };
    let key = equality_key(conditions)?;
    // Without a primary key no equality pins a row: only an update without
    // conditions qualifies, and its (empty) key keeps it alone in a statement.
    let covers_key = (!table.primary_key.is_empty() || key.is_empty())
        && table
            .primary_key
            .iter()
            .all(|k| key.iter().filter(|(c, _)| c == k).count() == 1);
    if !covers_key {
        return None;
    }
    let mut ops = Vec::with_capacity(set.len());
    for assignment in set {
        match &assignment.op {
            ColumnOp::Set(_) => ops.push((assignment.column.as_str(), None)),
            ColumnOp::CopyFrom(source) => {
                ops.push((assignment.column.as_str(), Some(source.as_str())))
            }
            _ => return None,
        }
    }
    Some(UpdateShape {
        table: name.as_str(),
        ops,
        key,
    })
}

/// See [`update_shape`].
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateShape<'m> {
    /// Table.
    pub table: &'m str,
    /// Changed columns: set from a value (`None`) or copied from a column.
    pub ops: Vec<(&'m str, Option<&'m str>)>,
    /// The values its equalities name (the whole primary key, perhaps
    /// more), by column name.
    pub key: Vec<(&'m str, &'m Value)>,
}

impl UpdateShape<'_> {
    /// Whether two updates can share a statement (same table, columns, ops
    /// and key columns).
    pub fn same_shape(&self, other: &UpdateShape<'_>) -> bool {
        self.table == other.table
            && self.ops == other.ops
            && self
                .key
                .iter()
                .map(|(c, _)| c)
                .eq(other.key.iter().map(|(c, _)| c))
    }
}

/// Render updates of one shape (see [`update_shape`]) as one statement:
/// `WITH v(...) AS (<rows>) UPDATE t SET ... FROM v WHERE <key = v.key>`, the
/// rows as `UNNEST` of column arrays or `VALUES` (`Writer::row_source`).
pub fn render_updates(
    dialect: Dialect,
    table: &Table,
    rows: &[&Scoped],
) -> Result<Statement, StoreError> {
    let shapes: Vec<UpdateShape<'_>> = rows
        .iter()
        .map(|m| update_shape(table, m))
        .collect::<Option<_>>()
        .ok_or_else(|| StoreError::BadValue("an update that cannot be merged".into()))?;
    let Some(first) = shapes.first() else {
        return Err(StoreError::BadValue("no updates to merge".into()));
    };
    if rows.len() == 1 {
        return render(dialect, table, None, rows[0]);
    }
    let mut w = Writer::new(dialect, table);
    let set_values: Vec<&str> = first
        .ops
        .iter()
        .filter(|(_, copy)| copy.is_none())
        .map(|(c, _)| *c)
        .collect();
    let mut aliases: Vec<String> = Vec::new();
    aliases.extend((0..first.key.len()).map(|i| format!("k{i}")));
    aliases.extend((0..set_values.len()).map(|i| format!("c{i}")));
    w.push(&format!("WITH v({}) AS (", aliases.join(", ")));
    let set_value = |row: &Mutation, column: &str| -> Result<Value, StoreError> {
        let Mutation::Update { set, .. } = row else {
            return Err(StoreError::BadValue("not an update".into()));
        };
        set.iter()
            .find(|a| a.column == column)
            .and_then(|a| match &a.op {
                ColumnOp::Set(v) => Some(v.clone()),
                _ => None,
            })
            .ok_or_else(|| StoreError::BadValue("update shapes differ".into()))
    };
    let columns: Vec<&str> = first
        .key
        .iter()
        .map(|(c, _)| *c)
        .chain(set_values.iter().copied())
        .collect();
    let values = rows
        .iter()
        .zip(&shapes)
        .map(|(row, shape)| {
            shape
                .key
                .iter()
                .map(|(_, v)| Ok((*v).clone()))
                .chain(set_values.iter().map(|column| set_value(row, column)))
                .collect()
        })
        .collect::<Result<Vec<Vec<Value>>, StoreError>>()?;
    w.row_source(&columns, &aliases, values)?;
    w.push(") UPDATE ");
    w.ident(&table.name)?;
    w.push(" SET ");
    let mut value_index = 0;
    for (i, (column, copy)) in first.ops.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(column)?;
        w.push(" = ");
        match copy {
            Some(source) => {
                w.ident(&table.name)?;
                w.push(".");
                w.ident(source)?;
            }
            None => {
                w.push(&format!("v.c{value_index}"));
                value_index += 1;
            }
        }
    }
    w.push(" FROM v WHERE ");
    w.match_key(table, &first.key)?;
    Ok(w.finish())
}

/// Most columns a statement of sparse updates sets (one bit of its row
/// mask each; see [`render_sparse_updates`]).
pub const MAX_SPARSE_COLUMNS: usize = 62;

/// An update that sets columns to values (any of them) of exactly one row,
/// found by equalities on its whole primary key, perhaps more (see
/// [`update_shape`], [`sparse_update`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SparseUpdate<'m> {
    /// The values its equalities name (the whole primary key, perhaps
    /// more), by column name.
    pub key: Vec<(&'m str, &'m Value)>,
    /// The columns it sets.
    pub columns: Vec<&'m str>,
}

/// The key and columns of an update that sets values of one row by its
/// whole primary key (see [`update_shape`]); `None` for any other update.
pub fn sparse_update<'m>(table: &Table, mutation: &'m Mutation) -> Option<SparseUpdate<'m>> {
    let shape = update_shape(table, mutation)?;
    if shape.ops.iter().any(|(_, copy)| copy.is_some()) {
        return None;
    }
    Some(SparseUpdate {
        columns: shape.ops.iter().map(|(c, _)| *c).collect(),
        key: shape.key,
    })
}

/// Render single-row updates that set values (see [`sparse_update`]), each
/// of any of the table's columns, as one statement: every row carries a
/// value for each column any of them sets, and a mask of the ones it does;
/// a column outside a row's mask keeps its value.
/// `WITH v(k.., m, c..) AS (<rows>) UPDATE t SET c = CASE WHEN (v.m & bit)
/// <> 0 THEN v.c ELSE t.c END, ... FROM v WHERE <key = v.key>`.
pub fn render_sparse_updates(
    dialect: Dialect,
    table: &Table,
    rows: &[&Scoped],
) -> Result<Statement, StoreError> {
    let updates: Vec<_> = rows
        .iter()
        .map(|m| sparse_update(table, m))
        .collect::<Option<_>>()
        .ok_or_else(|| StoreError::BadValue("an update that cannot be merged".into()))?;
    let Some(SparseUpdate { key: first_key, .. }) = updates.first() else {
        return Err(StoreError::BadValue("no updates to merge".into()));
    };
    if rows.len() == 1 {
        return render(dialect, table, None, rows[0]);
    }
    // The columns any row sets, in the table's order.
    let set: Vec<&str> = table
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|c| updates.iter().any(|u| u.columns.contains(c)))
        .collect();
    if set.len() > MAX_SPARSE_COLUMNS {
        return Err(StoreError::BadValue(
            "too many columns for one statement of updates".into(),
        ));
    }
    let mut kinds = Vec::with_capacity(first_key.len() + 1 + set.len());
    let mut aliases: Vec<String> = Vec::with_capacity(kinds.capacity());
    for (i, (column, _)) in first_key.iter().enumerate() {
        kinds.push(column_kind(table, column)?);
        aliases.push(format!("k{i}"));
    }
    kinds.push(ColumnType::Int);
    aliases.push("m".to_owned());
    for (i, column) in set.iter().enumerate() {
        kinds.push(column_kind(table, column)?);
        aliases.push(format!("c{i}"));
    }
    let mut values = Vec::with_capacity(rows.len());
    for (row, SparseUpdate { key, .. }) in rows.iter().zip(&updates) {
        let Mutation::Update { set: assigned, .. } = row.mutation() else {
            return Err(StoreError::BadValue("not an update".into()));
        };
        if !key
            .iter()
            .map(|(c, _)| c)
            .eq(first_key.iter().map(|(c, _)| c))
        {
            return Err(StoreError::BadValue("update keys differ".into()));
        }
        let mut mask = 0_i64;
        let mut row_values: Vec<Value> = key.iter().map(|(_, v)| (*v).clone()).collect();
        row_values.push(Value::Null);
        for (bit, column) in set.iter().enumerate() {
            let value = assigned
                .iter()
                .find(|a| a.column == *column)
                .and_then(|a| match &a.op {
                    ColumnOp::Set(v) => Some(v.clone()),
                    _ => None,
                });
            match value {
                Some(v) => {
                    mask |= 1 << bit;
                    row_values.push(v);
                }
                None => row_values.push(Value::Null),
            }
        }
        row_values[first_key.len()] = Value::Int(mask);
        values.push(row_values);
    }
    let mut w = Writer::new(dialect, table);
    w.push(&format!("WITH v({}) AS (", aliases.join(", ")));
    w.typed_row_source(&kinds, &aliases, values)?;
    w.push(") UPDATE ");
    w.ident(&table.name)?;
    w.push(" SET ");
    for (bit, column) in set.iter().enumerate() {
        if bit > 0 {
            w.push(", ");
        }
        w.ident(column)?;
        w.push(&format!(
            " = CASE WHEN (v.m & {}) <> 0 THEN v.c{bit} ELSE ",
            1_i64 << bit
        ));
        w.ident(&table.name)?;
        w.push(".");
        w.ident(column)?;
        w.push(" END");
    }
    w.push(" FROM v WHERE ");
    w.match_key(table, first_key)?;
    Ok(w.finish())
}

/// The equality conditions of a delete that can share a statement with
/// others of the same shape (every condition `column = value`, not NULL),
/// sorted by column. `None` for any other delete.
pub fn delete_shape(mutation: &Mutation) -> Option<Vec<(&str, &Value)>> {
    let Mutation::Delete { conditions, .. } = mutation else {
        return None;
    };
    equality_key(conditions)
}

/// Render deletes of one shape (see [`delete_shape`]) as one statement:
/// `WITH v(...) AS (<rows>) DELETE FROM t WHERE EXISTS (... matching v)`.
pub fn render_deletes(
    dialect: Dialect,
    table: &Table,
    rows: &[&Scoped],
) -> Result<Statement, StoreError> {
    let keys: Vec<Vec<(&str, &Value)>> = rows
        .iter()
        .map(|m| delete_shape(m))
        .collect::<Option<_>>()
        .ok_or_else(|| StoreError::BadValue("a delete that cannot be merged".into()))?;
    let Some(first) = keys.first() else {
        return Err(StoreError::BadValue("no deletes to merge".into()));
    };
    if rows.len() == 1 {
        return render(dialect, table, None, rows[0]);
    }
    let mut w = Writer::new(dialect, table);
    let aliases: Vec<String> = (0..first.len()).map(|i| format!("k{i}")).collect();
    w.push(&format!("WITH v({}) AS (", aliases.join(", ")));
    let columns: Vec<&str> = first.iter().map(|(c, _)| *c).collect();
    let values = keys
        .iter()
        .map(|key| key.iter().map(|(_, v)| (*v).clone()).collect())
        .collect();
    w.row_source(&columns, &aliases, values)?;
    w.push(") DELETE FROM ");
    w.ident(&table.name)?;
    w.push(" WHERE EXISTS (SELECT 1 FROM v WHERE ");
    w.match_key(table, first)?;
    w.push(")");
    Ok(w.finish())
}
