//! Merging a batch's mutations into multi-row statements, before its
//! transaction: the statements depend on the mutations only, so they are
//! rendered while the batch before applies.

mod buffer;
mod footprint;
mod ledger;

use std::collections::HashMap;

use projection_sdk::validate::Scoped;
use projection_sdk::{Description, Event, Mutation, Value};

use super::plan::{Plan, Stops};
use crate::store::sql::{self, Statement};
use crate::store::{Dialect, StoreError};
use buffer::{Buffer, Candidate};
use footprint::Tables;
use ledger::Ledger;

/// The statements of a batch's fast path: the mutations of every event in
/// order that [`Stops::planned`] admits, merged.
///
/// Each mutation goes to a layer above every earlier mutation it must not
/// overtake (see [`ledger`]): one that can touch the same row, or a parent
/// or child row whose existence it depends on. Inside a layer nothing
/// depends on anything else, so a layer's inserts and upserts of one table
/// and shape share one statement, as do its single-row updates of one shape
/// and its deletes by equalities of one shape (see [`buffer`]); any other
/// updates or deletes share one when their statements are alike but for
/// their values ([`sql::render_alike`]). A single-row update that sets
/// values, of a row nothing has touched since its insert or its last such
/// update, fuses into that one (one row change, not two). An update that
/// moves rows of a table without parents or children is a statement of its
/// own above everything that met their old keys or their new ones. A copy,
/// or a move of a parent's or child's rows, reaches further than its key
/// says: the layers so far are written first, then it alone, and the next
/// mutation starts afresh. Layers are written in order, parents' tables
/// first inside one, so every row sees exactly what the plain order would
/// have shown it. On PostgreSQL the statements of a layer then travel as
/// one ([`sql::combine`]): one round trip per layer.
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
    merged(description, dialect, &pending)
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
    merged(description, dialect, &pending)
}

/// The statements of [`merge_mutations`] before a layer's are combined into
/// one: what the merge made of the mutations.
#[cfg(test)]
fn uncombined(
    description: &Description,
    dialect: Dialect,
    mutations: &[Scoped],
) -> Result<Vec<Statement>, StoreError> {
    let pending: Vec<&Scoped> = mutations.iter().collect();
    let groups = Merger::new(description, dialect).merge(&pending)?;
    Ok(groups.into_iter().flatten().collect())
}

/// The statements to run for `pending`, in order: the merge's groups of
/// statements that commute (a layer, or a statement alone), on PostgreSQL
/// each group as one statement, one round trip ([`sql::combine`]).
fn merged(
    description: &Description,
    dialect: Dialect,
    pending: &[&Scoped],
) -> Result<Vec<Statement>, StoreError> {
    let groups = Merger::new(description, dialect).merge(pending)?;
    Ok(match dialect {
        Dialect::Postgres => groups.into_iter().flat_map(sql::combine).collect(),
        Dialect::Sqlite => groups.into_iter().flatten().collect(),
    })
}

struct Merger<'d> {
    description: &'d Description,
    dialect: Dialect,
    tables: Tables<'d>,
}

/// The layers of statements not yet written, and what they hold.
struct Pending<'m> {
    layers: Vec<Vec<Buffer<'m>>>,
    ledger: Ledger<'m>,
    /// The last insert or single-row update that sets values, per (table,
    /// key): where it waits.
    changes: HashMap<(usize, Vec<&'m Value>), Spot>,
}

/// Where a mutation waits: its layer, buffer and row.
#[derive(Debug, Clone, Copy)]
struct Spot {
    layer: usize,
    buffer: usize,
    row: usize,
}

