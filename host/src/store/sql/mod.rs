//! Render validated mutations as SQL for one dialect.
//!
//! Identifiers come only from the family's declared schema (the validator has
//! checked every name against it, and [`quote`] refuses anything that is not a
//! plain lower-case identifier); values are always bound parameters.

use projection_sdk::{
    Assignment, Cell, ColumnOp, ColumnType, CompareOp, Condition, CopySource, Mutation, Predicate,
    RowSide, Table, UpdateWhen, Value, validate::Scoped,
};

use super::bind::ph;
use super::{Dialect, StoreError};

/// A statement and its bound values, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// SQL text.
    pub sql: String,
    /// Bound values with the type of the column they meet.
    pub binds: Vec<(Value, ColumnType)>,
    /// PostgreSQL only: whole columns of a merged statement, each bound as
    /// one array, before `binds` (placeholders `$1..$n` are the arrays).
    pub arrays: Vec<ColumnArray>,
}

impl Statement {
    /// Whether preparing it once and caching it pays: single-row statements
    /// and array-bound ones recur with the same text; multi-row `VALUES`
    /// lists vary with their row count and would only crowd the
    /// per-connection statement caches, as would combinations of
    /// statements ([`combine`]), which vary with the layer they hold.
    pub fn is_reusable(&self) -> bool {
        self.binds.len() <= 64 && !combine::is_combined(&self.sql)
    }
}

/// The values of one column across the rows of a merged statement, bound as
/// one PostgreSQL array and turned back into rows by `UNNEST`: one bind per
/// column instead of one per cell, and one statement text for any number of
/// rows, so PostgreSQL parses and plans it once per connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnArray {
    /// The column's type.
    pub kind: ColumnType,
    /// One value per row.
    pub values: Vec<Value>,
}

/// The array type a column travels in (`None`: array columns, which
/// PostgreSQL cannot nest in a one-dimensional array).
pub fn array_bind_type(kind: ColumnType) -> Option<&'static str> {
    Some(match kind {
        ColumnType::Text | ColumnType::Json => "TEXT[]",
        ColumnType::SmallInt | ColumnType::Int => "BIGINT[]",
        ColumnType::Boolean => "BOOLEAN[]",
        ColumnType::Timestamp => "TIMESTAMPTZ[]",
        ColumnType::Interval => "BIGINT[]",
        ColumnType::Bytes => "BYTEA[]",
        ColumnType::TextArray | ColumnType::SmallIntArray | ColumnType::IntArray => return None,
    })
}

/// Quote a declared identifier, refusing anything unexpected.
pub fn quote(name: &str) -> Result<String, StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(format!("\"{name}\""))
    } else {
        Err(StoreError::InvalidIdentifier(name.to_owned()))
    }
}

/// The SQL type of a column in a dialect.
pub fn column_sql_type(dialect: Dialect, kind: ColumnType) -> &'static str {
    match dialect {
        Dialect::Postgres => match kind {
            ColumnType::Text => "TEXT",
            ColumnType::SmallInt => "SMALLINT",
            ColumnType::Int => "BIGINT",
            ColumnType::Boolean => "BOOLEAN",
            ColumnType::Timestamp => "TIMESTAMPTZ",
            ColumnType::Interval => "INTERVAL",
            ColumnType::Bytes => "BYTEA",
            ColumnType::Json => "JSONB",
            ColumnType::TextArray => "TEXT[]",
            ColumnType::SmallIntArray => "SMALLINT[]",
            ColumnType::IntArray => "BIGINT[]",
        },
        Dialect::Sqlite => match kind {
            ColumnType::Text | ColumnType::Timestamp | ColumnType::Json => "TEXT",
            ColumnType::TextArray | ColumnType::SmallIntArray | ColumnType::IntArray => "TEXT",
            ColumnType::SmallInt | ColumnType::Int | ColumnType::Boolean => "INTEGER",
            ColumnType::Interval => "INTEGER",
            ColumnType::Bytes => "BLOB",
        },
    }
}

/// Builds one statement, numbering placeholders as values are pushed.
struct Writer<'t> {
    dialect: Dialect,
    table: &'t Table,
    sql: String,
    binds: Vec<(Value, ColumnType)>,
    arrays: Vec<ColumnArray>,
    /// Qualifies column references in predicates (`excluded.` in upserts).
    prefix: String,
    /// Values are written as references to the columns of the rows of a
    /// merged statement (see [`alike`]) instead of placeholders.
    refs: bool,
}

