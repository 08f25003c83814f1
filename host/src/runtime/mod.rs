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
mod aside;
pub mod deploy;
pub mod follow;
pub use leasing::LeaseOptions;
mod leasing;
mod merge;
mod pipeline;
mod plan;
mod replay;
mod staged;
pub mod verify;
mod workers;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use projection_sdk::Description;

use crate::plugin::{Plugin, PluginError};
use crate::source;
use crate::source::order::{Barrier, BarrierMode};
use crate::store::{Db, StoreError, ddl, state};

pub use apply::BatchOutcome;
pub use merge::{merge_mutations, render as render_mutation};
pub use plan::{EventFailure, Stops};

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

/// What a replay does: what an operator chooses (the `replay` command's
/// flags).
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
    /// How reads wait for writers in flight (PostgreSQL; see
    /// [`source::order`]).
    pub barrier: BarrierMode,
    /// Workers replaying units side by side ([`workers`]); 1: one family
    /// after another.
    pub workers: usize,
}

/// Events per plugin call and transaction unless an operator chooses:
/// every command's default, and the benches'. Measured on the realistic
/// stream (1,000,000 events, every family, one worker, PostgreSQL), in one
/// series of `projector-bench replay-path --batch-size N`: 2,000 took
/// 59.1 s at a peak RSS of 132 MB, 3,000 took 55.8 s at 170 MB, 4,000 took
/// 55.1 s at 179 MB. Each batch costs its statements' parsing and
/// planning and a commit, whatever its size; past 3,000 that is paid for
/// in memory more than it gains.
pub const DEFAULT_BATCH_SIZE: usize = 3000;

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            family: None,
            instance_id: None,
            from_start: false,
            batch_size: DEFAULT_BATCH_SIZE,
            barrier: BarrierMode::default(),
            workers: 1,
        }
    }
}

/// How a replay is driven, beyond what an operator chooses: by the follow
/// loop (one batch a round, failed events' backoff, a stop signal), by tests
/// (stop after some batches) and by the benchmark (the plain apply as a
/// baseline). [`replay`] uses the default: run to the end, retry every
/// failed event, count pending events for the progress bar.
#[derive(Debug, Clone)]
pub struct Control {
    /// Stop after this many batches per family.
    pub max_batches: Option<usize>,
    /// Leave tenants whose failed event is not yet due for a retry (`run`);
    /// a one-shot replay retries every failed event.
    pub respect_backoff: bool,
    /// Stop between batches once this turns true.
    pub stop: Option<tokio::sync::watch::Receiver<bool>>,
    /// Count pending events first (for the progress bar).
    pub count_pending: bool,
    /// Apply one statement per mutation, each event in a savepoint, and
    /// make one query per event look-up (the reference handler's way; a
    /// benchmark baseline).
    pub statement_per_event: bool,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            max_batches: None,
            respect_backoff: false,
            stop: None,
            count_pending: true,
            statement_per_event: false,
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
    /// Batches whose merged statements the database refused, run again
    /// event by event (a failing event's batch, or a fast path defect).
    pub n_fell_back: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Time in each step of the batches (read and plan overlap the apply
    /// of the batch before, so they add up to more than `elapsed`).
    pub stages: Stages,
    /// Why the family was not installed (nothing of it ran), if it was not.
    pub refused: Option<String>,
}

impl FamilyReport {
    /// This report followed by `then`, of the same family: counts added.
    fn and(mut self, then: &FamilyReport) -> FamilyReport {
        self.n_applied += then.n_applied;
        self.n_failed += then.n_failed;
        self.n_mutations += then.n_mutations;
        self.n_batches += then.n_batches;
        self.n_fell_back += then.n_fell_back;
        self.elapsed += then.elapsed;
        self.stages.read += then.stages.read;
        self.stages.plan += then.stages.plan;
        self.stages.apply += then.stages.apply;
        self
    }
}

/// Time a family's batches spent in each step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stages {
    /// Reading events (including waits of the read barrier).
    pub read: Duration,
    /// Running the plugin, checking its mutations, merging statements.
    pub plan: Duration,
    /// Apply transactions, commit included.
    pub apply: Duration,
}

