//! Merging a batch's mutations into multi-row statements, before its
//! transaction: the statements depend on the mutations only, so they are
//! rendered while the batch before applies.

use std::collections::HashSet;

use projection_sdk::validate::Scoped;
use projection_sdk::{Description, Event, Mutation};

use super::plan::{Plan, Stops};
use crate::store::sql::{self, MAX_BINDS, Statement};
use crate::store::{Dialect, StoreError};

/// The statements of a batch's fast path: the mutations of every event in
/// order that [`Stops::planned`] admits, merged.
///
/// Inserts and upserts wait in one buffer per table (one shape, distinct
/// conflict keys); so do updates that set or copy columns of exactly one
/// row, found by its whole primary key (one shape, distinct keys), and
/// deletes by equalities (one shape; a delete never passes pending changes
/// of a table it cascades to or from). Rows of different tables commute,
/// except that a child table's rows need their parent's: buffers are
/// flushed in the order they were opened, so parents go first. A mutation
/// that meets another kind of buffer of its table, or does not fit its
/// buffer, flushes everything first; so does any other mutation (a delete, a
/// copy, an array operation), which may read or change rows of several
/// tables. So each table's changes keep their order and nothing sees a state
/// the plain order would not have produced.
pub(super) fn statements(
    description: &Description,
    dialect: Dialect,
    events: &[Event],
    plans: &[Plan],
    stops: &Stops,
) -> Result<Vec<Statement>, StoreError> {
    let pending: Vec<&Scoped> = stops
        .planned(events, plans)
        .into_iter()
        .flat_map(|(_, mutations)| mutations)
        .collect();
    let merger = Merger {
        description,
        dialect,
    };
    merger.merge(&pending)
}

/// The fast path's statements for checked mutations, in order: what a batch
/// whose events all apply runs. The plain path is [`render`], one mutation
/// at a time; both must leave the same rows.
pub fn merge_mutations(
    description: &Description,
    dialect: Dialect,
    mutations: &[Scoped],
) -> Result<Vec<Statement>, StoreError> {
    let pending: Vec<&Scoped> = mutations.iter().collect();
    Merger {
        description,
        dialect,
    }
    .merge(&pending)
}

struct Merger<'d> {
    description: &'d Description,
    dialect: Dialect,
}

impl Merger<'_> {
    fn merge(&self, mutations: &[&Scoped]) -> Result<Vec<Statement>, StoreError> {
        let mut out = Vec::new();
        let mut buffers: Vec<Buffer<'_>> = Vec::new();
        for &mutation in mutations {
            let table = table(self.description, mutation.table())?;
            let Some((kind, binds, key)) = mergeable(table, mutation) else {
                self.flush(&mut out, &mut buffers)?;
                out.push(render(self.description, self.dialect, mutation)?);
                continue;
            };
            // Deletes cascade to child tables: a delete never overtakes or is
            // overtaken by pending changes of a related table.
            let cascade_hazard = buffers.iter().any(|b| {
                b.table != mutation.table()
                    && (b.kind == BufferKind::Deletes || kind == BufferKind::Deletes)
                    && related(self.description, b.table, mutation.table())
            });
            if cascade_hazard {
                self.flush(&mut out, &mut buffers)?;
            }
            let slot = buffers.iter().position(|b| b.table == mutation.table());
            match slot {
                Some(at)
                    if buffers[at].kind == kind
                        && buffers[at].accepts(mutation, binds, key.as_ref(), table) =>
                {
                    buffers[at].push(mutation, key);
                }
                Some(_) => {
                    self.flush(&mut out, &mut buffers)?;
                    buffers.push(Buffer::new(kind, mutation, key));
                }
                None => buffers.push(Buffer::new(kind, mutation, key)),
            }
        }
        self.flush(&mut out, &mut buffers)?;
        Ok(out)
    }

    /// Render every buffer: parents before children (a child's rows may
    /// need a parent row pending in a buffer opened after the child's),
    /// otherwise in the order they were opened.
    fn flush(
        &self,
        out: &mut Vec<Statement>,
        buffers: &mut Vec<Buffer<'_>>,
    ) -> Result<(), StoreError> {
        buffers.sort_by_key(|b| depth(self.description, b.table));
        for buffer in buffers.drain(..) {
            let table = table(self.description, buffer.table)?;
            out.push(match buffer.kind {
                BufferKind::Rows => sql::render_rows(self.dialect, table, &buffer.rows)?,
                BufferKind::Updates => sql::render_updates(self.dialect, table, &buffer.rows)?,
                BufferKind::Deletes => sql::render_deletes(self.dialect, table, &buffer.rows)?,
            });
        }
        Ok(())
    }
}

/// A declared table of the family.
pub(super) fn table<'d>(
    description: &'d Description,
    name: &str,
) -> Result<&'d projection_sdk::Table, StoreError> {
    description
        .find_table(name)
        .ok_or_else(|| StoreError::UnknownTable(name.to_owned()))
}