impl<'t> Writer<'t> {
    fn new(dialect: Dialect, table: &'t Table) -> Self {
        Writer {
            dialect,
            table,
            sql: String::with_capacity(256),
            binds: Vec::new(),
            arrays: Vec::new(),
            prefix: String::new(),
            refs: false,
        }
    }

    /// A column reference in a predicate, qualified when inside an upsert.
    fn column_ref(&mut self, name: &str) -> Result<(), StoreError> {
        let quoted = quote(name)?;
        self.sql.push_str(&self.prefix);
        self.sql.push_str(&quoted);
        Ok(())
    }

    fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    fn ident(&mut self, name: &str) -> Result<(), StoreError> {
        let quoted = quote(name)?;
        self.sql.push_str(&quoted);
        Ok(())
    }

    fn kind(&self, table: &Table, column: &str) -> Result<ColumnType, StoreError> {
        column_kind(table, column)
    }

    /// Push a placeholder bound to `value`, typed as `kind`.
    fn bind(&mut self, value: Value, kind: ColumnType) {
        self.binds.push((value, kind));
        if self.refs {
            let n = self.binds.len();
            self.sql.push_str(&alike::column_ref(n));
            return;
        }
        let n = self.arrays.len() + self.binds.len();
        let placeholder = ph(self.dialect, n, column_sql_type(Dialect::Postgres, kind));
        self.sql.push_str(&placeholder);
    }

    fn element_kind(kind: ColumnType) -> ColumnType {
        match kind {
            ColumnType::TextArray => ColumnType::Text,
            ColumnType::SmallIntArray => ColumnType::SmallInt,
            ColumnType::IntArray => ColumnType::Int,
            other => other,
        }
    }

    fn conditions(&mut self, table: &Table, conditions: &[Condition]) -> Result<(), StoreError> {
        self.push(" WHERE ");
        for (i, condition) in conditions.iter().enumerate() {
            if i > 0 {
                self.push(" AND ");
            }
            match condition {
                Condition::All(p) => {
                    self.push("(");
                    self.predicate(table, p)?;
                    self.push(")");
                }
                Condition::AnyOf(ps) | Condition::NoneOf(ps) => {
                    if matches!(condition, Condition::NoneOf(_)) {
                        self.push("NOT ");
                    }
                    self.push("(");
                    if ps.is_empty() {
                        self.push("1 = 0");
                    }
                    for (j, p) in ps.iter().enumerate() {
                        if j > 0 {
                            self.push(" OR ");
                        }
                        self.push("(");
                        self.predicate(table, p)?;
                        self.push(")");
                    }
                    self.push(")");
                }
            }
        }
        Ok(())
    }