/// Progress callbacks (a progress bar in the CLI, nothing in tests).
pub trait Progress: Send + Sync {
    /// A family starts; `total` events are pending.
    fn start(&self, family: &str, total: u64);
    /// `n` more events of `family` were handled (families may run side by
    /// side, on several workers).
    fn advance(&self, family: &str, n: u64);
    /// The family is done.
    fn finish(&self, report: &FamilyReport);
}

/// Progress that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _family: &str, _total: u64) {}
    fn advance(&self, _family: &str, _n: u64) {}
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
    replay_controlled(db, plugins, options, &Control::default(), progress).await
}

/// Refuse a family name no loaded plugin has, naming those it has.
fn known_family(plugins: &[Plugin], family: Option<&str>) -> Result<(), RuntimeError> {
    match family {
        Some(family) if !plugins.iter().any(|p| p.family() == family) => {
            let names: Vec<&str> = plugins.iter().map(Plugin::family).collect();
            Err(RuntimeError::UnknownFamily(
                family.to_owned(),
                names.join(", "),
            ))
        }
        _ => Ok(()),
    }
}

/// [`replay`], driven by `control`.
pub async fn replay_controlled(
    db: &Db,
    plugins: &mut [Plugin],
    options: &ReplayOptions,
    control: &Control,
    progress: &dyn Progress,
) -> Result<Vec<FamilyReport>, RuntimeError> {
    known_family(plugins, options.family.as_deref())?;
    let barrier = Barrier::new(db, options.barrier).await?;
    let descriptions: Vec<Description> = plugins.iter().map(|p| p.description.clone()).collect();
    let duplicates: Vec<Option<RuntimeError>> =
        plugins.iter().map(|p| duplicate(plugins, p)).collect();
    let mut reports: Vec<Option<FamilyReport>> = Vec::new();
    // Install (or rebuild online) one family after another; the replays
    // in place then run on the worker pool.
    let mut in_place: Vec<(usize, &mut Plugin)> = Vec::new();
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
        let start = match prepared {
            Ok(start) => start,
            Err(error) => {
                tracing::error!(family = plugin.family(), "not installed: {error}");
                reports.push(Some(FamilyReport {
                    family: plugin.family().to_owned(),
                    refused: Some(error.to_string()),
                    ..FamilyReport::default()
                }));
                continue;
            }
        };
        if start == Start::Online {
            // Built up to the last event, then swapped in: the live tables
            // are caught up as of the swap. No replay of the live tables
            // follows, so none competes with a `run` following them.
            let run = (options, control, &barrier);
            reports.push(Some(
                aside::rebuild_online(db, plugin, run, progress).await?,
            ));
            continue;
        }
        in_place.push((reports.len(), plugin));
        reports.push(None);
    }
    for (slot, report) in
        replay_in_place(db, in_place, options, control, &barrier, progress).await?
    {
        reports[slot] = Some(report);
    }
    Ok(reports.into_iter().flatten().collect())
}

