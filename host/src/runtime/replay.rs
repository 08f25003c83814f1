//! One family's replay as a loop of named steps: *read* the next batch,
//! *plan* it (plugin, checks, merged statements), *apply* it in one
//! transaction with its checkpoints, *advance* (count, stop failed tenants,
//! move the cursor).
//!
//! While batch N applies, batch N+1 is planned and batch N+2 read, each
//! on a task of its own: the plugin's output depends on events only, never
//! on the tables, and a read writes nothing. If batch N stops a tenant,
//! that tenant's events leave the batches read or planned after it, as a
//! fresh read would have left them out.
//!
//! A [`BatchObserver`] (the follow loop's metrics) is told of every batch
//! that commits, with how long its transaction took.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use projection_sdk::Event;
use tracing::Instrument as _;

use super::apply::{self, BatchOutcome};
use super::pipeline::{self, Planned, Reader};
use super::plan::Stops;
use super::{Control, FamilyReport, Progress, ReplayOptions, RuntimeError, pending_total};
use crate::plugin::Plugin;
use crate::source::order::Barrier;
use crate::store::lease::Share;
use crate::store::{Db, StoreError, fence, state};

/// Told of every batch that commits.
pub(super) trait BatchObserver: Sync {
    /// A batch of `family` committed with `outcome`; its transaction took
    /// `took`.
    fn committed(&self, family: &str, outcome: &BatchOutcome, took: Duration);
}

/// A family's replay in progress.
pub(super) struct FamilyReplay<'a> {
    db: &'a Db,
    reader: Reader,
    /// What every batch's apply shares.
    family: apply::Family,
    /// Tenants stopped at a failed event (or waiting for a retry).
    stops: Stops,
    /// The last event read: nothing new appears before it.
    cursor: Option<Event>,
    /// Per tenant, its checkpoint's `n_consumed` as this replay knows it
    /// (read at the start, grown by its own commits): what each apply
    /// claims ([`crate::store::claim`]).
    consumed: HashMap<String, i64>,
    report: FamilyReport,
    control: &'a Control,
    observer: Option<&'a dyn BatchObserver>,
    /// The events pending, when the caller counted them already.
    counted: Option<u64>,
}