    fn predicate(&mut self, table: &Table, predicate: &Predicate) -> Result<(), StoreError> {
        let column = predicate.column();
        let kind = self.kind(table, column)?;
        match predicate {
            Predicate::Compare { op, value, .. } => match (op, value) {
                (CompareOp::Eq, Value::Null) => {
                    self.column_ref(column)?;
                    self.push(" IS NULL");
                }
                (CompareOp::NotEq, Value::Null) => {
                    self.column_ref(column)?;
                    self.push(" IS NOT NULL");
                }
                (CompareOp::Eq | CompareOp::NotEq | CompareOp::Lt, _) => {
                    self.column_ref(column)?;
                    self.push(match op {
                        CompareOp::Eq => " = ",
                        CompareOp::NotEq => " <> ",
                        _ => " < ",
                    });
                    self.bind(value.clone(), kind);
                }
                (CompareOp::ArrayContains, _) => self.array_contains(column, kind, value)?,
            },
            Predicate::IsNull(_) => {
                self.column_ref(column)?;
                self.push(" IS NULL");
            }
            Predicate::IsNotNull(_) => {
                self.column_ref(column)?;
                self.push(" IS NOT NULL");
            }
            Predicate::OneOf { values, .. } => {
                if values.is_empty() {
                    self.push("1 = 0");
                    return Ok(());
                }
                self.column_ref(column)?;
                self.push(" IN (");
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.bind(v.clone(), kind);
                }
                self.push(")");
            }
        }
        Ok(())
    }

    fn array_contains(
        &mut self,
        column: &str,
        kind: ColumnType,
        value: &Value,
    ) -> Result<(), StoreError> {
        let element = Self::element_kind(kind);
        match self.dialect {
            Dialect::Postgres => {
                self.column_ref(column)?;
                self.push(" @> ARRAY[");
                self.bind(value.clone(), element);
                self.push("]");
            }
            Dialect::Sqlite => {
                self.push("EXISTS (SELECT 1 FROM json_each(");
                self.column_ref(column)?;
                self.push(") WHERE value = ");
                self.bind(value.clone(), element);
                self.push(")");
            }
        }
        Ok(())
    }

    fn column_list(&mut self, columns: &[&str]) -> Result<(), StoreError> {
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(c)?;
        }
        Ok(())
    }

    fn values_row(&mut self, table: &Table, values: &[Cell]) -> Result<(), StoreError> {
        self.push("(");
        for (i, cell) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            let kind = self.kind(table, &cell.column)?;
            self.bind(cell.value.clone(), kind);
        }
        self.push(")");
        Ok(())
    }

    fn on_conflict(
        &mut self,
        conflict: &[String],
        updated: &[&str],
        update_when: &[UpdateWhen],
    ) -> Result<(), StoreError> {
        self.push(" ON CONFLICT (");
        let conflict: Vec<&str> = conflict.iter().map(String::as_str).collect();
        self.column_list(&conflict)?;
        if updated.is_empty() {
            self.push(") DO NOTHING");
            return Ok(());
        }
        self.push(") DO UPDATE SET ");
        for (i, c) in updated.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.ident(c)?;
            self.push(" = ");
            match update_when.iter().find(|u| u.column == *c) {
                None => {
                    self.push("excluded.");
                    self.ident(c)?;
                }
                Some(rule) => self.case_when(c, rule)?,
            }
        }
        Ok(())
    }

    /// `CASE WHEN <predicates> THEN excluded.c ELSE "table".c END`.
    fn case_when(&mut self, column: &str, rule: &UpdateWhen) -> Result<(), StoreError> {
        let table = self.table;
        let stored = format!("{}.", quote(&table.name)?);
        self.push("CASE WHEN ");
        if rule.when.is_empty() {
            self.push("1 = 1");
        }
        for (i, (side, predicate)) in rule.when.iter().enumerate() {
            if i > 0 {
                self.push(" AND ");
            }
            self.prefix = match side {
                RowSide::Existing => stored.clone(),
                RowSide::Incoming => "excluded.".to_owned(),
            };
            self.push("(");
            let result = self.predicate(table, predicate);
            self.prefix.clear();
            result?;
            self.push(")");
        }
        self.push(" THEN excluded.");
        self.ident(column)?;
        self.push(" ELSE ");
        self.push(&stored);
        self.ident(column)?;
        self.push(" END");
        Ok(())
    }

    /// `UPDATE "table" SET <assignments>`.
    fn update_head(&mut self, set: &[Assignment]) -> Result<(), StoreError> {
        let table = self.table;
        self.push("UPDATE ");
        self.ident(&table.name)?;
        self.push(" SET ");
        for (i, a) in set.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.assignment(a)?;
        }
        Ok(())
    }

    fn assignment(&mut self, assignment: &Assignment) -> Result<(), StoreError> {
        let table = self.table;
        let column = assignment.column.as_str();
        let kind = self.kind(table, column)?;
        self.ident(column)?;
        self.push(" = ");
        let sqlite = self.dialect == Dialect::Sqlite;
        match &assignment.op {
            ColumnOp::Set(value) => self.bind(value.clone(), kind),
            ColumnOp::Increment(by) => {
                self.ident(column)?;
                self.push(" + ");
                self.bind(Value::Int(*by), ColumnType::Int);
            }
            ColumnOp::CopyFrom(source) => self.ident(source)?,
            ColumnOp::ArrayAppend(v) if sqlite => {
                self.push("json_insert(COALESCE(");
                self.ident(column)?;
                self.push(", '[]'), '$[#]', ");
                self.bind(v.clone(), Self::element_kind(kind));
                self.push(")");
            }
            ColumnOp::ArrayAppend(v) => {
                self.push("array_append(");
                self.ident(column)?;
                self.push(", ");
                self.bind(v.clone(), Self::element_kind(kind));
                self.push(")");
            }
            ColumnOp::ArrayRemove(v) if sqlite => {
                self.push("CASE WHEN ");
                self.ident(column)?;
                self.push(
                    " IS NULL THEN NULL ELSE (SELECT json_group_array(value) FROM json_each(",
                );
                self.ident(column)?;
                self.push(") WHERE value <> ");
                self.bind(v.clone(), Self::element_kind(kind));
                self.push(") END");
            }
            ColumnOp::ArrayRemove(v) => {
                self.push("array_remove(");
                self.ident(column)?;
                self.push(", ");
                self.bind(v.clone(), Self::element_kind(kind));
                self.push(")");
            }
            // NULL intersected is the empty array, as PostgreSQL's
            // `ARRAY(SELECT ... FROM unnest(NULL))` and the reference have it.
            ColumnOp::ArrayIntersect(keep) if sqlite => {
                self.push("(SELECT json_group_array(value) FROM (SELECT value FROM json_each(");
                self.ident(column)?;
                self.push(") WHERE value IN (SELECT value FROM json_each(");
                self.bind(Value::TextArray(keep.clone()), ColumnType::TextArray);
                self.push(")) ORDER BY key))");
            }
            ColumnOp::ArrayIntersect(keep) => {
                self.push("ARRAY(SELECT e FROM unnest(");
                self.ident(column)?;
                self.push(") WITH ORDINALITY AS u(e, i) WHERE e = ANY(");
                self.bind(Value::TextArray(keep.clone()), ColumnType::TextArray);
                self.push(") ORDER BY i)");
            }
        }
        Ok(())
    }

    /// The rows of a merged statement, each a value per column: on
    /// PostgreSQL, when every column fits a one-dimensional array, as
    /// `SELECT ... FROM UNNEST(...)` (see [`ColumnArray`]); otherwise as
    /// `VALUES (...), (...)`. Either reads as a table with `aliases` as its
    /// column names.
    fn row_source(
        &mut self,
        columns: &[&str],
        aliases: &[String],
        rows: Vec<Vec<Value>>,
    ) -> Result<(), StoreError> {
        let kinds = columns
            .iter()
            .map(|c| self.kind(self.table, c))
            .collect::<Result<Vec<_>, _>>()?;
        self.typed_row_source(&kinds, aliases, rows)
    }

    /// [`Writer::row_source`] with a type per column given (a column of
    /// the rows that is not one of the table's).
    fn typed_row_source(
        &mut self,
        kinds: &[ColumnType],
        aliases: &[String],
        rows: Vec<Vec<Value>>,
    ) -> Result<(), StoreError> {
        if rows.iter().any(|row| row.len() != kinds.len()) {
            return Err(StoreError::BadValue("row shapes differ".into()));
        }
        let unnest = self.dialect == Dialect::Postgres
            && kinds.iter().all(|k| array_bind_type(*k).is_some());
        if unnest {
            let mut arrays: Vec<ColumnArray> = kinds
                .iter()
                .map(|&kind| ColumnArray {
                    kind,
                    values: Vec::with_capacity(rows.len()),
                })
                .collect();
            for row in rows {
                for (array, value) in arrays.iter_mut().zip(row) {
                    array.values.push(value);
                }
            }
            return self.unnest(aliases, arrays);
        }
        self.push("VALUES ");
        for (r, row) in rows.into_iter().enumerate() {
            if r > 0 {
                self.push(", ");
            }
            self.push("(");
            for (i, (value, kind)) in row.into_iter().zip(kinds).enumerate() {
                if i > 0 {
                    self.push(", ");
                }
                self.bind(value, *kind);
            }
            self.push(")");
        }
        Ok(())
    }

    /// `"table"."column" = v.k<i>` for every key column, ANDed.
    fn match_key(&mut self, table: &Table, key: &[(&str, &Value)]) -> Result<(), StoreError> {
        for (i, (column, _)) in key.iter().enumerate() {
            if i > 0 {
                self.push(" AND ");
            }
            self.ident(&table.name)?;
            self.push(".");
            self.ident(column)?;
            self.push(&format!(" = v.k{i}"));
        }
        Ok(())
    }

    /// `SELECT u.a0::T0, ... FROM UNNEST($1::A0, ...) AS u(a0, ...)`: the
    /// columns as rows, each cast to its column's type. Arrays are bound
    /// before any single value, so this comes before any [`Writer::bind`].
    fn unnest(&mut self, aliases: &[String], columns: Vec<ColumnArray>) -> Result<(), StoreError> {
        if !self.binds.is_empty() || aliases.len() != columns.len() {
            return Err(StoreError::BadValue(
                "array binds must come first, one per alias".into(),
            ));
        }
        let mut select = Vec::with_capacity(columns.len());
        let mut sources = Vec::with_capacity(columns.len());
        for (alias, column) in aliases.iter().zip(columns) {
            let bind_type = array_bind_type(column.kind).ok_or_else(|| {
                StoreError::BadValue(format!("{:?} columns cannot be unnested", column.kind))
            })?;
            let cast = match column.kind {
                ColumnType::Interval => format!("(u.{alias} / 1000) * INTERVAL '1 microsecond'"),
                kind => format!("u.{alias}::{}", column_sql_type(Dialect::Postgres, kind)),
            };
            select.push(cast);
            self.arrays.push(column);
            sources.push(ph(Dialect::Postgres, self.arrays.len(), bind_type));
        }
        self.push(&format!(
            "SELECT {} FROM UNNEST({}) AS u({})",
            select.join(", "),
            sources.join(", "),
            aliases.join(", ")
        ));
        Ok(())
    }

    fn finish(self) -> Statement {
        Statement {
            sql: self.sql,
            binds: self.binds,
            arrays: self.arrays,
        }
    }
}

