//! Updates and deletes that no key-based merge takes (conditions other than
//! equalities on the primary key, column operations such as
//! `array_append`), merged when their statements are alike: the same text
//! once every value is left out.
//!
//! Such a statement is rendered once with each value replaced by a column of
//! a row source, and the values of every mutation become one row of it:
//! `WITH "V"("P1", ..) AS (<rows>) UPDATE t SET .. FROM "V" WHERE ..`, or
//! `.. DELETE FROM t WHERE EXISTS (SELECT 1 FROM "V" WHERE ..)`.
//!
//! The merge is exact because the mutations that share a layer never meet
//! (the batch's ledger puts two that can touch a common row in different
//! layers; deletes, which commute, excepted): two of them differ in the
//! value of some primary-key column each pins by equality, and that
//! equality, at the same place in both texts, reads its value from the row
//! source. So every table row matches the row of at most one update, and
//! sees what its own statement would have done. Deletes may meet, and a row
//! deleted by two rows is deleted once.

use projection_sdk::validate::Scoped;
use projection_sdk::{ColumnType, Mutation, Table, Value};

use super::{Statement, Writer};
use crate::store::{Dialect, StoreError};

/// The name of the rows of a merged statement. Upper-case and quoted, as
/// are its columns: no declared identifier can be (see [`super::quote`]),
/// so they never hide a column of the table.
const ROWS: &str = "\"V\"";

/// The reference to the value of the `n`th placeholder (from 1).
pub(super) fn column_ref(n: usize) -> String {
    format!("{ROWS}.\"P{n}\"")
}

/// The shape of an update or delete that may merge with others alike: its
/// statement's text with values left out, and how many values it binds.
/// `None` for inserts, upserts and copies, and for a statement that binds
/// no value or has no condition (there is nothing to tell its rows apart).
pub fn alike_shape(table: &Table, mutation: &Mutation) -> Option<(String, usize)> {
    let (sql, binds) = body(Dialect::Postgres, table, mutation).ok()??;
    (!binds.is_empty()).then_some((sql, binds.len()))
}

/// The statement of an update or delete with values as row references, and
/// the values; `None` for any other mutation or one without conditions.
#[allow(clippy::type_complexity)]
fn body(
    dialect: Dialect,
    table: &Table,
    mutation: &Mutation,
) -> Result<Option<(String, Vec<(Value, ColumnType)>)>, StoreError> {
    let mut w = Writer::new(dialect, table);
    w.refs = true;
    match mutation {
        Mutation::Update {
            set, conditions, ..
        } if !conditions.is_empty() && !set.is_empty() => {
            w.update_head(set)?;
            w.push(" FROM ");
            w.push(ROWS);
            w.conditions(table, conditions)?;
        }
        Mutation::Delete { conditions, .. } if !conditions.is_empty() => {
            w.push("DELETE FROM ");
            w.ident(&table.name)?;
            w.push(" WHERE EXISTS (SELECT 1 FROM ");
            w.push(ROWS);
            w.conditions(table, conditions)?;
            w.push(")");
        }
        _ => return Ok(None),
    }
    let Statement { sql, binds, .. } = w.finish();
    Ok(Some((sql, binds)))
}

/// Render updates or deletes of one table whose [`alike_shape`]s are equal
/// as one statement (a single one as itself).
pub fn render_alike(
    dialect: Dialect,
    table: &Table,
    rows: &[&Scoped],
) -> Result<Statement, StoreError> {
    let Some(&first) = rows.first() else {
        return Err(StoreError::BadValue("no statements to merge".into()));
    };
    if rows.len() == 1 {
        return super::render(dialect, table, None, first);
    }
    let unlike = || StoreError::BadValue("statements of different shapes in one merge".into());
    let mut text: Option<String> = None;
    let mut kinds: Vec<ColumnType> = Vec::new();
    let mut values: Vec<Vec<Value>> = Vec::with_capacity(rows.len());
    for row in rows {
        let (sql, binds) = body(dialect, table, row.mutation())?.ok_or_else(unlike)?;
        match &text {
            None => {
                kinds = binds.iter().map(|(_, kind)| *kind).collect();
                text = Some(sql);
            }
            Some(known) if *known == sql => {}
            Some(_) => return Err(unlike()),
        }
        values.push(binds.into_iter().map(|(value, _)| value).collect());
    }
    let text = text.ok_or_else(unlike)?;
    let aliases: Vec<String> = (1..=kinds.len()).map(|n| format!("\"P{n}\"")).collect();
    let mut w = Writer::new(dialect, table);
    w.push(&format!("WITH {ROWS}({}) AS (", aliases.join(", ")));
    w.typed_row_source(&kinds, &aliases, values)?;
    w.push(") ");
    w.push(&text);
    Ok(w.finish())
}