/// Replay families from their checkpoints on `options.workers` workers:
/// with one, each family in turn; with more, the families side by side,
/// each split into as many groups of units as it takes to give every
/// worker one (one plugin instance per group, [`workers`]). A group reads
/// the whole stream and keeps its tenants' events, so a family is split
/// only when there are more workers than families. With more groups than
/// workers, the heaviest are dealt first ([`heaviest_first`]). Returns each
/// family's report (its groups' added up) with its slot.
async fn replay_in_place(
    db: &Db,
    families: Vec<(usize, &mut Plugin)>,
    options: &ReplayOptions,
    control: &Control,
    barrier: &Barrier,
    progress: &dyn Progress,
) -> Result<Vec<(usize, FamilyReport)>, RuntimeError> {
    let n_workers = options.workers.max(1);
    let per_family = n_workers.div_ceil(families.len().max(1));
    let grouped = per_family > 1;
    let mut forks: Vec<Vec<Plugin>> = Vec::new();
    let mut firsts = Vec::new();
    for (slot, plugin) in families {
        let groups = if grouped {
            workers::groups(&workers::all_parts(), per_family)
        } else {
            Vec::new()
        };
        forks.push(workers::instances(plugin, groups.len()));
        firsts.push((slot, plugin, groups));
    }
    let mut items: Vec<(usize, &mut Plugin, Option<BTreeSet<i32>>)> = Vec::new();
    for ((slot, plugin, groups), forks) in firsts.into_iter().zip(forks.iter_mut()) {
        let mut groups = groups.into_iter();
        items.push((slot, plugin, groups.next()));
        for (fork, group) in forks.iter_mut().zip(groups) {
            items.push((slot, fork, Some(group)));
        }
    }
    // Per family dealt heaviest first, its pending events (counted once:
    // a family that is one group starts its progress from the count).
    let mut counted = HashMap::new();
    if n_workers > 1 && items.len() > n_workers {
        (items, counted) = heaviest_first(db, items, options).await?;
    }
    let silent = Quiet;
    let group_progress: &dyn Progress = if grouped { &silent } else { progress };
    let counted = &counted;
    let results = workers::parallel(n_workers, items, |(slot, plugin, parts)| async move {
        let replay =
            replay::FamilyReplay::start(db, plugin, options, control, barrier, None).await?;
        let replay = match (parts, counted.get(&slot)) {
            (Some(parts), _) => replay.only_parts(parts),
            (None, Some(n)) => replay.counted(*n),
            (None, None) => replay,
        };
        let (report, _) = replay.run(plugin, options, group_progress).await?;
        Ok::<_, RuntimeError>((slot, report))
    })
    .await;
    let mut merged: Vec<(usize, FamilyReport)> = Vec::new();
    for result in results {
        let (slot, report) = result?;
        match merged.iter_mut().find(|(s, _)| *s == slot) {
            Some((_, sum)) => {
                let elapsed = sum.elapsed.max(report.elapsed);
                *sum = std::mem::take(sum).and(&report);
                sum.elapsed = elapsed;
            }
            None => merged.push((slot, report)),
        }
    }
    if grouped {
        for (_, report) in &merged {
            progress.finish(report);
        }
    }
    Ok(merged)
}

/// `items` in the order to deal them to the workers: the families with the
/// most pending events first ([`workers::longest_first`]; one count per
/// family, of the tenant asked for when one is), and those counts by slot.
async fn heaviest_first<'p>(
    db: &Db,
    items: Vec<(usize, &'p mut Plugin, Option<BTreeSet<i32>>)>,
    options: &ReplayOptions,
) -> Result<
    (
        Vec<(usize, &'p mut Plugin, Option<BTreeSet<i32>>)>,
        HashMap<usize, u64>,
    ),
    RuntimeError,
> {
    let mut per_slot: HashMap<usize, u64> = HashMap::new();
    for (slot, plugin, _) in &items {
        if !per_slot.contains_key(slot) {
            per_slot.insert(*slot, pending_total(db, plugin, options).await?);
        }
    }
    let weights: Vec<u64> = items
        .iter()
        .map(|(slot, _, _)| per_slot.get(slot).copied().unwrap_or(0))
        .collect();
    let mut slots: Vec<Option<_>> = items.into_iter().map(Some).collect();
    let dealt = workers::longest_first(&weights)
        .into_iter()
        .filter_map(|i| slots[i].take())
        .collect();
    Ok((dealt, per_slot))
}

/// How a family's replay starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// From its checkpoints, on its live tables.
    InPlace,
    /// Rebuilt online first: built aside and swapped in.
    Online,
}

