//! Render validated mutations as SQL for one dialect.
//!
//! Identifiers come only from the family's declared schema (the validator has
//! checked every name against it, and [`quote`] refuses anything that is not a
//! plain lower-case identifier); values are always bound parameters.

use projection_sdk::{
    Assignment, Cell, ColumnOp, ColumnType, CompareOp, Condition, CopySource, Mutation, Predicate,
    RowSide, Table, UpdateWhen, Value,
};

use super::{Dialect, StoreError};

/// A statement and its bound values, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// SQL text.
    pub sql: String,
    /// Bound values with the type of the column they meet.
    pub binds: Vec<(Value, ColumnType)>,
}

impl Statement {
    /// Whether preparing it once and caching it pays: single-row statements
    /// recur with the same text; multi-row ones vary with their row count
    /// and would only crowd the per-connection statement caches.
    pub fn is_reusable(&self) -> bool {
        self.binds.len() <= 64
    }
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
    /// Qualifies column references in predicates (`excluded.` in upserts).
    prefix: String,
}

impl<'t> Writer<'t> {
    fn new(dialect: Dialect, table: &'t Table) -> Self {
        Writer {
            dialect,
            table,
            sql: String::with_capacity(256),
            binds: Vec::new(),
            prefix: String::new(),
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
        table
            .find_column(column)
            .map(|c| c.kind)
            .ok_or_else(|| StoreError::UnknownColumn(table.name.clone(), column.to_owned()))
    }

    /// Push a placeholder bound to `value`, typed as `kind`.
    fn bind(&mut self, value: Value, kind: ColumnType) {
        self.binds.push((value, kind));
        match self.dialect {
            Dialect::Sqlite => self.sql.push('?'),
            Dialect::Postgres => {
                let n = self.binds.len();
                let cast = column_sql_type(Dialect::Postgres, kind);
                self.sql.push_str(&format!("${n}::{cast}"));
            }
        }
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
            ColumnOp::ArrayIntersect(keep) if sqlite => {
                self.push("CASE WHEN ");
                self.ident(column)?;
                self.push(" IS NULL THEN NULL ELSE (SELECT json_group_array(value) FROM (SELECT value FROM json_each(");
                self.ident(column)?;
                self.push(") WHERE value IN (SELECT value FROM json_each(");
                self.bind(Value::TextArray(keep.clone()), ColumnType::TextArray);
                self.push(")) ORDER BY key)) END");
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

    /// The key's values as bound placeholders, comma separated.
    fn key_values(&mut self, table: &Table, key: &[(&str, &Value)]) -> Result<(), StoreError> {
        for (i, (column, value)) in key.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            let kind = self.kind(table, column)?;
            self.bind((*value).clone(), kind);
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

    fn finish(self) -> Statement {
        Statement {
            sql: self.sql,
            binds: self.binds,
        }
    }
}

/// Render one validated mutation. `source` is the source table of a copy.
pub fn render(
    dialect: Dialect,
    table: &Table,
    source: Option<&Table>,
    mutation: &Mutation,
) -> Result<Statement, StoreError> {
    let mut w = Writer::new(dialect, table);
    match mutation {
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
            w.push("UPDATE ");
            w.ident(&table.name)?;
            w.push(" SET ");
            for (i, a) in set.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.assignment(a)?;
            }
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
    rows: &[&Mutation],
) -> Result<Statement, StoreError> {
    let Some(first) = rows.first() else {
        return Err(StoreError::BadValue("no rows to insert".into()));
    };
    if rows.len() == 1 {
        return render(dialect, table, None, first);
    }
    let mut w = Writer::new(dialect, table);
    let (Mutation::Insert { values, .. } | Mutation::Upsert { values, .. }) = first else {
        return render(dialect, table, None, first);
    };
    w.push("INSERT INTO ");
    w.ident(&table.name)?;
    w.push(" (");
    let columns: Vec<&str> = values.iter().map(|c| c.column.as_str()).collect();
    w.column_list(&columns)?;
    w.push(") VALUES ");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        let (Mutation::Insert { values, .. } | Mutation::Upsert { values, .. }) = row else {
            return Err(StoreError::BadValue(
                "mixed mutations in one multi-row insert".into(),
            ));
        };
        w.values_row(table, values)?;
    }
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
/// are equalities on exactly the table's primary key (so it touches at most
/// one row). `None` for any other update.
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
    let covers_key = key.len() == table.primary_key.len()
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
    /// The primary-key values, by column name.
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
/// `WITH v(...) AS (VALUES ...) UPDATE t SET ... FROM v WHERE <key = v.key>`.
pub fn render_updates(
    dialect: Dialect,
    table: &Table,
    rows: &[&Mutation],
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
    w.push(&format!("WITH v({}) AS (VALUES ", aliases.join(", ")));
    for (r, (row, shape)) in rows.iter().zip(&shapes).enumerate() {
        if r > 0 {
            w.push(", ");
        }
        w.push("(");
        w.key_values(table, &shape.key)?;
        let Mutation::Update { set, .. } = row else {
            return Err(StoreError::BadValue("not an update".into()));
        };
        for column in &set_values {
            let value = set
                .iter()
                .find(|a| a.column == *column)
                .and_then(|a| match &a.op {
                    ColumnOp::Set(v) => Some(v.clone()),
                    _ => None,
                })
                .ok_or_else(|| StoreError::BadValue("update shapes differ".into()))?;
            let kind = w.kind(table, column)?;
            w.push(", ");
            w.bind(value, kind);
        }
        w.push(")");
    }
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
/// `WITH v(...) AS (VALUES ...) DELETE FROM t WHERE EXISTS (... matching v)`.
pub fn render_deletes(
    dialect: Dialect,
    table: &Table,
    rows: &[&Mutation],
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
    w.push(&format!("WITH v({}) AS (VALUES ", aliases.join(", ")));
    for (r, key) in keys.iter().enumerate() {
        if r > 0 {
            w.push(", ");
        }
        w.push("(");
        w.key_values(table, key)?;
        w.push(")");
    }
    w.push(") DELETE FROM ");
    w.ident(&table.name)?;
    w.push(" WHERE EXISTS (SELECT 1 FROM v WHERE ");
    w.match_key(table, first)?;
    w.push(")");
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use projection_sdk::{ColumnType, Table, delete, update};

    fn table() -> Table {
        Table::new("t_projection")
            .column("instance_id", ColumnType::Text)
            .column("id", ColumnType::Text)
            .nullable("roles", ColumnType::TextArray)
            .primary_key(&["instance_id", "id"])
    }

    #[test]
    fn renders_numbered_casts_on_postgres_and_question_marks_on_sqlite() {
        let m = update("t_projection")
            .op("roles", ColumnOp::ArrayAppend(Value::Text("r".into())))
            .eq("instance_id", "i")
            .eq("id", "x")
            .build();
        let pg = render(Dialect::Postgres, &table(), None, &m).unwrap();
        assert_eq!(
            pg.sql,
            "UPDATE \"t_projection\" SET \"roles\" = array_append(\"roles\", $1::TEXT) WHERE (\"instance_id\" = $2::TEXT) AND (\"id\" = $3::TEXT)"
        );
        let lite = render(Dialect::Sqlite, &table(), None, &m).unwrap();
        assert_eq!(lite.binds.len(), 3);
        assert_eq!(lite.sql.matches('?').count(), 3);
    }

    #[test]
    fn merges_rows_of_one_shape_into_one_insert() {
        let a = projection_sdk::insert("t_projection")
            .value("instance_id", "i")
            .value("id", "a")
            .build();
        let b = projection_sdk::insert("t_projection")
            .value("instance_id", "i")
            .value("id", "b")
            .build();
        assert!(same_row_shape(&a, &b));
        let pg = render_rows(Dialect::Postgres, &table(), &[&a, &b]).unwrap();
        assert_eq!(
            pg.sql,
            "INSERT INTO \"t_projection\" (\"instance_id\", \"id\") VALUES ($1::TEXT, $2::TEXT), ($3::TEXT, $4::TEXT)"
        );
        let c = projection_sdk::insert("t_projection")
            .value("id", "c")
            .value("instance_id", "i")
            .build();
        assert!(!same_row_shape(&a, &c));
    }

    #[test]
    fn conditional_upsert_columns_become_case_expressions() {
        let m = projection_sdk::upsert("t_projection", &["instance_id", "id"])
            .value("instance_id", "i")
            .value("id", "x")
            .value("roles", vec!["r".to_owned()])
            .update_when(
                "roles",
                vec![(RowSide::Existing, Predicate::IsNull("roles".into()))],
            )
            .build();
        let sql = render(Dialect::Sqlite, &table(), None, &m).unwrap().sql;
        assert!(
            sql.ends_with(
                "DO UPDATE SET \"roles\" = CASE WHEN (\"t_projection\".\"roles\" IS NULL) THEN excluded.\"roles\" ELSE \"t_projection\".\"roles\" END"
            ),
            "{sql}"
        );
    }

    #[test]
    fn deletes_of_one_shape_share_a_statement() {
        let a = delete("t_projection")
            .eq("instance_id", "i")
            .eq("id", "a")
            .build();
        let b = delete("t_projection")
            .eq("id", "b")
            .eq("instance_id", "i")
            .build();
        let lite = render_deletes(Dialect::Sqlite, &table(), &[&a, &b]).unwrap();
        assert_eq!(
            lite.sql,
            "WITH v(k0, k1) AS (VALUES (?, ?), (?, ?)) DELETE FROM \"t_projection\" WHERE EXISTS (SELECT 1 FROM v WHERE \"t_projection\".\"id\" = v.k0 AND \"t_projection\".\"instance_id\" = v.k1)"
        );
        let values: Vec<&Value> = lite.binds.iter().map(|(v, _)| v).collect();
        assert_eq!(
            values,
            [
                &Value::from("a"),
                &Value::from("i"),
                &Value::from("b"),
                &Value::from("i")
            ]
        );
        let lt = delete("t_projection").lt("id", "z").build();
        assert!(delete_shape(&lt).is_none());
    }

    #[test]
    fn refuses_identifiers_that_are_not_plain() {
        assert!(quote("users_projection").is_ok());
        assert!(quote("x\"; DROP TABLE y; --").is_err());
        assert!(quote("Users").is_err());
        let m = delete("t_projection").eq("id; --", "x").build();
        assert!(render(Dialect::Sqlite, &table(), None, &m).is_err());
    }
}
