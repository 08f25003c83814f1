//! Project events: read a family's events in global order, run its plugin on
//! a batch, validate and apply the mutations with the checkpoints in one
//! transaction.
//!
//! Failure isolation: an event the plugin rejects, whose mutations the
//! validator refuses, or whose statements the database refuses is recorded in
//! `projector_failed_events` and stops only its (family, tenant): that
//! tenant's checkpoint stays before the event, the other tenants of the batch
//! apply, and the next run tries the event again. Nothing is skipped silently.
//!
//! A family whose tables cannot be installed (a name it may not own, see
//! [`crate::store::owner`]; tables of another shape; two plugins of one
//! family) is refused whole: nothing of it is created or run, it is reported
//! ([`FamilyReport::refused`], [`Refusal`]), and the other families go on.

mod apply;
pub mod follow;
mod merge;
mod pipeline;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use projection_sdk::{Description, Event, Mutation};
use tracing::Instrument as _;

use crate::plugin::{LookupSource, Plugin, PluginError};
use crate::source;
use crate::source::order::{Barrier, BarrierMode};
use crate::store::{Db, StoreError, ddl};

pub use apply::BatchOutcome;
pub use merge::{merge_mutations, render as render_mutation};

/// Runtime failures (a failing event is not one: it is recorded and the
/// run goes on).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The host could not run a plugin.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// No installed plugin has this family name.
    #[error("unknown family {0:?}; installed: {1}")]
    UnknownFamily(String, String),
    /// Deployed plugins could not be read or loaded.
    #[error(transparent)]
    Registry(#[from] crate::plugin::registry::RegistryError),
    /// Two loaded plugins are one family: neither is installed.
    #[error("family {family:?} is loaded twice ({first} and {second}); neither is installed")]
    DuplicateFamily {
        /// The family.
        family: String,
        /// Where one plugin came from.
        first: String,
        /// Where the other came from.
        second: String,
    },
}

/// A family the host would not install: its declaration was refused (a
/// name it may not own, tables of another shape, an invalid table or view).
/// Nothing of it was created; it projects nothing, and the other families
/// go on.
#[derive(Debug)]
pub struct Refusal {
    /// The family.
    pub family: String,
    /// Why.
    pub error: RuntimeError,
}

/// What a replay does.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Only this family.
    pub family: Option<String>,
    /// Only this tenant.
    pub instance_id: Option<String>,
    /// Rebuild: drop the family's tables (or the tenant's rows) and start at zero.
    pub from_start: bool,
    /// Events per plugin call and transaction.
    pub batch_size: usize,
    /// Stop after this many batches per family (for tests of resuming).
    pub max_batches: Option<usize>,
    /// Leave tenants whose failed event is not yet due for a retry (`run`);
    /// a one-shot replay retries every failed event.
    pub respect_backoff: bool,
    /// Stop between batches once this turns true.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
    /// Count pending events first (for the progress bar).
    pub count_pending: bool,
    /// Apply one statement per mutation, each event in a savepoint (the
    /// reference handler's way; a benchmark baseline).
    pub statement_per_event: bool,
    /// How reads wait for writers in flight (PostgreSQL; see
    /// [`source::order`]).
    pub barrier: BarrierMode,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            family: None,
            instance_id: None,
            from_start: false,
            batch_size: 1000,
            max_batches: None,
            respect_backoff: false,
            stop: None,
            count_pending: true,
            statement_per_event: false,
            barrier: BarrierMode::default(),
        }
    }
}

/// Totals of one family's replay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FamilyReport {
    /// Family.
    pub family: String,
    /// Events applied.
    pub n_applied: u64,
    /// Events that failed (recorded).
    pub n_failed: u64,
    /// Mutations applied.
    pub n_mutations: u64,
    /// Batches committed.
    pub n_batches: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Why the family was not installed (nothing of it ran), if it was not.
    pub refused: Option<String>,
}

/// Progress callbacks (a progress bar in the CLI, nothing in tests).
pub trait Progress: Send + Sync {
    /// A family starts; `total` events are pending.
    fn start(&self, family: &str, total: u64);
    /// `n` more events were handled.
    fn advance(&self, n: u64);
    /// The family is done.
    fn finish(&self, report: &FamilyReport);
}