impl<'d> Merger<'d> {
    fn new(description: &'d Description, dialect: Dialect) -> Merger<'d> {
        Merger {
            description,
            dialect,
            tables: Tables::new(description),
        }
    }

    /// The mutations as groups of statements, in order: each group's
    /// statements commute.
    fn merge(&self, mutations: &[&Scoped]) -> Result<Vec<Vec<Statement>>, StoreError> {
        let mut out = Vec::new();
        let mut pending = Pending {
            layers: Vec::new(),
            ledger: Ledger::new(&self.tables),
            changes: HashMap::new(),
        };
        for &mutation in mutations {
            let index = self
                .tables
                .index(mutation.table())
                .ok_or_else(|| StoreError::UnknownTable(mutation.table().to_owned()))?;
            let table = self.tables.tables[index];
            let Some(footprint) = footprint::of(index, table, mutation) else {
                // A row of a table without parents or children that moves
                // meets rows at its old key and its new one only: a
                // statement of its own above both. (A parent's move could
                // meet its children's rows anywhere: everything before it
                // is written first.)
                let alone = self.tables.ancestors[index].is_empty()
                    && self.tables.descendants[index].is_empty();
                if alone && let Some(moved) = footprint::moved(index, table, mutation) {
                    let floor = moved
                        .iter()
                        .map(|f| pending.ledger.floor(&self.tables, f))
                        .max()
                        .unwrap_or(0);
                    let spot = self.place(&mut pending.layers, floor, index, mutation, None);
                    for f in &moved {
                        pending.ledger.record(f, spot.layer);
                    }
                    continue;
                }
                self.flush(&mut out, &mut pending)?;
                out.push(vec![render(self.description, self.dialect, mutation)?]);
                continue;
            };
            let floor = pending.ledger.floor(&self.tables, &footprint);
            let candidate = Candidate::of(table, mutation);
            // The row of a mutation later updates may fuse into (or that
            // may fuse into an earlier one): it names one whole key. A
            // stale entry is harmless: whatever touched the row since
            // raises the floor.
            let row: Option<(usize, Vec<&Value>)> = candidate
                .as_ref()
                .filter(|c| c.takes_updates())
                .and_then(|_| footprint.key.iter().copied().collect::<Option<_>>())
                .map(|key| (index, key));
            if let (Some(row), Some(candidate)) = (&row, &candidate)
                && candidate.is_sparse()
                && let Some(&spot) = pending.changes.get(row)
                // Nothing since the row's insert or last update can meet it
                // (it would be above), so this update fuses into that one.
                && floor == spot.layer + 1
                && pending.layers[spot.layer][spot.buffer].fuse(table, spot.row, mutation, candidate)
            {
                continue;
            }
            let spot = self.place(&mut pending.layers, floor, index, mutation, candidate);
            pending.ledger.record(&footprint, spot.layer);
            if let Some(row) = row {
                pending.changes.insert(row, spot);
            }
        }
        self.flush(&mut out, &mut pending)?;
        Ok(out)
    }

    /// Put a mutation into the lowest layer from `floor` on that has a
    /// buffer it fits, or a new buffer in layer `floor`; where it went.
    fn place<'m>(
        &self,
        layers: &mut Vec<Vec<Buffer<'m>>>,
        floor: usize,
        table: usize,
        mutation: &'m Scoped,
        candidate: Option<Candidate<'m>>,
    ) -> Spot {
        if let Some(candidate) = &candidate {
            for (at, layer) in layers.iter_mut().enumerate().skip(floor) {
                if let Some((b, buffer)) = layer
                    .iter_mut()
                    .enumerate()
                    .find(|(_, b)| b.accepts(table, candidate))
                {
                    let row = buffer.push(mutation, candidate);
                    return Spot {
                        layer: at,
                        buffer: b,
                        row,
                    };
                }
            }
        }
        while layers.len() <= floor {
            layers.push(Vec::new());
        }
        layers[floor].push(Buffer::new(table, mutation, candidate));
        Spot {
            layer: floor,
            buffer: layers[floor].len() - 1,
            row: 0,
        }
    }

    /// Render every layer in order, parents' tables first inside a layer,
    /// each layer a group, but for a delete that cascades: a group of its
    /// own. (Its cascade runs when its statement ends; in one statement with
    /// a change of a row the cascade reaches, PostgreSQL would refuse the
    /// cascade's delete of a row the statement already changed.)
    fn flush(
        &self,
        out: &mut Vec<Vec<Statement>>,
        pending: &mut Pending<'_>,
    ) -> Result<(), StoreError> {
        for mut layer in pending.layers.drain(..) {
            layer.sort_by_key(|b| self.tables.ancestors[b.table].len());
            let mut group = Vec::new();
            for buffer in layer {
                let cascades =
                    buffer.removes() && !self.tables.descendants[buffer.table].is_empty();
                let statement = buffer.render(self.description, self.dialect, &self.tables)?;
                if cascades {
                    if !group.is_empty() {
                        out.push(std::mem::take(&mut group));
                    }
                    out.push(vec![statement]);
                } else {
                    group.push(statement);
                }
            }
            if !group.is_empty() {
                out.push(group);
            }
        }
        pending.ledger = Ledger::new(&self.tables);
        pending.changes.clear();
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

#[cfg(test)]
mod tests;