impl<'a> FamilyReplay<'a> {
    /// Start from the family's checkpoints and failed events. `cursor` is
    /// where a previous run of the follow loop stopped reading (`None`:
    /// from the checkpoints); it is dropped when the family was rebuilt
    /// since (its generation moved), as the checkpoints it rested on are
    /// gone.
    pub(super) async fn start(
        db: &'a Db,
        plugin: &Plugin,
        options: &'a ReplayOptions,
        control: &'a Control,
        barrier: &'a Barrier,
        cursor: Option<Cursor>,
    ) -> Result<FamilyReplay<'a>, RuntimeError> {
        let family = plugin.family().to_owned();
        let from = Resume::load(db, &family, control).await?;
        let cursor = cursor.filter(|c| c.generation == from.generation);
        if cursor.is_none() && !still_live(db, plugin).await? {
            // Cut over to another version since this plugin was loaded.
            return Err(StoreError::Superseded { family }.into());
        }
        let cursor = cursor.map(|c| c.after);
        let consumed = from.consumed();
        let (aggregate_types, event_types) = super::subscription_lists(plugin);
        let reader = Reader {
            db: db.clone(),
            aggregate_types: aggregate_types.into(),
            event_types: event_types.into(),
            instance_id: options.instance_id.clone(),
            limit: i64::try_from(options.batch_size.max(1)).unwrap_or(1000),
            checkpoints: Arc::new(from.checkpoints),
            until: None,
            barrier: barrier.clone(),
            stop: control.stop.clone(),
            parts: None,
        };
        Ok(FamilyReplay {
            db,
            reader,
            family: apply::Family {
                db: db.clone(),
                description: Arc::new(plugin.description.clone()),
                version: super::plugin_version(plugin),
                failing: Arc::new(from.failing),
                statement_per_event: control.statement_per_event,
                generation: from.generation,
                share: None,
            },
            stops: from.stops,
            cursor,
            consumed,
            report: FamilyReport {
                family,
                ..FamilyReport::default()
            },
            control,
            observer: None,
            counted: None,
        })
    }

    /// Start again from the family's checkpoints and failures as they are
    /// now (after a swap moved them), reading from the first event.
    async fn restart(&mut self) -> Result<(), RuntimeError> {
        let from = Resume::load(self.db, &self.report.family, self.control).await?;
        self.consumed = from.consumed();
        self.reader.checkpoints = Arc::new(from.checkpoints);
        self.family.failing = Arc::new(from.failing);
        self.family.generation = from.generation;
        self.stops = from.stops;
        self.cursor = None;
        Ok(())
    }

    /// Take no event of a tenant after its entry in `until`, and none of a
    /// tenant without one.
    pub(super) fn until(mut self, until: HashMap<String, state::Checkpoint>) -> FamilyReplay<'a> {
        self.reader.until = Some(Arc::new(until));
        self
    }

    /// Take only the tenants of `share`'s units, and check its leases in
    /// every apply (a host sharing the work, [`crate::store::lease`]).
    pub(super) fn leased(mut self, share: Arc<Share>) -> FamilyReplay<'a> {
        self.reader.parts = Some(Arc::new(share.tokens.keys().copied().collect()));
        self.family.share = Some(share);
        self
    }

    /// Take only the tenants of `parts` (a worker's group of units).
    pub(super) fn only_parts(mut self, parts: BTreeSet<i32>) -> FamilyReplay<'a> {
        self.reader.parts = Some(Arc::new(parts));
        self
    }

    /// Tell `observer` of every batch that commits.
    pub(super) fn observed_by(self, observer: &'a dyn BatchObserver) -> FamilyReplay<'a> {
        FamilyReplay {
            observer: Some(observer),
            ..self
        }
    }

    /// The events pending, counted already: the progress starts from
    /// `n` rather than counting again.
    pub(super) fn counted(self, n: u64) -> FamilyReplay<'a> {
        FamilyReplay {
            counted: Some(n),
            ..self
        }
    }

    /// Run batches until nothing is left, a stop is asked for, or the
    /// control's batch limit is reached. Returns the report and the cursor.
    pub(super) async fn run(
        mut self,
        plugin: &mut Plugin,
        options: &ReplayOptions,
        progress: &dyn Progress,
    ) -> Result<(FamilyReport, Option<Cursor>), RuntimeError> {
        let started = Instant::now();
        let total = match self.counted {
            Some(n) => n,
            None if self.control.count_pending => pending_total(self.db, plugin, options).await?,
            None => 0,
        };
        progress.start(&self.report.family, total);
        let mut reading = if self.control.max_batches == Some(0) || self.stopping() {
            None
        } else {
            Some(self.read_ahead(self.cursor.clone()))
        };
        let mut next = self.plan_next(plugin, &mut reading, 0).await?;
        while let Some(batch) = next.take() {
            let (n_read, last) = (batch.read.n_read, batch.read.last.clone());
            self.report.stages.read += batch.read.took;
            self.report.stages.plan += batch.took;
            if !batch.has_events() {
                self.advance(None, n_read, last.clone(), progress);
                if self.stopping() {
                    break;
                }
                if reading.is_none() {
                    reading = Some(self.read_ahead(Some(last)));
                }
                next = self.plan_next(plugin, &mut reading, 0).await?;
                continue;
            }
            let applying = self.apply(batch);
            let ahead = if self.limit_reached(self.report.n_batches + 1) || self.stopping() {
                Ok(None)
            } else {
                self.plan_next(plugin, &mut reading, 1).await
            };
            let (outcome, took) = match applying.finish().await {
                Err(RuntimeError::Store(StoreError::Superseded { family })) => {
                    // Rebuilt under us: nothing of the batch committed, and
                    // the batch read ahead was planned on old checkpoints.
                    // Cut over to another version: this plugin is not the
                    // live one any more, and the caller must switch.
                    if !still_live(self.db, plugin).await? {
                        return Err(StoreError::Superseded { family }.into());
                    }
                    tracing::info!(
                        family = %self.report.family,
                        "the family was rebuilt meanwhile; going on from its new checkpoints"
                    );
                    self.restart().await?;
                    reading = Some(self.read_ahead(None));
                    next = self.plan_next(plugin, &mut reading, 0).await?;
                    continue;
                }
                Err(RuntimeError::Store(StoreError::CheckpointMoved {
                    family,
                    instance_id,
                })) => {
                    // Another applier committed this tenant's events first:
                    // nothing of the batch committed; plan again from the
                    // checkpoints as they are now.
                    tracing::debug!(
                        family = %family,
                        instance = %instance_id,
                        "another applier moved the checkpoint; going on from the checkpoints as they are"
                    );
                    self.restart().await?;
                    reading = Some(self.read_ahead(None));
                    next = self.plan_next(plugin, &mut reading, 0).await?;
                    continue;
                }
                other => other?,
            };
            self.report.stages.apply += took;
            if let Some(observer) = self.observer {
                observer.committed(&self.report.family, &outcome, took);
            }
            self.advance(Some(outcome), n_read, last, progress);
            if self.limit_reached(self.report.n_batches) || self.stopping() {
                break;
            }
            next = ahead?.map(|planned| {
                planned.without_stopped(&self.family.description, self.db.dialect(), &self.stops)
            });
        }
        self.report.elapsed = started.elapsed();
        progress.finish(&self.report);
        let generation = self.family.generation;
        let cursor = self.cursor.map(|after| Cursor { after, generation });
        Ok((self.report, cursor))
    }

    /// *Read*: the batch after `after`, on a task of its own, so it runs
    /// while the batch before it is planned.
    fn read_ahead(&self, after: Option<Event>) -> ReadAhead {
        let reader = self.reader.clone();
        let description = self.family.description.clone();
        let stops = self.stops.clone();
        ReadAhead(tokio::spawn(async move {
            reader.read(&description, after.as_ref(), &stops).await
        }))
    }

    /// *Plan*: the batch `reading` read, handled by the plugin, once the
    /// read is done; the read of the batch after it starts first, unless
    /// the batch limit leaves no room for it (`in_flight`: batches applying
    /// meanwhile, not yet counted). Tenants stopped since the read began
    /// leave the batch first, as a fresh read would have left them out.
    async fn plan_next(
        &self,
        plugin: &mut Plugin,
        reading: &mut Option<ReadAhead>,
        in_flight: u64,
    ) -> Result<Option<Planned>, RuntimeError> {
        let Some(pending) = reading.take() else {
            return Ok(None);
        };
        let Some(mut read) = pending.finish().await? else {
            return Ok(None);
        };
        let room = !self.limit_reached(self.report.n_batches + in_flight + 1);
        if room && !self.stopping() {
            *reading = Some(self.read_ahead(Some(read.last.clone())));
        }
        read.events.retain(|e| self.stops.admits(&e.instance_id));
        pipeline::plan(
            self.db,
            plugin,
            read,
            &self.stops,
            self.family.statement_per_event,
        )
        .map(Some)
    }

    /// *Apply*: the batch's transaction, on a task of its own, so the next
    /// batch is read and planned meanwhile.
    fn apply(&self, batch: Planned) -> Applying {
        let events = &batch.read.events;
        let span = tracing::info_span!(
            "store.apply",
            family = %self.report.family,
            seq_from = %events.first().map_or("", |e| e.position.as_str()),
            seq_to = %batch.read.last.position,
            n_events = events.len(),
            n_tenants = pipeline::n_tenants(events),
            n_mutations = tracing::field::Empty,
        );
        let Planned {
            read,
            plans,
            merged,
            ..
        } = batch;
        let expected = read
            .events
            .iter()
            .map(|e| {
                (
                    e.instance_id.clone(),
                    self.consumed.get(&e.instance_id).copied(),
                )
            })
            .collect();
        let apply = apply::apply_owned(self.family.clone(), read.events, plans, merged, expected);
        let task = tokio::spawn(
            async move {
                let started = Instant::now();
                let outcome = apply.await;
                (outcome, started.elapsed())
            }
            .instrument(span.clone()),
        );
        Applying { task, span }
    }

    /// *Advance*: count the applied batch, stop the tenants it failed, move
    /// the cursor past what was read.
    fn advance(
        &mut self,
        outcome: Option<BatchOutcome>,
        n_read: u64,
        last: Event,
        progress: &dyn Progress,
    ) {
        if let Some(outcome) = outcome {
            let report = &mut self.report;
            report.n_applied += outcome.n_applied;
            report.n_failed += outcome.failed.len() as u64;
            report.n_mutations += outcome.n_mutations;
            report.n_batches += 1;
            report.n_fell_back += u64::from(outcome.fell_back);
            for (instance, n) in &outcome.consumed {
                *self.consumed.entry(instance.clone()).or_default() += n;
            }
            for (instance, failure) in &outcome.failed {
                tracing::warn!(
                    family = %report.family,
                    instance = %instance,
                    "event failed, tenant stopped: {failure}"
                );
                self.stops.stop(instance);
            }
        }
        progress.advance(&self.report.family, n_read);
        self.cursor = Some(last);
    }

    fn stopping(&self) -> bool {
        self.control
            .stop
            .as_ref()
            .is_some_and(|stop| *stop.borrow())
    }

    /// Whether `n_batches` applied batches reach the control's limit.
    fn limit_reached(&self, n_batches: u64) -> bool {
        self.control
            .max_batches
            .is_some_and(|max| n_batches >= max as u64)
    }
}