/// Progress that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _family: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self, _report: &FamilyReport) {}
}

/// The descriptions of the other loaded families: a new name one of them
/// declares too is refused to both.
fn rivals<'a>(descriptions: &'a [Description], family: &str) -> Vec<&'a Description> {
    descriptions.iter().filter(|d| d.name != family).collect()
}

/// A plugin whose family another loaded plugin has too.
fn duplicate(plugins: &[Plugin], plugin: &Plugin) -> Option<RuntimeError> {
    let other = plugins
        .iter()
        .find(|p| p.family() == plugin.family() && !std::ptr::eq(*p, plugin))?;
    Some(RuntimeError::DuplicateFamily {
        family: plugin.family().to_owned(),
        first: plugin.path.display().to_string(),
        second: other.path.display().to_string(),
    })
}

/// Create (or check) the tables of every plugin. A family whose declaration
/// is refused is returned with the reason, and the others are installed.
pub async fn install_all(db: &Db, plugins: &[Plugin]) -> Result<Vec<Refusal>, RuntimeError> {
    let descriptions: Vec<Description> = plugins.iter().map(|p| p.description.clone()).collect();
    let mut refused = Vec::new();
    for plugin in plugins {
        if let Some(error) = duplicate(plugins, plugin) {
            tracing::error!(family = plugin.family(), "not installed: {error}");
            refused.push(Refusal {
                family: plugin.family().to_owned(),
                error,
            });
            continue;
        }
        let rivals = rivals(&descriptions, plugin.family());
        if let Err(error) = ddl::install_among(db, &plugin.description, &plugin.hash, &rivals).await
        {
            tracing::error!(family = plugin.family(), "not installed: {error}");
            refused.push(Refusal {
                family: plugin.family().to_owned(),
                error: error.into(),
            });
        }
    }
    Ok(refused)
}

/// Replay the selected families. A family whose tables cannot be installed
/// is reported with `refused` set and the others replay.
pub async fn replay(
    db: &Db,
    plugins: &mut [Plugin],
    options: &ReplayOptions,
    progress: &dyn Progress,
) -> Result<Vec<FamilyReport>, RuntimeError> {
    if let Some(family) = &options.family
        && !plugins.iter().any(|p| p.family() == family)
    {
        let names: Vec<&str> = plugins.iter().map(Plugin::family).collect();
        return Err(RuntimeError::UnknownFamily(
            family.clone(),
            names.join(", "),
        ));
    }
    let barrier = Barrier::new(db, options.barrier).await?;
    let descriptions: Vec<Description> = plugins.iter().map(|p| p.description.clone()).collect();
    let duplicates: Vec<Option<RuntimeError>> =
        plugins.iter().map(|p| duplicate(plugins, p)).collect();
    let mut reports = Vec::new();
    for (plugin, duplicate) in plugins.iter_mut().zip(duplicates) {
        if options
            .family
            .as_deref()
            .is_some_and(|f| f != plugin.family())
        {
            continue;
        }
        let rivals = rivals(&descriptions, plugin.family());
        let prepared = match duplicate {
            Some(error) => Err(error),
            None => prepare(db, plugin, options, &rivals).await,
        };
        if let Err(error) = prepared {
            tracing::error!(family = plugin.family(), "not installed: {error}");
            reports.push(FamilyReport {
                family: plugin.family().to_owned(),
                refused: Some(error.to_string()),
                ..FamilyReport::default()
            });
            continue;
        }
        reports.push(replay_family(db, plugin, options, &barrier, progress, &mut None).await?);
    }
    Ok(reports)
}

async fn prepare(
    db: &Db,
    plugin: &Plugin,
    options: &ReplayOptions,
    rivals: &[&Description],
) -> Result<(), RuntimeError> {
    let (description, hash) = (&plugin.description, plugin.hash.as_str());
    match (options.from_start, options.instance_id.as_deref()) {
        (true, None) => ddl::rebuild_among(db, description, hash, rivals).await?,
        (true, Some(instance)) => {
            ddl::install_among(db, description, hash, rivals).await?;
            ddl::rebuild_instance(db, description, instance).await?;
        }
        (false, _) => ddl::install_among(db, description, hash, rivals).await?,
    }
    Ok(())
}

