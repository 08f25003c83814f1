//! Apply one batch: validated statements plus checkpoints, one transaction.
//!
//! The fast path runs every statement of the batch in one transaction. If the
//! database refuses a statement, the transaction is rolled back and the
//! batch runs again with a savepoint per event, so the refused event is
//! recorded as failed and only its tenant stops.

use std::collections::{HashMap, HashSet};

use projection_sdk::validate;
use projection_sdk::{Description, Event};

use super::EventResult;
use crate::store::sql::{self, Statement};
use crate::store::{Db, StoreError, Tx, state};

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchOutcome {
    /// Events applied.
    pub n_applied: u64,
    /// Statements executed.
    pub n_mutations: u64,
    /// Tenants stopped by a failed event, with the error.
    pub failed: Vec<(String, String)>,
}

/// Validate and render an event's mutations, or say why it fails.
fn plan(
    db: &Db,
    description: &Description,
    event: &Event,
    result: EventResult,
) -> Result<Vec<Statement>, String> {
    let mutations = result?;
    let mut statements = Vec::with_capacity(mutations.len());
    for mutation in mutations {
        let mutation = validate::scope(description, event, mutation)
            .map_err(|e| format!("refused mutation: {e}"))?;
        let table = description
            .find_table(mutation.table())
            .ok_or_else(|| format!("refused mutation: unknown table {:?}", mutation.table()))?;
        let source = match &mutation {
            projection_sdk::Mutation::Copy { source_table, .. } => {
                description.find_table(source_table)
            }
            _ => None,
        };
        statements.push(
            sql::render(db.dialect(), table, source, &mutation)
                .map_err(|e| format!("refused mutation: {e}"))?,
        );
    }
    Ok(statements)
}

/// Apply a batch's outcomes in one transaction with the checkpoints.
pub(super) async fn apply_batch(
    db: &Db,
    description: &Description,
    version: &str,
    events: &[Event],
    results: Vec<EventResult>,
) -> Result<BatchOutcome, StoreError> {
    let plans: Vec<Result<Vec<Statement>, String>> = events
        .iter()
        .zip(results)
        .map(|(event, result)| plan(db, description, event, result))
        .collect();
    let failing: HashSet<(String, String, String, i64)> = state::failures(db)
        .await?
        .into_iter()
        .filter(|f| f.family == description.name)
        .map(|f| (f.instance_id, f.aggregate_type, f.aggregate_id, f.sequence))
        .collect();
    match run(db, description, version, events, &plans, &failing, false).await {
        Ok(outcome) => Ok(outcome),
        Err(StoreError::Db(sqlx::Error::Database(e))) => {
            tracing::debug!("batch refused by the database ({e}); retrying event by event");
            run(db, description, version, events, &plans, &failing, true).await
        }
        Err(e) => Err(e),
    }
}

async fn run(
    db: &Db,
    description: &Description,
    version: &str,
    events: &[Event],
    plans: &[Result<Vec<Statement>, String>],
    failing: &HashSet<(String, String, String, i64)>,
    careful: bool,
) -> Result<BatchOutcome, StoreError> {
    let family = description.name.as_str();
    let mut tx = db.begin().await?;
    let mut outcome = BatchOutcome::default();
    let mut stopped: HashSet<&str> = HashSet::new();
    let mut last_applied: HashMap<&str, &Event> = HashMap::new();
    for (event, plan) in events.iter().zip(plans) {
        if stopped.contains(event.instance_id.as_str()) {
            continue;
        }
        let result = match plan {
            Err(message) => Err(message.clone()),
            Ok(statements) if careful => execute_guarded(&mut tx, statements).await?,
            Ok(statements) => {
                for statement in statements {
                    tx.execute(statement).await?;
                }
                Ok(())
            }
        };
        match result {
            Ok(()) => {
                outcome.n_applied += 1;
                outcome.n_mutations += plan.as_ref().map_or(0, |s| s.len() as u64);
                last_applied.insert(&event.instance_id, event);
                let key = (
                    event.instance_id.clone(),
                    event.aggregate_type.clone(),
                    event.aggregate_id.clone(),
                    event.sequence,
                );
                if failing.contains(&key) {
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
    for event in last_applied.values() {
        state::save_checkpoint(&mut tx, family, version, event).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// Run an event's statements inside a savepoint; a refused statement rolls
/// back the event only and becomes its error.
async fn execute_guarded(
    tx: &mut Tx,
    statements: &[Statement],
) -> Result<Result<(), String>, StoreError> {
    tx.execute_plain("SAVEPOINT projector_event").await?;
    for statement in statements {
        if let Err(e) = tx.execute(statement).await {
            match e {
                StoreError::Db(sqlx::Error::Database(db_error)) => {
                    tx.execute_plain("ROLLBACK TO SAVEPOINT projector_event")
                        .await?;
                    tx.execute_plain("RELEASE SAVEPOINT projector_event")
                        .await?;
                    return Ok(Err(format!("database refused mutation: {db_error}")));
                }
                other => return Err(other),
            }
        }
    }
    tx.execute_plain("RELEASE SAVEPOINT projector_event")
        .await?;
    Ok(Ok(()))
}
