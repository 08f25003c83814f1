//! Apply one batch: validated mutations plus checkpoints, one transaction.
//!
//! Every mutation is validated and scoped before any SQL exists. The fast
//! path runs the whole batch in one transaction as the multi-row statements
//! `merge.rs` rendered ahead of it, which keep the order's meaning. If the
//! database refuses a statement,
//! the transaction is rolled back and the batch runs again one event at a
//! time, each inside a savepoint, so the refused event is recorded as failed
//! and only its tenant stops. A refusal of the moment (a deadlock, a
//! serialization failure, a lock timeout, a busy SQLite file:
//! [`transient`]) is no event's fault: the whole transaction runs again, on
//! the same path, and no event is recorded as failed for it.

use std::collections::{HashMap, HashSet};

use projection_sdk::validate::Scoped;
use projection_sdk::{Description, Event};

use super::merge;
use super::plan::{EventFailure, Plan, Stops};
use crate::store::claim::{self, Expected};
use crate::store::lease::{self, Share};
use crate::store::sql::Statement;
use crate::store::transient::{self, Retry};
use crate::store::{Db, StoreError, Tx, fence, lane, state};

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchOutcome {
    /// Events applied.
    pub n_applied: u64,
    /// Mutations applied.
    pub n_mutations: u64,
    /// Tenants stopped by a failed event, with the failure.
    pub failed: Vec<(String, EventFailure)>,
    /// Per tenant with applied events, how many: what its checkpoint's
    /// `n_consumed` grew by.
    pub consumed: Vec<(String, i64)>,
    /// Whether the database refused the batch's merged statements, so it
    /// ran again event by event.
    pub fell_back: bool,
}

/// A failed event's identity within its family: tenant, aggregate type,
/// aggregate id, sequence.
pub(super) type FailureKey = (String, String, String, i64);

/// What every batch of one family's replay shares.
#[derive(Clone)]
pub(super) struct Family {
    pub(super) db: Db,
    pub(super) description: std::sync::Arc<Description>,
    /// How checkpoints name the plugin (`version@hash`).
    pub(super) version: String,
    /// The family's failed events, cleared when they apply.
    pub(super) failing: std::sync::Arc<HashSet<FailureKey>>,
    /// One statement per mutation, each event in a savepoint, and one query
    /// per look-up (a baseline).
    pub(super) statement_per_event: bool,
    /// The family's generation when its checkpoints were read: an apply
    /// after it moved is refused ([`fence`]; `None` for a lane).
    pub(super) generation: Option<i64>,
    /// The units this host holds, when it shares the work with others:
    /// every apply checks its leases ([`lease::check`]).
    pub(super) share: Option<std::sync::Arc<Share>>,
}

/// Apply a batch in one transaction with its checkpoints, on owned data, for
/// a task of its own. `merged` is the batch's fast path (see `merge.rs`).
pub(super) async fn apply_owned(
    family: Family,
    events: Vec<Event>,
    plans: Vec<Plan>,
    merged: Result<Vec<Statement>, StoreError>,
    expected: Expected,
) -> Result<BatchOutcome, StoreError> {
    // Boxed as `dyn Future + Send` here, where the borrows have one concrete
    // lifetime, so the spawned task is provably `Send`.
    let apply: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<BatchOutcome, StoreError>> + Send + '_>,
    > = Box::pin(apply_batch(&family, &events, &plans, merged, &expected));
    apply.await
}

async fn apply_batch(
    family: &Family,
    events: &[Event],
    plans: &[Plan],
    merged: Result<Vec<Statement>, StoreError>,
    expected: &Expected,
) -> Result<BatchOutcome, StoreError> {
    let db = &family.db;
    let batch = Batch {
        description: &family.description,
        version: &family.version,
        events,
        plans,
        failing: &family.failing,
        generation: family.generation,
        share: family.share.as_deref(),
        expected,
    };
    if family.statement_per_event {
        return batch.run_retried(db, None).await;
    }
    match batch.run_retried(db, Some(&merged?)).await {
        Err(StoreError::Db(sqlx::Error::Database(e)))
            if !transient::refusal_is_transient(e.as_ref()) =>
        {
            tracing::debug!("batch refused by the database ({e}); retrying event by event");
            let mut outcome = batch.run_retried(db, None).await?;
            outcome.fell_back = true;
            Ok(outcome)
        }
        other => other,
    }
}

struct Batch<'a> {
    description: &'a Description,
    version: &'a str,
    events: &'a [Event],
    plans: &'a [Plan],
    failing: &'a HashSet<FailureKey>,
    generation: Option<i64>,
    share: Option<&'a Share>,
    /// Each tenant's checkpoint as the replay planned the batch on it.
    expected: &'a Expected,
}

