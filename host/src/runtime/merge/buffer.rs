//! Mutations of one table and shape waiting in a layer to be written as one
//! statement.

use std::collections::HashSet;

use projection_sdk::validate::Scoped;
use projection_sdk::{Description, Mutation, Table, Value};

use super::footprint::Tables;
use crate::store::sql::{self, MAX_BINDS, MAX_SPARSE_COLUMNS, Statement, UpdateShape};
use crate::store::{Dialect, StoreError};

/// How a mutation can share a statement with others of its layer.
pub(super) struct Candidate<'m> {
    mutation: &'m Mutation,
    shape: Shape<'m>,
    /// Bound values per row.
    binds: usize,
    /// What must not repeat within one statement (an upsert's conflict key,
    /// an update's primary key).
    key: Option<Vec<&'m Value>>,
}

enum Shape<'m> {
    /// Inserts or upserts (see [`sql::same_row_shape`]).
    Rows,
    /// Single-row updates that copy a column (see [`sql::update_shape`]).
    Updates(UpdateShape<'m>),
    /// Single-row updates that set values, each of any columns (see
    /// [`sql::sparse_update`]): the key columns and the columns set.
    Sparse(Vec<&'m str>, Vec<&'m str>),
    /// Deletes by equalities on these columns (see [`sql::delete_shape`]).
    Deletes(Vec<&'m str>),
    /// Other updates and deletes whose statements are alike: the text with
    /// values left out (see [`sql::alike_shape`]).
    Alike(String),
}

impl<'m> Candidate<'m> {
    /// `None` for a mutation that is a statement of its own.
    pub(super) fn of(table: &Table, mutation: &'m Mutation) -> Option<Candidate<'m>> {
        let (shape, binds, key) = match mutation {
            Mutation::Insert { values, .. } | Mutation::Upsert { values, .. } => {
                (Shape::Rows, values.len(), sql::conflict_key(mutation))
            }
            Mutation::Update { .. } => match sql::sparse_update(table, mutation) {
                Some(sql::SparseUpdate { key, columns }) => {
                    let binds = key.len() + 1 + columns.len();
                    let values = key.iter().map(|(_, v)| *v).collect();
                    let names = key.iter().map(|(c, _)| *c).collect();
                    (Shape::Sparse(names, columns), binds, Some(values))
                }
                None => match sql::update_shape(table, mutation) {
                    Some(shape) => {
                        let binds = shape.key.len()
                            + shape.ops.iter().filter(|(_, copy)| copy.is_none()).count();
                        let key = shape.key.iter().map(|(_, v)| *v).collect();
                        (Shape::Updates(shape), binds, Some(key))
                    }
                    None => Self::alike(table, mutation)?,
                },
            },
            Mutation::Delete { .. } => match sql::delete_shape(mutation) {
                Some(key) => {
                    let binds = key.len();
                    (
                        Shape::Deletes(key.into_iter().map(|(c, _)| c).collect()),
                        binds,
                        None,
                    )
                }
                None => Self::alike(table, mutation)?,
            },
            Mutation::Copy { .. } => return None,
        };
        Some(Candidate {
            mutation,
            shape,
            binds: binds.max(1),
            key,
        })
    }

    /// An update or delete merged by its statement's text; no key to keep
    /// apart, as the mutations of a layer never meet (see
    /// [`sql::render_alike`]).
    #[allow(clippy::type_complexity)]
    fn alike(
        table: &Table,
        mutation: &Mutation,
    ) -> Option<(Shape<'m>, usize, Option<Vec<&'m Value>>)> {
        let (text, binds) = sql::alike_shape(table, mutation)?;
        Some((Shape::Alike(text), binds, None))
    }

    /// Whether this is a single-row update that sets values, which may fuse
    /// into an earlier mutation of its row (see [`Buffer::fuse`]).
    pub(super) fn is_sparse(&self) -> bool {
        matches!(self.shape, Shape::Sparse(..))
    }

    /// Whether later updates of its row may fuse into this mutation: a
    /// single-row update that sets values, or a plain insert.
    pub(super) fn takes_updates(&self) -> bool {
        match self.shape {
            Shape::Sparse(..) => true,
            Shape::Rows => matches!(self.mutation, Mutation::Insert { .. }),
            _ => false,
        }
    }

    fn same_shape(&self, other: &Candidate<'_>) -> bool {
        match (&self.shape, &other.shape) {
            (Shape::Rows, Shape::Rows) => sql::same_row_shape(self.mutation, other.mutation),
            (Shape::Updates(a), Shape::Updates(b)) => a.same_shape(b),
            (Shape::Sparse(a, _), Shape::Sparse(b, _)) => a == b,
            (Shape::Deletes(a), Shape::Deletes(b)) => a == b,
            (Shape::Alike(a), Shape::Alike(b)) => a == b,
            _ => false,
        }
    }
}

/// A row of a buffer: a mutation of the batch, or updates of one row fused
/// into one (see [`Buffer::fuse`]).
enum Row<'m> {
    Given(&'m Scoped),
    Fused(Scoped),
}

impl Row<'_> {
    fn get(&self) -> &Scoped {
        match self {
            Row::Given(m) => m,
            Row::Fused(m) => m,
        }
    }
}

/// Pending mutations of one table and shape in one layer (or one mutation
/// that is a statement of its own).
pub(super) struct Buffer<'m> {
    /// Index of the table in the family's description.
    pub(super) table: usize,
    /// The first row's shape; `None` for a statement of its own.
    shape: Option<Candidate<'m>>,
    rows: Vec<Row<'m>>,
    keys: HashSet<Vec<&'m Value>>,
    /// Sparse updates: every column a row sets.
    columns: HashSet<&'m str>,
}

