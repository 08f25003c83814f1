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

type FailureKey = (String, String, String, i64);

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
pub(super) async fn apply_batch(
    db: &Db,
    description: &Description,
    version: &str,
    events: &[Event],
    results: Vec<EventResult>,
) -> Result<BatchOutcome, StoreError> {
    let plans: Vec<Result<Vec<Mutation>, String>> = events
        .iter()
        .zip(results)
        .map(|(event, result)| plan(description, event, result))
        .collect();
    let failing: HashSet<FailureKey> = state::failures(db)
        .await?
        .into_iter()
        .filter(|f| f.family == description.name)
        .map(|f| (f.instance_id, f.aggregate_type, f.aggregate_id, f.sequence))
        .collect();
    let batch = Batch {
        description,
        version,
        events,
        plans: &plans,
        failing: &failing,
    };
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
        for event in last_applied.values() {
            state::save_checkpoint(&mut tx, family, self.version, event).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Run mutations in order, merging runs of one row shape.
    async fn execute_merged(&self, tx: &mut Tx, mutations: &[&Mutation]) -> Result<(), StoreError> {
        let dialect = tx.dialect();
        let mut i = 0;
        while i < mutations.len() {
            let first = mutations[i];
            let table = self.table(first.table())?;
            let mut end = i + 1;
            let row_binds = match first {
                Mutation::Insert { values, .. } | Mutation::Upsert { values, .. } => {
                    values.len().max(1)
                }
                _ => 0,
            };
            if row_binds > 0 {
                let mut keys: HashSet<Vec<&projection_sdk::Value>> = HashSet::new();
                keys.extend(sql::conflict_key(first));
                while end < mutations.len()
                    && (end - i + 1) * row_binds <= MAX_BINDS
                    && sql::same_row_shape(first, mutations[end])
                    && sql::conflict_key(mutations[end]).is_none_or(|key| keys.insert(key))
                {
                    end += 1;
                }
            }
            let statement = if end - i > 1 {
                sql::render_rows(dialect, table, &mutations[i..end])?
            } else {
                self.render(dialect, first)?
            };
            tx.execute(&statement).await?;
            i = end;
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