/// One mutation as one statement (the plain path).
pub fn render(
    description: &Description,
    dialect: Dialect,
    mutation: &Scoped,
) -> Result<Statement, StoreError> {
    let source = match mutation.mutation() {
        Mutation::Copy { source_table, .. } => Some(table(description, source_table)?),
        _ => None,
    };
    sql::render(
        dialect,
        table(description, mutation.table())?,
        source,
        mutation,
    )
}

/// How a mutation can be buffered: its kind, bound values per row, and the
/// key that must not repeat within one statement (`None`: not mergeable).
fn mergeable<'m>(
    table: &projection_sdk::Table,
    mutation: &'m Mutation,
) -> Option<(BufferKind, usize, Option<Vec<&'m projection_sdk::Value>>)> {
    match mutation {
        Mutation::Insert { values, .. } | Mutation::Upsert { values, .. } => Some((
            BufferKind::Rows,
            values.len().max(1),
            sql::conflict_key(mutation),
        )),
        Mutation::Update { .. } => sql::update_shape(table, mutation).map(|shape| {
            let binds =
                shape.key.len() + shape.ops.iter().filter(|(_, copy)| copy.is_none()).count();
            let key = shape.key.iter().map(|(_, v)| *v).collect();
            (BufferKind::Updates, binds.max(1), Some(key))
        }),
        Mutation::Delete { .. } => {
            sql::delete_shape(mutation).map(|key| (BufferKind::Deletes, key.len().max(1), None))
        }
        _ => None,
    }
}

/// Whether one table is an ancestor of the other (deletes cascade).
/// How many parents a table has above it (0: a table without a parent).
fn depth(description: &Description, table: &str) -> usize {
    let mut depth = 0;
    let mut current = description
        .find_table(table)
        .and_then(|t| t.parent.as_deref());
    while let Some(parent) = current {
        depth += 1;
        if depth > description.tables.len() {
            break;
        }
        current = description
            .find_table(parent)
            .and_then(|t| t.parent.as_deref());
    }
    depth
}

fn related(description: &Description, a: &str, b: &str) -> bool {
    let descends = |child: &str, ancestor: &str| {
        let mut current = description
            .find_table(child)
            .and_then(|t| t.parent.as_deref());
        let mut hops = 0;
        while let Some(parent) = current {
            if parent == ancestor {
                return true;
            }
            hops += 1;
            if hops > description.tables.len() {
                return false;
            }
            current = description
                .find_table(parent)
                .and_then(|t| t.parent.as_deref());
        }
        false
    };
    descends(a, b) || descends(b, a)
}

/// What a buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BufferKind {
    /// Inserts or upserts of one shape.
    Rows,
    /// Single-row updates of one shape (see [`sql::update_shape`]).
    Updates,
    /// Deletes by equalities of one shape (see [`sql::delete_shape`]).
    Deletes,
}

/// Pending mutations of one table and shape.
struct Buffer<'m> {
    table: &'m str,
    kind: BufferKind,
    rows: Vec<&'m Scoped>,
    keys: HashSet<Vec<&'m projection_sdk::Value>>,
}

impl<'m> Buffer<'m> {
    fn new(
        kind: BufferKind,
        first: &'m Scoped,
        key: Option<Vec<&'m projection_sdk::Value>>,
    ) -> Self {
        let mut buffer = Buffer {
            table: first.table(),
            kind,
            rows: Vec::new(),
            keys: HashSet::new(),
        };
        buffer.push(first, key);
        buffer
    }

    fn push(&mut self, row: &'m Scoped, key: Option<Vec<&'m projection_sdk::Value>>) {
        self.keys.extend(key);
        self.rows.push(row);
    }

    /// Whether `row` (with its bound values and key) can join.
    fn accepts(
        &self,
        row: &Mutation,
        binds: usize,
        key: Option<&Vec<&'m projection_sdk::Value>>,
        table: &projection_sdk::Table,
    ) -> bool {
        let Some(first) = self.rows.first() else {
            return false;
        };
        let same_shape = match self.kind {
            BufferKind::Rows => sql::same_row_shape(first, row),
            BufferKind::Deletes => match (sql::delete_shape(first), sql::delete_shape(row)) {
                (Some(a), Some(b)) => a.iter().map(|(c, _)| c).eq(b.iter().map(|(c, _)| c)),
                _ => false,
            },
            BufferKind::Updates => match (
                sql::update_shape(table, first),
                sql::update_shape(table, row),
            ) {
                (Some(a), Some(b)) => a.same_shape(&b),
                _ => false,
            },
        };
        (self.rows.len() + 1) * binds <= MAX_BINDS
            && same_shape
            && key.is_none_or(|k| !self.keys.contains(k))
    }
}