/// Render one mutation, checked by [`projection_sdk::validate::scope`]. `source` is the
/// source table of a copy.
pub fn render(
    dialect: Dialect,
    table: &Table,
    source: Option<&Table>,
    mutation: &Scoped,
) -> Result<Statement, StoreError> {
    let mut w = Writer::new(dialect, table);
    match mutation.mutation() {
        Mutation::Insert { values, .. } => {
            w.push("INSERT INTO ");
            w.ident(&table.name)?;
            w.push(" (");
            let columns: Vec<&str> = values.iter().map(|c| c.column.as_str()).collect();
            w.column_list(&columns)?;
            w.push(") VALUES ");
            w.values_row(table, values)?;
        }
        Mutation::Upsert {
            values,
            conflict,
            keep_on_conflict,
            update_when,
            ..
        } => {
            w.push("INSERT INTO ");
            w.ident(&table.name)?;
            w.push(" (");
            let columns: Vec<&str> = values.iter().map(|c| c.column.as_str()).collect();
            w.column_list(&columns)?;
            w.push(") VALUES ");
            w.values_row(table, values)?;
            let updated: Vec<&str> = columns
                .iter()
                .copied()
                .filter(|c| {
                    !conflict.iter().any(|k| k == c) && !keep_on_conflict.iter().any(|k| k == c)
                })
                .collect();
            w.on_conflict(conflict, &updated, update_when)?;
        }
        Mutation::Update {
            set, conditions, ..
        } => {
            w.update_head(set)?;
            w.conditions(table, conditions)?;
        }
        Mutation::Delete { conditions, .. } => {
            w.push("DELETE FROM ");
            w.ident(&table.name)?;
            w.conditions(table, conditions)?;
        }
        Mutation::Copy {
            columns,
            conditions,
            conflict,
            ..
        } => {
            let source = source.ok_or_else(|| StoreError::UnknownTable(table.name.clone()))?;
            w.push("INSERT INTO ");
            w.ident(&table.name)?;
            w.push(" (");
            let names: Vec<&str> = columns.iter().map(|c| c.column.as_str()).collect();
            w.column_list(&names)?;
            w.push(") SELECT ");
            for (i, c) in columns.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                match &c.source {
                    CopySource::Column(from) => w.ident(from)?,
                    CopySource::Value(v) => {
                        let kind = w.kind(table, &c.column)?;
                        w.bind(v.clone(), kind);
                    }
                }
            }
            w.push(" FROM ");
            w.ident(&source.name)?;
            w.conditions(source, conditions)?;
            let updated: Vec<&str> = names
                .iter()
                .copied()
                .filter(|c| !conflict.iter().any(|k| k == c))
                .collect();
            w.on_conflict(conflict, &updated, &[])?;
        }
    }
    Ok(w.finish())
}

mod alike;
mod combine;
mod merge;

/// A declared column's type.
fn column_kind(table: &Table, column: &str) -> Result<ColumnType, StoreError> {
    table
        .find_column(column)
        .map(|c| c.kind)
        .ok_or_else(|| StoreError::UnknownColumn(table.name.clone(), column.to_owned()))
}

pub use alike::{alike_shape, render_alike};
pub use combine::{combine, is_combined};
pub use merge::{
    MAX_BINDS, MAX_SPARSE_COLUMNS, SparseUpdate, UpdateShape, conflict_key, delete_shape,
    render_deletes, render_rows, render_sparse_updates, render_updates, same_row_shape,
    sparse_update, update_shape,
};

#[cfg(test)]
mod tests;