/// Whether the family's live tables are the ones `plugin` declares (a
/// family built aside, in a lane, has no live tables of its own: yes).
async fn still_live(db: &Db, plugin: &Plugin) -> Result<bool, RuntimeError> {
    Ok(state::stored_description(db, plugin.family())
        .await?
        .is_none_or(|live| {
            crate::store::ddl::first_difference(&live, &plugin.description).is_none()
        }))
}

/// Where a replay stopped reading, valid while the family's generation is
/// the one it was read under.
pub(super) struct Cursor {
    after: Event,
    generation: Option<i64>,
}

/// Where a family's replay starts: what its checkpoints and failures say,
/// read after its generation ([`crate::store::fence`]).
struct Resume {
    generation: Option<i64>,
    checkpoints: HashMap<String, state::Checkpoint>,
    failing: HashSet<apply::FailureKey>,
    stops: Stops,
}

impl Resume {
    /// Per tenant, its checkpoint's `n_consumed`.
    fn consumed(&self) -> HashMap<String, i64> {
        self.checkpoints
            .iter()
            .map(|(tenant, c)| (tenant.clone(), c.n_consumed))
            .collect()
    }

    async fn load(db: &Db, family: &str, control: &Control) -> Result<Resume, RuntimeError> {
        let generation = fence::generation(db, family).await?;
        let now = crate::time::now_micros();
        let mut stops = Stops::default();
        let mut failing = HashSet::new();
        for failure in state::family_failures(db, family).await? {
            if control.respect_backoff && failure.retry_after.is_some_and(|t| t > now) {
                stops.stop(&failure.instance_id);
            }
            failing.insert((
                failure.instance_id,
                failure.aggregate_type,
                failure.aggregate_id,
                failure.sequence,
            ));
        }
        let checkpoints = state::family_checkpoints(db, family)
            .await?
            .into_iter()
            .map(|c| (c.instance_id.clone(), c))
            .collect();
        Ok(Resume {
            generation,
            checkpoints,
            failing,
            stops,
        })
    }
}

/// A batch's read in flight; dropping it cancels the read (a read writes
/// nothing).
struct ReadAhead(tokio::task::JoinHandle<Result<Option<pipeline::Read>, RuntimeError>>);

impl ReadAhead {
    /// Wait for the read.
    async fn finish(mut self) -> Result<Option<pipeline::Read>, RuntimeError> {
        (&mut self.0)
            .await
            .map_err(|e| RuntimeError::Store(StoreError::Corrupt(format!("read task: {e}"))))?
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A batch's apply in flight.
struct Applying {
    task: tokio::task::JoinHandle<(Result<BatchOutcome, StoreError>, Duration)>,
    span: tracing::Span,
}

impl Applying {
    /// Wait for the transaction's outcome and how long it took.
    async fn finish(self) -> Result<(BatchOutcome, Duration), RuntimeError> {
        let (outcome, took) = self
            .task
            .await
            .map_err(|e| RuntimeError::Store(StoreError::Corrupt(format!("apply task: {e}"))))?;
        let outcome = outcome?;
        self.span.record("n_mutations", outcome.n_mutations);
        Ok((outcome, took))
    }
}