impl Batch<'_> {
    /// [`Batch::run`], again from the start while the database refuses it
    /// for a reason of the moment (a deadlock, a serialization failure, a
    /// lock not granted: [`transient`]), as [`Retry`] allows. Such a refusal
    /// says nothing about an event, so none is recorded as failed for it.
    async fn run_retried(
        &self,
        db: &Db,
        merged: Option<&[Statement]>,
    ) -> Result<BatchOutcome, StoreError> {
        let retry = Retry::default();
        let mut attempt = 1;
        loop {
            match self.run(db, merged).await {
                Err(error) if error.is_transient() && attempt < retry.attempts => {
                    attempt += 1;
                    let wait = retry.wait_before(attempt);
                    tracing::info!(
                        family = %self.description.name,
                        attempt,
                        "batch refused for the moment ({error}); running it again in {wait:?}"
                    );
                    tokio::time::sleep(wait).await;
                }
                other => return other,
            }
        }
    }

    /// Run the batch: the merged statements of its fast path, or with
    /// `None`, every event's statements inside a savepoint of its own.
    async fn run(&self, db: &Db, merged: Option<&[Statement]>) -> Result<BatchOutcome, StoreError> {
        let mut tx = db.begin().await?;
        match self.write(&mut tx, merged).await {
            Ok(outcome) => {
                tx.commit().await?;
                Ok(outcome)
            }
            Err(error) => {
                // Roll back now: a dropped transaction would hold SQLite's
                // write lock until its connection is used again, and the
                // retry would wait for it.
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!("rolling back a refused batch failed: {rollback}");
                }
                Err(error)
            }
        }
    }

    /// The batch's writes inside `tx`, which the caller commits.
    async fn write(
        &self,
        tx: &mut Tx,
        merged: Option<&[Statement]>,
    ) -> Result<BatchOutcome, StoreError> {
        let careful = merged.is_none();
        let family = self.description.name.as_str();
        fence::check(tx, family, self.generation).await?;
        self.check(tx).await?;
        let mut outcome = BatchOutcome::default();
        let mut stops = Stops::default();
        let mut last_applied: HashMap<&str, (&Event, i64)> = HashMap::new();
        for (event, plan) in self.events.iter().zip(self.plans) {
            if !stops.admits(&event.instance_id) {
                continue;
            }
            let result = match plan {
                Err(failure) => Err(failure.clone()),
                Ok(mutations) if careful => self.execute_guarded(tx, mutations).await?,
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
                        state::clear_failure(tx, family, event).await?;
                    }
                }
                Err(failure) => {
                    state::record_failure(tx, family, event, &failure.to_string()).await?;
                    stops.stop(&event.instance_id);
                    outcome.failed.push((event.instance_id.clone(), failure));
                }
            }
        }
        for statement in merged.unwrap_or_default() {
            tx.execute(statement).await?;
        }
        let mut checkpoints: Vec<(&Event, i64)> = last_applied.into_values().collect();
        checkpoints.sort_by(|a, b| a.0.instance_id.cmp(&b.0.instance_id));
        state::save_checkpoints(tx, family, self.version, &checkpoints).await?;
        outcome.consumed = checkpoints
            .iter()
            .map(|(event, n)| (event.instance_id.clone(), *n))
            .collect();
        Ok(outcome)
    }

    /// What an apply checks after the fence, before it writes: the lane is
    /// there, this host holds the batch's units, the tenants' checkpoints
    /// are where the batch was planned on them.
    async fn check(&self, tx: &mut Tx) -> Result<(), StoreError> {
        let family = self.description.name.as_str();
        lane::check_present(tx, family).await?;
        if let Some(share) = self.share {
            let tenants = self.events.iter().map(|e| e.instance_id.as_str());
            lease::check(tx, &share.host, &share.family, &share.tokens_of(tenants)).await?;
        }
        claim::claim(tx, family, self.expected).await
    }

    /// Run an event's mutations inside a savepoint; a refused statement rolls
    /// back the event only and becomes its error.
    async fn execute_guarded(
        &self,
        tx: &mut Tx,
        mutations: &[Scoped],
    ) -> Result<Result<(), EventFailure>, StoreError> {
        tx.execute_plain("SAVEPOINT projector_event").await?;
        for mutation in mutations {
            let statement = match merge::render(self.description, tx.dialect(), mutation) {
                Ok(statement) => statement,
                Err(e) => {
                    tx.execute_plain("ROLLBACK TO SAVEPOINT projector_event")
                        .await?;
                    tx.execute_plain("RELEASE SAVEPOINT projector_event")
                        .await?;
                    return Ok(Err(EventFailure::Unrenderable(e.to_string())));
                }
            };
            match tx.execute(&statement).await {
                Ok(_) => {}
                Err(StoreError::Db(sqlx::Error::Database(db_error)))
                    if !transient::refusal_is_transient(db_error.as_ref()) =>
                {
                    tx.execute_plain("ROLLBACK TO SAVEPOINT projector_event")
                        .await?;
                    tx.execute_plain("RELEASE SAVEPOINT projector_event")
                        .await?;
                    return Ok(Err(EventFailure::Database(db_error.to_string())));
                }
                Err(other) => return Err(other),
            }
        }
        tx.execute_plain("RELEASE SAVEPOINT projector_event")
            .await?;
        Ok(Ok(()))
    }
}