impl<'m> Buffer<'m> {
    pub(super) fn new(table: usize, first: &'m Scoped, shape: Option<Candidate<'m>>) -> Buffer<'m> {
        let mut keys = HashSet::new();
        if let Some(key) = shape.as_ref().and_then(|c| c.key.clone()) {
            keys.insert(key);
        }
        let columns = match shape.as_ref().map(|c| &c.shape) {
            Some(Shape::Sparse(_, columns)) => columns.iter().copied().collect(),
            _ => HashSet::new(),
        };
        Buffer {
            table,
            shape,
            rows: vec![Row::Given(first)],
            keys,
            columns,
        }
    }

    /// Whether `candidate`, of table `table`, can join.
    pub(super) fn accepts(&self, table: usize, candidate: &Candidate<'m>) -> bool {
        let Some(shape) = &self.shape else {
            return false;
        };
        let binds = match &candidate.shape {
            // Every row binds a value for each column any row sets.
            Shape::Sparse(key, columns) => {
                let union = self.columns.len()
                    + columns
                        .iter()
                        .filter(|c| !self.columns.contains(*c))
                        .count();
                if union > MAX_SPARSE_COLUMNS {
                    return false;
                }
                key.len() + 1 + union
            }
            _ => shape.binds,
        };
        self.table == table
            && (self.rows.len() + 1) * binds <= MAX_BINDS
            && shape.same_shape(candidate)
            && candidate
                .key
                .as_ref()
                .is_none_or(|k| !self.keys.contains(k))
    }

    /// Whether its statement removes rows.
    pub(super) fn removes(&self) -> bool {
        self.rows
            .first()
            .is_some_and(|row| matches!(row.get().mutation(), Mutation::Delete { .. }))
    }

    /// Add a row; its index in the buffer.
    pub(super) fn push(&mut self, row: &'m Scoped, candidate: &Candidate<'m>) -> usize {
        if let Some(key) = &candidate.key {
            self.keys.insert(key.clone());
        }
        if let Shape::Sparse(_, columns) = &candidate.shape {
            self.columns.extend(columns.iter().copied());
        }
        self.rows.push(Row::Given(row));
        self.rows.len() - 1
    }

    /// Fuse `later`, a single-row update that sets values (`candidate`),
    /// into row `at`, an update or insert of the same row that nothing
    /// between the two touches (see [`Scoped::followed_by`]); whether it
    /// did. It does not when the statement would outgrow its limits (an
    /// insert keeps its columns, so its statement keeps its shape).
    pub(super) fn fuse(
        &mut self,
        table: &Table,
        at: usize,
        later: &'m Scoped,
        candidate: &Candidate<'m>,
    ) -> bool {
        let Shape::Sparse(key, columns) = &candidate.shape else {
            return false;
        };
        let sparse = match self.shape.as_ref().map(|c| &c.shape) {
            Some(Shape::Sparse(..)) => true,
            Some(Shape::Rows) => false,
            _ => return false,
        };
        if sparse {
            let union = self.columns.len()
                + columns
                    .iter()
                    .filter(|c| !self.columns.contains(*c))
                    .count();
            if union > MAX_SPARSE_COLUMNS || self.rows.len() * (key.len() + 1 + union) > MAX_BINDS {
                return false;
            }
        }
        let Some(fused) = self
            .rows
            .get(at)
            .and_then(|row| row.get().followed_by(later, &table.primary_key))
        else {
            return false;
        };
        self.rows[at] = Row::Fused(fused);
        if sparse {
            self.columns.extend(columns.iter().copied());
        }
        true
    }

    pub(super) fn render(
        &self,
        description: &Description,
        dialect: Dialect,
        tables: &Tables<'_>,
    ) -> Result<Statement, StoreError> {
        let table = tables.tables[self.table];
        let rows: Vec<&Scoped> = self.rows.iter().map(Row::get).collect();
        match self.shape.as_ref().map(|c| &c.shape) {
            None => match rows.as_slice() {
                [only] => super::render(description, dialect, only),
                _ => Err(StoreError::BadValue(
                    "a statement of its own holds one mutation".into(),
                )),
            },
            Some(Shape::Rows) => sql::render_rows(dialect, table, &rows),
            Some(Shape::Updates(_)) => sql::render_updates(dialect, table, &rows),
            Some(Shape::Sparse(..)) => sql::render_sparse_updates(dialect, table, &rows),
            Some(Shape::Deletes(_)) => sql::render_deletes(dialect, table, &rows),
            Some(Shape::Alike(_)) => sql::render_alike(dialect, table, &rows),
        }
    }
}