fn subscription_lists(plugin: &Plugin) -> (Vec<String>, Vec<String>) {
    let subs = &plugin.description.subscriptions;
    let mut aggregate_types: Vec<String> = subs.iter().map(|s| s.aggregate_type.clone()).collect();
    let mut event_types: Vec<String> = subs
        .iter()
        .flat_map(|s| s.event_types.iter().cloned())
        .collect();
    aggregate_types.sort();
    aggregate_types.dedup();
    event_types.sort();
    event_types.dedup();
    (aggregate_types, event_types)
}

/// Events of a family still to apply, per tenant.
pub async fn pending(db: &Db, plugin: &Plugin) -> Result<Vec<(String, i64)>, StoreError> {
    let (aggregate_types, event_types) = subscription_lists(plugin);
    source::events_behind(db, plugin.family(), &aggregate_types, &event_types).await
}

/// Per tenant, every committed event the family has not applied: after its
/// checkpoint, and at or below it but never applied ([`source::TenantLag`]).
pub async fn lag(db: &Db, plugin: &Plugin) -> Result<Vec<source::TenantLag>, StoreError> {
    source::tenant_lag(db, plugin.family(), &plugin.description.subscriptions).await
}

/// Apply a family's pending events in batches. `after` is the read cursor:
/// the last event read, carried across calls by `run` (the ordering protocol
/// guarantees nothing new appears before it); `None` reads from the
/// checkpoints.
async fn replay_family(
    db: &Db,
    plugin: &mut Plugin,
    options: &ReplayOptions,
    barrier: &Barrier,
    progress: &dyn Progress,
    after: &mut Option<Event>,
) -> Result<FamilyReport, RuntimeError> {
    let started = Instant::now();
    let family = plugin.family().to_owned();
    let total: i64 = if options.count_pending {
        pending(db, plugin)
            .await?
            .iter()
            .filter(|(i, _)| options.instance_id.as_ref().is_none_or(|only| only == i))
            .map(|(_, n)| n)
            .sum()
    } else {
        0
    };
    progress.start(&family, u64::try_from(total).unwrap_or(0));
    let (aggregate_types, event_types) = subscription_lists(plugin);
    let mut report = FamilyReport {
        family: family.clone(),
        ..FamilyReport::default()
    };
    let mut stuck: Vec<String> = Vec::new();
    // Failed events of this family: records to clear when they apply, and
    // (for `run`) tenants whose retry is not yet due.
    let now = crate::time::now_micros();
    let mut failing = HashSet::new();
    for failure in crate::store::state::family_failures(db, &family).await? {
        if options.respect_backoff && failure.retry_after.is_some_and(|t| t > now) {
            stuck.push(failure.instance_id.clone());
        }
        failing.insert((
            failure.instance_id,
            failure.aggregate_type,
            failure.aggregate_id,
            failure.sequence,
        ));
    }
    let limit = i64::try_from(options.batch_size.max(1)).unwrap_or(1000);
    let checkpoints: HashMap<String, crate::store::state::Checkpoint> =
        crate::store::state::family_checkpoints(db, &family)
            .await?
            .into_iter()
            .map(|c| (c.instance_id.clone(), c))
            .collect();
    let shared = apply::Family {
        db: db.clone(),
        description: Arc::new(plugin.description.clone()),
        version: plugin_version(plugin),
        failing: Arc::new(failing),
        statement_per_event: options.statement_per_event,
    };
    let reader = pipeline::Reader {
        db,
        aggregate_types,
        event_types,
        instance_id: options.instance_id.as_deref(),
        limit,
        checkpoints: &checkpoints,
        barrier,
        stop: options.stop.as_ref(),
    };
    let stopping = || options.stop.as_ref().is_some_and(|stop| *stop.borrow());
    let last_batch = |n_batches: u64| {
        options
            .max_batches
            .is_some_and(|max| n_batches + 1 >= max as u64)
    };
    // While PostgreSQL applies batch N, the host reads batch N+1 and runs
    // the plugin on it: the plugin's output depends on events only, never on
    // the tables. If batch N stops a tenant, that tenant's events leave the
    // prepared batch, as a fresh read would have skipped them.
    let mut next = if options.max_batches == Some(0) || stopping() {
        None
    } else {
        reader.prepare(plugin, after.clone(), &stuck).await?
    };
    while let Some(batch) = next.take() {
        let Some(plans) = batch.plans else {
            progress.advance(batch.n_read);
            *after = Some(batch.last);
            if stopping() {
                break;
            }
            next = reader.prepare(plugin, after.clone(), &stuck).await?;
            continue;
        };
        let span = tracing::info_span!(
            "store.apply",
            family = %family,
            seq_from = %read_first(&batch.events),
            seq_to = %batch.last.position,
            n_events = batch.events.len(),
            n_tenants = pipeline::n_tenants(&batch.events),
            n_mutations = tracing::field::Empty,
        );
        let apply = tokio::spawn(
            apply::apply_owned(shared.clone(), batch.events, plans, batch.merged)
                .instrument(span.clone()),
        );
        let ahead = if last_batch(report.n_batches) || stopping() {
            Ok(None)
        } else {
            reader
                .prepare(plugin, Some(batch.last.clone()), &stuck)
                .await
        };
        let outcome = apply
            .await
            .map_err(|e| RuntimeError::Store(StoreError::Corrupt(format!("apply task: {e}"))))??;
        span.record("n_mutations", outcome.n_mutations);
        report.n_applied += outcome.n_applied;
        report.n_failed += outcome.failed.len() as u64;
        report.n_mutations += outcome.n_mutations;
        report.n_batches += 1;
        for (instance, error) in &outcome.failed {
            tracing::warn!(family = %family, instance = %instance, "event failed, tenant stopped: {error}");
            if !stuck.contains(instance) {
                stuck.push(instance.clone());
            }
        }
        progress.advance(batch.n_read);
        *after = Some(batch.last);
        if last_batch(report.n_batches - 1) || stopping() {
            break;
        }
        next = ahead?.map(|prepared| prepared.without(&shared.description, db.dialect(), &stuck));
    }
    report.elapsed = started.elapsed();
    progress.finish(&report);
    Ok(report)
}

