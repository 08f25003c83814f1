//! Apply one batch: validated mutations plus checkpoints, one transaction.
//!
//! Every mutation is validated and scoped before any SQL exists. The fast
//! path runs the whole batch in one transaction as the multi-row statements
//! `merge.rs` rendered ahead of it, which keep the order's meaning. If the
//! database refuses a statement,
//! the transaction is rolled back and the batch runs again one event at a
//! time, each inside a savepoint, so the refused event is recorded as failed
//! and only its tenant stops.

use std::collections::{HashMap, HashSet};

use projection_sdk::{Description, Event, Mutation, validate};

use super::EventResult;
use super::merge;
use crate::store::sql::Statement;
use crate::store::{Db, StoreError, Tx, state};

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

/// What every batch of one family's replay shares.
#[derive(Clone)]
pub(super) struct Family {
    pub(super) db: Db,
    pub(super) description: std::sync::Arc<Description>,
    /// How checkpoints name the plugin (`version@hash`).
    pub(super) version: String,
    /// The family's failed events, cleared when they apply.
    pub(super) failing: std::sync::Arc<HashSet<FailureKey>>,
    /// One statement per mutation, each event in a savepoint (a baseline).
    pub(super) statement_per_event: bool,
}

/// Apply a batch in one transaction with its checkpoints, on owned data, for
/// a task of its own. `merged` is the batch's fast path (see `merge.rs`).
pub(super) async fn apply_owned(
    family: Family,
    events: Vec<Event>,
    plans: Vec<Plan>,
    merged: Result<Vec<Statement>, StoreError>,
) -> Result<BatchOutcome, StoreError> {
    // Boxed as `dyn Future + Send` here, where the borrows have one concrete
    // lifetime, so the spawned task is provably `Send`.
    let apply: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<BatchOutcome, StoreError>> + Send + '_>,
    > = Box::pin(apply_batch(&family, &events, &plans, merged));
    apply.await
}

async fn apply_batch(
    family: &Family,
    events: &[Event],
    plans: &[Plan],
    merged: Result<Vec<Statement>, StoreError>,
) -> Result<BatchOutcome, StoreError> {
    let db = &family.db;
    let batch = Batch {
        description: &family.description,
        version: &family.version,
        events,
        plans,
        failing: &family.failing,
    };
    if family.statement_per_event {
        return batch.run(db, None).await;
    }
    match batch.run(db, Some(&merged?)).await {
        Err(StoreError::Db(sqlx::Error::Database(e))) => {
            tracing::debug!("batch refused by the database ({e}); retrying event by event");
            batch.run(db, None).await
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
    /// Run the batch: the merged statements of its fast path, or with
    /// `None`, every event's statements inside a savepoint of its own.
    async fn run(&self, db: &Db, merged: Option<&[Statement]>) -> Result<BatchOutcome, StoreError> {
        let careful = merged.is_none();
        let family = self.description.name.as_str();
        let mut tx = db.begin().await?;
        let mut outcome = BatchOutcome::default();
        let mut stopped: HashSet<&str> = HashSet::new();
        let mut last_applied: HashMap<&str, (&Event, i64)> = HashMap::new();
        for (event, plan) in self.events.iter().zip(self.plans) {
            if stopped.contains(event.instance_id.as_str()) {
                continue;
            }
            let result = match plan {
                Err(message) => Err(message.clone()),
                Ok(mutations) if careful => self.execute_guarded(&mut tx, mutations).await?,
                Ok(_) => Ok(()),
            };
            match result {
                Ok(()) => {
                    outcome.n_applied += 1;
                    outcome.n_mutations += plan.as_ref().map_or(0, |m| m.len() as u64);
                    let applied = last_applied.entry(&event.instance_id).or_insert((event, 0));
                    *applied = (event, applied.1 + 1);
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
        for statement in merged.unwrap_or_default() {
            tx.execute(statement).await?;
        }
        let mut checkpoints: Vec<(&Event, i64)> = last_applied.into_values().collect();
        checkpoints.sort_by(|a, b| a.0.instance_id.cmp(&b.0.instance_id));
        state::save_checkpoints(&mut tx, family, self.version, &checkpoints).await?;

        tx.commit().await?;
        Ok(outcome)
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
            let statement = match merge::render(self.description, tx.dialect(), mutation) {
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
