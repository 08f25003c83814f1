//! Apply one batch: validated mutations plus checkpoints, one transaction.
//!
//! Every mutation is validated and scoped before any SQL exists. The fast
//! path runs the whole batch in one transaction, merging consecutive inserts
//! (and upserts on distinct keys) of one shape into multi-row statements,
//! which keeps their order's meaning. If the database refuses a statement,
//! the transaction is rolled back and the batch runs again one event at a
//! time, each inside a savepoint, so the refused event is recorded as failed
//! and only its tenant stops.

use std::collections::{HashMap, HashSet};

use projection_sdk::{Description, Event, Mutation, validate};

use super::EventResult;
use crate::store::sql::{self, MAX_BINDS};
use crate::store::{Db, Dialect, StoreError, Tx, state};

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchOutcome {
    /// Events applied.
    pub n_applied: u64,
    /// Mutations applied.
    pub n_mutations: u64,
    /// Tenants stopped by a failed event, with the error.
    pub failed: Vec<(String, String)>,
}

/// A failed event's identity within its family: tenant, aggregate type,
/// aggregate id, sequence.
pub(super) type FailureKey = (String, String, String, i64);

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
    rows: Vec<&'m Mutation>,
    keys: HashSet<Vec<&'m projection_sdk::Value>>,
}

impl<'m> Buffer<'m> {
    fn new(
        kind: BufferKind,
        first: &'m Mutation,
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

    fn push(&mut self, row: &'m Mutation, key: Option<Vec<&'m projection_sdk::Value>>) {
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

/// An event's validated, scoped mutations, or why the event fails.
pub(super) type Plan = Result<Vec<Mutation>, String>;

/// Validate and scope every event's mutations (before the batch's
/// transaction, so it can run while the batch before applies).
pub(super) fn plan_batch(
    description: &Description,
    events: &[Event],
    results: Vec<EventResult>,
) -> Vec<Plan> {
    events
        .iter()
        .zip(results)
        .map(|(event, result)| plan(description, event, result))
        .collect()
}

/// Validate and scope an event's mutations, or say why the event fails.
fn plan(
    description: &Description,
    event: &Event,
    result: EventResult,
) -> Result<Vec<Mutation>, String> {
    result?
        .into_iter()
        .map(|m| {
            validate::scope(description, event, m).map_err(|e| format!("refused mutation: {e}"))
        })
        .collect()
}

/// Apply a batch's outcomes in one transaction with the checkpoints.
/// [`apply_batch`] on owned data, for a task of its own.
pub(super) async fn apply_owned(
    db: Db,
    description: std::sync::Arc<Description>,
    version: String,
    events: Vec<Event>,
    plans: Vec<Plan>,
    failing: std::sync::Arc<HashSet<FailureKey>>,
    statement_per_event: bool,
) -> Result<BatchOutcome, StoreError> {
    // Boxed as `dyn Future + Send` here, where the borrows have one concrete
    // lifetime, so the spawned task is provably `Send`.
    let apply: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<BatchOutcome, StoreError>> + Send + '_>,
    > = Box::pin(apply_batch(
        &db,
        &description,
        &version,
        &events,
        &plans,
        &failing,
        statement_per_event,
    ));
    apply.await
}

pub(super) async fn apply_batch(
    db: &Db,
    description: &Description,
    version: &str,
    events: &[Event],
    plans: &[Plan],
    failing: &HashSet<FailureKey>,
    statement_per_event: bool,
) -> Result<BatchOutcome, StoreError> {
    let batch = Batch {
        description,
        version,
        events,
        plans,
        failing,
    };
    if statement_per_event {
        return batch.run(db, true).await;
    }
    match batch.run(db, false).await {
        Err(StoreError::Db(sqlx::Error::Database(e))) => {
            tracing::debug!("batch refused by the database ({e}); retrying event by event");
            batch.run(db, true).await
        }
        other => other,
    }
}

struct Batch<'a> {
    description: &'a Description,
    version: &'a str,
    events: &'a [Event],
    plans: &'a [Result<Vec<Mutation>, String>],
    failing: &'a HashSet<FailureKey>,
}

impl Batch<'_> {
    async fn run(&self, db: &Db, careful: bool) -> Result<BatchOutcome, StoreError> {
        let family = self.description.name.as_str();
        let mut tx = db.begin().await?;
        let mut outcome = BatchOutcome::default();
        let mut stopped: HashSet<&str> = HashSet::new();
        let mut last_applied: HashMap<&str, &Event> = HashMap::new();
        let mut pending: Vec<&Mutation> = Vec::new();
        for (event, plan) in self.events.iter().zip(self.plans) {
            if stopped.contains(event.instance_id.as_str()) {
                continue;
            }
            let result = match plan {
                Err(message) => Err(message.clone()),
                Ok(mutations) if careful => self.execute_guarded(&mut tx, mutations).await?,
                Ok(mutations) => {
                    pending.extend(mutations.iter());
                    Ok(())
                }
            };
            match result {
                Ok(()) => {
                    outcome.n_applied += 1;
                    outcome.n_mutations += plan.as_ref().map_or(0, |m| m.len() as u64);
                    last_applied.insert(&event.instance_id, event);
                    let key = (
                        event.instance_id.clone(),
                        event.aggregate_type.clone(),
                        event.aggregate_id.clone(),
                        event.sequence,
                    );
                    if self.failing.contains(&key) {
                        state::clear_failure(&mut tx, family, event).await?;
                    }
                }
                Err(message) => {
                    state::record_failure(&mut tx, family, event, &message).await?;
                    stopped.insert(&event.instance_id);
                    outcome.failed.push((event.instance_id.clone(), message));
                }
            }
        }
        self.execute_merged(&mut tx, &pending).await?;
        let mut checkpoints: Vec<&Event> = last_applied.into_values().collect();
        checkpoints.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
        state::save_checkpoints(&mut tx, family, self.version, &checkpoints).await?;

        tx.commit().await?;
        Ok(outcome)
    }

    /// Run mutations, merging them into multi-row statements.
    ///
    /// Inserts and upserts wait in one buffer per table (one shape, distinct
    /// conflict keys); so do updates that set or copy columns of exactly one
    /// row, found by its whole primary key (one shape, distinct keys), and
    /// deletes by equalities (one shape; a delete never passes pending
    /// changes of a table it cascades to or from). Rows
    /// of different tables commute, except that a child table's rows need
    /// their parent's: buffers are flushed in the order they were opened, so
    /// parents go first. A mutation that meets another kind of buffer of its
    /// table, or does not fit its buffer, flushes everything first; so does
    /// any other mutation (a delete, a copy, an array operation), which may
    /// read or change rows of several tables. So each table's changes keep
    /// their order and nothing sees a state the plain order would not have
    /// produced.
    async fn execute_merged(&self, tx: &mut Tx, mutations: &[&Mutation]) -> Result<(), StoreError> {
        let mut buffers: Vec<Buffer<'_>> = Vec::new();
        for &mutation in mutations {
            let table = self.table(mutation.table())?;
            let Some((kind, binds, key)) = mergeable(table, mutation) else {
                self.flush(tx, &mut buffers).await?;
                let statement = self.render(tx.dialect(), mutation)?;
                tx.execute(&statement).await?;
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
                self.flush(tx, &mut buffers).await?;
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
                    self.flush(tx, &mut buffers).await?;
                    buffers.push(Buffer::new(kind, mutation, key));
                }
                None => buffers.push(Buffer::new(kind, mutation, key)),
            }
        }
        self.flush(tx, &mut buffers).await
    }