fn read_first(events: &[Event]) -> &str {
    events.first().map_or("", |e| e.position.as_str())
}

/// How checkpoints name the plugin that applied them: version and hash prefix.
pub fn plugin_version(plugin: &Plugin) -> String {
    format!(
        "{}@{}",
        plugin.description.version,
        plugin.hash.get(..12).unwrap_or(&plugin.hash)
    )
}

/// The per-event outcome: mutations, or why the event failed.
pub type EventResult = Result<Vec<Mutation>, String>;

/// Run the plugin on a batch. A trap or limit hit fails the call, so the
/// batch is retried event by event to find the bad event; the events before
/// it still apply.
fn run_plugin(
    db: &Db,
    plugin: &mut Plugin,
    events: &[Event],
) -> Result<Vec<EventResult>, RuntimeError> {
    let call = |plugin: &mut Plugin, events: &[Event]| {
        tokio::task::block_in_place(|| plugin.handle(events, LookupSource::Store(db.clone())))
    };
    match call(plugin, events) {
        Ok(outcomes) => Ok(outcomes
            .into_iter()
            .map(|o| o.map_err(|e| e.to_string()))
            .collect()),
        Err(e) if !e.is_plugin_fault() => Err(e.into()),
        Err(batch_error) => {
            tracing::warn!(
                family = plugin.family(),
                "batch failed ({batch_error}); narrowing down to the event"
            );
            let mut results = Vec::with_capacity(events.len());
            for event in events {
                results.push(match call(plugin, std::slice::from_ref(event)) {
                    Ok(mut outcomes) => match outcomes.pop() {
                        Some(outcome) => outcome.map_err(|e| e.to_string()),
                        None => Err("plugin returned no outcome".to_owned()),
                    },
                    Err(e) if !e.is_plugin_fault() => return Err(e.into()),
                    Err(e) => Err(e.to_string()),
                });
            }
            Ok(results)
        }
    }
}

/// Tenants with failed events, per family.
pub fn stuck_tenants(failures: &[crate::store::state::Failure]) -> HashSet<(String, String)> {
    failures
        .iter()
        .map(|f| (f.family.clone(), f.instance_id.clone()))
        .collect()
}