/// Install the family's tables, or prepare its rebuild. `--from-start` on an
/// installed family whose tables keep their shape is an online rebuild
/// (built aside, swapped in); when the tables change shape the family's
/// tables are dropped and rebuilt in place, and readers see them fill up.
async fn prepare(
    db: &Db,
    plugin: &Plugin,
    options: &ReplayOptions,
    rivals: &[&Description],
) -> Result<Start, RuntimeError> {
    let (description, hash) = (&plugin.description, plugin.hash.as_str());
    if !options.from_start {
        ddl::install_among(db, description, hash, rivals).await?;
        return Ok(Start::InPlace);
    }
    let stored = state::stored_description(db, &description.name).await?;
    let changes_shape = match &stored {
        Some(stored) if ddl::first_difference(stored, description).is_none() => {
            ddl::install_among(db, description, hash, rivals).await?;
            return Ok(Start::Online);
        }
        Some(_) => true,
        None => false,
    };
    match options.instance_id.as_deref() {
        None => {
            if changes_shape {
                tracing::warn!(
                    family = %description.name,
                    "the tables change shape: dropped and rebuilt in place"
                );
            }
            ddl::rebuild_among(db, description, hash, rivals).await?;
        }
        Some(instance) => {
            ddl::install_among(db, description, hash, rivals).await?;
            ddl::rebuild_instance(db, description, instance).await?;
        }
    }
    Ok(Start::InPlace)
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

/// Events the family has still to apply, in all (of the tenant asked for
/// in `options`, when one is).
pub(crate) async fn pending_total(
    db: &Db,
    plugin: &Plugin,
    options: &ReplayOptions,
) -> Result<u64, StoreError> {
    let n: i64 = pending(db, plugin)
        .await?
        .iter()
        .filter(|(tenant, _)| {
            options
                .instance_id
                .as_ref()
                .is_none_or(|only| only == tenant)
        })
        .map(|(_, n)| n)
        .sum();
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Events a family built aside in `lane` has still to apply, per tenant
/// (with `plugin`'s subscriptions).
pub async fn pending_in(
    db: &Db,
    plugin: &Plugin,
    lane: crate::store::lane::Lane,
) -> Result<Vec<(String, i64)>, StoreError> {
    let (aggregate_types, event_types) = subscription_lists(plugin);
    let key = lane.key(plugin.canonical().name.as_str());
    source::events_behind(db, &key, &aggregate_types, &event_types).await
}

/// Per tenant, every committed event the family has not applied: after its
/// checkpoint, and at or below it but never applied ([`source::TenantLag`]).
pub async fn lag(db: &Db, plugin: &Plugin) -> Result<Vec<source::TenantLag>, StoreError> {
    source::tenant_lag(db, plugin.family(), &plugin.description.subscriptions).await
}

/// How checkpoints name the plugin that applied them: version and hash prefix.
pub fn plugin_version(plugin: &Plugin) -> String {
    format!(
        "{}@{}",
        plugin.description.version,
        plugin.hash.get(..12).unwrap_or(&plugin.hash)
    )
}

/// Tenants with failed events, per family.
pub fn stuck_tenants(failures: &[state::Failure]) -> HashSet<(String, String)> {
    failures
        .iter()
        .map(|f| (f.family.clone(), f.instance_id.clone()))
        .collect()
}

/// Skip a failed event on purpose (`projector failed skip`): record who
/// skipped it, and move its (family, tenant) checkpoint past it, in one
/// transaction ([`state::skip`]).
pub async fn skip_failed(db: &Db, id: i64, by: &str) -> Result<state::Failure, StoreError> {
    let failure = state::failure(db, id).await?;
    let event = source::get_event(
        db,
        &failure.instance_id,
        &failure.aggregate_type,
        &failure.aggregate_id,
        failure.sequence,
    )
    .await?
    .ok_or_else(|| StoreError::Corrupt(format!("failed event {id} is not in the event store")))?;
    state::skip(db, failure, &event, by).await
}