    /// Write every buffer, in the order they were opened.
    async fn flush(&self, tx: &mut Tx, buffers: &mut Vec<Buffer<'_>>) -> Result<(), StoreError> {
        for buffer in buffers.drain(..) {
            let table = self.table(buffer.table)?;
            let statement = match buffer.kind {
                BufferKind::Rows => sql::render_rows(tx.dialect(), table, &buffer.rows)?,
                BufferKind::Updates => sql::render_updates(tx.dialect(), table, &buffer.rows)?,
                BufferKind::Deletes => sql::render_deletes(tx.dialect(), table, &buffer.rows)?,
            };
            tx.execute(&statement).await?;
        }
        Ok(())
    }

    fn table(&self, name: &str) -> Result<&projection_sdk::Table, StoreError> {
        self.description
            .find_table(name)
            .ok_or_else(|| StoreError::UnknownTable(name.to_owned()))
    }

    fn render(&self, dialect: Dialect, mutation: &Mutation) -> Result<sql::Statement, StoreError> {
        let source = match mutation {
            Mutation::Copy { source_table, .. } => Some(self.table(source_table)?),
            _ => None,
        };
        sql::render(dialect, self.table(mutation.table())?, source, mutation)
    }

    /// Run an event's mutations inside a savepoint; a refused statement rolls
    /// back the event only and becomes its error.
    async fn execute_guarded(
        &self,
        tx: &mut Tx,
        mutations: &[Mutation],
    ) -> Result<Result<(), String>, StoreError> {
        tx.execute_plain("SAVEPOINT projector_event").await?;
        for mutation in mutations {
            let statement = match self.render(tx.dialect(), mutation) {
                Ok(statement) => statement,
                Err(e) => {
                    tx.execute_plain("ROLLBACK TO SAVEPOINT projector_event")
                        .await?;
                    tx.execute_plain("RELEASE SAVEPOINT projector_event")
                        .await?;
                    return Ok(Err(format!("refused mutation: {e}")));
                }
            };
            match tx.execute(&statement).await {
                Ok(_) => {}
                Err(StoreError::Db(sqlx::Error::Database(db_error))) => {
                    tx.execute_plain("ROLLBACK TO SAVEPOINT projector_event")
                        .await?;
                    tx.execute_plain("RELEASE SAVEPOINT projector_event")
                        .await?;
                    return Ok(Err(format!("database refused mutation: {db_error}")));
                }
                Err(other) => return Err(other),
            }
        }
        tx.execute_plain("RELEASE SAVEPOINT projector_event")
            .await?;
        Ok(Ok(()))
    }
}
