//! `projector run`: catch up every family, then follow new events.
//!
//! On PostgreSQL a trigger on `events2` notifies `projector_events` on every
//! insert, whoever the writer is; the follower listens and also polls, in
//! case a notification is lost with a connection. An event store projector
//! did not create (Zitadel's) has no such trigger unless the operator
//! installed it (`run --notify-trigger`): then, as on SQLite, it polls. A
//! stop request (Ctrl-C, SIGTERM) is honoured between batches: the batch in
//! flight commits whole or not at all. Tenants stopped by a failed event are
//! retried when their back-off expires (`projector failed retry` makes it
//! now). Every family gets one batch per round, and at each round (a batch
//! boundary) plugins whose active deployed version changed are swapped. A
//! family whose tables the host refuses to install is left out (logged),
//! and the others follow.
//!
//! A paused family (`projector family pause`, [`crate::store::pause`]) is
//! left out from the round that first sees the pause until a round sees it
//! resumed: the paused set is read at every round, so no batch of the family
//! starts after the pause is seen, and the batch in flight commits whole.
//!
//! At start and every [`MISSED_CHECK_EVERY`] a background task looks for
//! events at or below a checkpoint that were never applied (committed after
//! the family had read past their position) and logs a warning for each
//! (family, tenant) ([`warn_missed`]).
//!
//! [`follow_measured`] also publishes to [`Metrics`]: every round, each
//! family's plugin version, pause and stuck tenants; every committed batch,
//! its counts and apply time; and, from a background task, the lag.

use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use projection_sdk::Subscription;

use super::apply::BatchOutcome;
use super::leasing::{LeaseOptions, Leasing};
use super::replay::{BatchObserver, Cursor, FamilyReplay};
use super::staged::StagedLanes;
use super::workers;
use super::{Control, Progress, ReplayOptions, RuntimeError};
use crate::metrics::{LagRefresh, Metrics};
use crate::plugin::Plugin;
use crate::plugin::registry::Swapper;
use crate::source::order::{Barrier, BarrierMode};
use crate::store::lease::Share;
use crate::store::{Db, StoreError, pause};

/// How often `run` looks for events below a checkpoint that were never
/// applied (each look reads every subscribed event once, in the background).
pub const MISSED_CHECK_EVERY: Duration = Duration::from_secs(300);

/// The channel the events trigger notifies.
pub const CHANNEL: &str = "projector_events";

/// How `run` follows.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Events per plugin call and transaction.
    pub batch_size: usize,
    /// Longest wait between looks at the event store.
    pub poll_interval: Duration,
    /// How reads wait for writers in flight (PostgreSQL; see
    /// [`crate::source::order`]).
    pub barrier: BarrierMode,
    /// Share the work with other hosts by leases (PostgreSQL); `None`: this
    /// host takes every tenant.
    pub lease: Option<LeaseOptions>,
    /// Workers applying groups of units side by side ([`workers`]).
    pub workers: usize,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            batch_size: super::DEFAULT_BATCH_SIZE,
            poll_interval: Duration::from_millis(50),
            barrier: BarrierMode::default(),
            lease: None,
            workers: 1,
        }
    }
}

/// What wakes the follower.
enum Waker {
    Listen(Box<PgListener>),
    Poll,
}

impl Waker {
    /// Listen when the event store has the notify trigger, else poll.
    async fn new(db: &Db) -> Result<Waker, StoreError> {
        Ok(match db {
            Db::Postgres(pool) if db.has_notify_trigger().await? => {
                let mut listener = PgListener::connect_with(pool).await?;
                listener.listen(CHANNEL).await?;
                Waker::Listen(Box::new(listener))
            }
            Db::Postgres(_) => {
                tracing::info!(
                    "eventstore.events2 has no notify trigger: polling (run --notify-trigger installs one)"
                );
                Waker::Poll
            }
            Db::Sqlite(_) => Waker::Poll,
        })
    }

    /// Wait for new events, the poll interval, or a stop; true when stopping.
    async fn wait(&mut self, poll: Duration, stop: &mut watch::Receiver<bool>) -> bool {
        if *stop.borrow() {
            return true;
        }
        match self {
            Waker::Listen(listener) => tokio::select! {
                received = tokio::time::timeout(poll, listener.recv()) => {
                    if let Ok(Err(e)) = received {
                        tracing::warn!("notification channel failed ({e}); polling until it is back");
                        tokio::time::sleep(poll).await;
                    }
                }
                _ = stop.changed() => {}
            },
            Waker::Poll => tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            },
        }
        *stop.borrow()
    }
}

/// Which failed events are due for a retry now: when this changes, a
/// family's read cursor goes back to its checkpoints.
async fn due_failures(db: &Db) -> Result<Vec<(String, String, bool)>, StoreError> {
    let now = crate::time::now_micros();
    Ok(crate::store::state::failures(db)
        .await?
        .into_iter()
        .map(|f| {
            (
                f.family,
                f.instance_id,
                f.retry_after.is_none_or(|t| t <= now),
            )
        })
        .collect())
}

/// A (family, tenant) with events at or below its checkpoint that were
/// never applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missed {
    /// The family.
    pub family: String,
    /// The tenant.
    pub instance_id: String,
    /// How many events.
    pub n_events: i64,
}

/// Look for events at or below each tenant's checkpoint that the family
/// never applied (see [`crate::source::TenantLag::missed`]) and log a
/// warning for each (family, tenant) found; returns them.
pub async fn warn_missed(
    db: &Db,
    families: &[(String, Vec<Subscription>)],
) -> Result<Vec<Missed>, StoreError> {
    let mut found = Vec::new();
    for (family, subscriptions) in families {
        for lag in crate::source::tenant_lag(db, family, subscriptions).await? {
            let n_events = lag.missed();
            if n_events == 0 {
                continue;
            }
            tracing::warn!(
                family = %family,
                instance = %lag.instance_id,
                "{n_events} missed below the checkpoint (committed after the family had read past \
                 their position, never applied): a writer broke the ordering protocol (or the family \
                 subscribed to them after passing them); rebuild the tenant: \
                 projector replay --family {family} --instance {} --from-start",
                lag.instance_id
            );
            found.push(Missed {
                family: family.clone(),
                instance_id: lag.instance_id,
                n_events,
            });
        }
    }
    Ok(found)
}

/// The background look for missed events: started at most once per
/// [`MISSED_CHECK_EVERY`], never two at once, aborted with `run`.
struct MissedCheck {
    due: Instant,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MissedCheck {
    fn start_if_due(&mut self, db: &Db, plugins: &[Plugin]) {
        if Instant::now() < self.due || self.task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        self.due = Instant::now() + MISSED_CHECK_EVERY;
        let db = db.clone();
        let families: Vec<(String, Vec<Subscription>)> = plugins
            .iter()
            .map(|p| (p.family().to_owned(), p.description.subscriptions.clone()))
            .collect();
        self.task = Some(tokio::spawn(async move {
            if let Err(e) = warn_missed(&db, &families).await {
                tracing::warn!("looking for missed events failed: {e}");
            }
        }));
    }
}

impl Drop for MissedCheck {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// The paused families as the loop last saw them; a change is logged.
#[derive(Debug, Default)]
struct Pauses(HashSet<String>);

impl Pauses {
    /// Read the paused families again.
    async fn refresh(&mut self, db: &Db) -> Result<(), StoreError> {
        let now = pause::paused(db).await?;
        for p in now.iter().filter(|p| !self.0.contains(&p.family)) {
            tracing::info!(
                family = %p.family,
                "paused by {}: no batch of it starts until `projector family resume {}`",
                p.paused_by,
                p.family
            );
        }
        let now: HashSet<String> = now.into_iter().map(|p| p.family).collect();
        for family in self.0.difference(&now) {
            tracing::info!(family = %family, "resumed");
        }
        self.0 = now;
        Ok(())
    }

    fn contains(&self, family: &str) -> bool {
        self.0.contains(family)
    }
}

impl BatchObserver for Metrics {
    fn committed(&self, family: &str, outcome: &BatchOutcome, took: Duration) {
        self.batch_committed(family, outcome.n_applied, outcome.failed.len() as u64, took);
    }
}

/// Publish each family's state at the start of a round: plugin version,
/// pause, tenants with failed events (`failures`: family, tenant, due).
fn publish_round(
    metrics: &Metrics,
    plugins: &[Plugin],
    pauses: &Pauses,
    failures: &[(String, String, bool)],
) {
    let stuck: HashSet<(&str, &str)> = failures
        .iter()
        .map(|(family, tenant, _)| (family.as_str(), tenant.as_str()))
        .collect();
    for plugin in plugins {
        let family = plugin.family();
        let n_stuck = stuck.iter().filter(|(f, _)| *f == family).count();
        metrics.family_round(
            family,
            &super::plugin_version(plugin),
            pauses.contains(family),
            n_stuck as u64,
        );
    }
}

/// Catch up, then follow until `stop` turns true. Every family gets one
/// batch per round, paused families none; between rounds (a batch
/// boundary) `swapper` may replace plugins whose active version changed.
pub async fn follow(
    db: &Db,
    plugins: &mut [Plugin],
    options: &FollowOptions,
    stop: watch::Receiver<bool>,
    swapper: Option<&Swapper>,
    progress: &dyn Progress,
) -> Result<(), RuntimeError> {
    follow_measured(db, plugins, options, stop, swapper, progress, None).await
}

/// [`follow`], publishing to `metrics` (when given) as it goes: `/livez`
/// holds while this runs.
pub async fn follow_measured(
    db: &Db,
    plugins: &mut [Plugin],
    options: &FollowOptions,
    mut stop: watch::Receiver<bool>,
    swapper: Option<&Swapper>,
    progress: &dyn Progress,
    metrics: Option<&Metrics>,
) -> Result<(), RuntimeError> {
    let _running = metrics.map(Metrics::running);
    let mut follower = Follower::start(db, plugins, options, &stop, swapper, metrics).await?;
    let mut waker = Waker::new(db).await?;
    let followed = async {
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            follower.between_rounds(plugins).await?;
            let progressed = follower.round(plugins, progress).await?;
            if !progressed && waker.wait(options.poll_interval, &mut stop).await {
                return Ok(());
            }
        }
    }
    .await;
    if let Some(leasing) = &follower.leasing {
        // Stopping (or failing): the other hosts take the units at once
        // rather than after the lease time.
        if let Err(e) = leasing.resign(db).await {
            tracing::warn!("giving the leases back failed (they expire): {e}");
        }
    }
    followed
}

/// A group of a family's parts (`None`: every tenant, one worker).
type Group = Option<BTreeSet<i32>>;

/// The follower's per-family state the work items borrow.
struct Groups<'s, 'p> {
    /// Per family, the plugin instances of its groups after the first.
    forks: &'p mut HashMap<String, Vec<Plugin>>,
    /// Per family and group, the read cursor.
    cursors: &'s mut HashMap<String, Vec<Option<Cursor>>>,
}

/// A round's work: per family not left out (and of which this host holds
/// units), one item per group of its units, each with a plugin instance of
/// its own and its read cursor (taken out of `state`).
fn work_items<'p>(
    plugins: &'p mut [Plugin],
    state: Groups<'_, 'p>,
    left_out: &dyn Fn(&str) -> bool,
    leasing: Option<&Leasing>,
    n_workers: usize,
) -> Vec<WorkItem<'p>> {
    let Groups { forks, cursors } = state;
    // Per family taken: its index and share.
    let mut taken: Vec<(usize, Option<Arc<Share>>)> = Vec::new();
    for (index, plugin) in plugins.iter().enumerate() {
        let family = plugin.family();
        if left_out(family) {
            continue;
        }
        let share = match leasing {
            Some(leasing) => match leasing.share(family) {
                Some(share) => Some(share),
                // No unit of the family held: other hosts apply it.
                None => continue,
            },
            None => None,
        };
        taken.push((index, share));
    }
    // Split a family only when the workers outnumber the families: each
    // group reads the whole stream (see `replay_in_place`).
    let per_family = n_workers.div_ceil(taken.len().max(1));
    // Per family taken: its index, share and groups of parts.
    let mut wanted: Vec<(usize, Option<Arc<Share>>, Vec<Group>)> = Vec::new();
    let mut taken = taken.into_iter().peekable();
    for (index, plugin) in plugins.iter_mut().enumerate() {
        let Some((_, share)) = taken.next_if(|(i, _)| *i == index) else {
            continue;
        };
        let family = plugin.family().to_owned();
        let groups: Vec<Group> = if per_family > 1 {
            let parts: Vec<i32> = share
                .as_ref()
                .map_or_else(workers::all_parts, |s| s.tokens.keys().copied().collect());
            workers::groups(&parts, per_family)
                .into_iter()
                .map(Some)
                .collect()
        } else {
            vec![None]
        };
        let forks = forks.entry(family.clone()).or_default();
        if forks.len() + 1 != groups.len() || forks.iter().any(|f| f.hash != plugin.hash) {
            *forks = workers::instances(plugin, groups.len());
        }
        let cursors = cursors.entry(family).or_default();
        if cursors.len() != groups.len() {
            *cursors = groups.iter().map(|_| None).collect();
        }
        wanted.push((index, share, groups));
    }
    let mut instances_of: HashMap<&str, &mut Vec<Plugin>> = forks
        .iter_mut()
        .map(|(family, forks)| (family.as_str(), forks))
        .collect();
    let mut items = Vec::new();
    let mut wanted = wanted.into_iter().peekable();
    for (index, plugin) in plugins.iter_mut().enumerate() {
        let Some((_, share, groups)) = wanted.next_if(|(i, _, _)| *i == index) else {
            continue;
        };
        let family = plugin.family().to_owned();
        let cursors = cursors.get_mut(&family);
        let mut cursors: Vec<Option<Cursor>> = cursors
            .map(|c| c.iter_mut().map(Option::take).collect())
            .unwrap_or_default();
        cursors.resize_with(groups.len(), || None);
        let mut instances: Vec<&mut Plugin> = vec![plugin];
        if let Some(forks) = instances_of.remove(family.as_str()) {
            instances.extend(forks.iter_mut());
        }
        for (group, ((parts, cursor), plugin)) in
            groups.into_iter().zip(cursors).zip(instances).enumerate()
        {
            items.push(WorkItem {
                family: family.clone(),
                group,
                plugin,
                cursor,
                share: share.clone(),
                parts,
            });
        }
    }
    items
}

/// A group of one family's units, replayed for one batch by a worker.
struct WorkItem<'p> {
    family: String,
    /// Its index among the family's groups (its read cursor's).
    group: usize,
    plugin: &'p mut Plugin,
    cursor: Option<Cursor>,
    share: Option<Arc<Share>>,
    parts: Group,
}

/// The follow loop's state from round to round. Its steps: *between rounds*
/// (swap changed plugins, start the look for missed events, forget the read
/// cursors of families whose failed events changed, read the pauses,
/// publish) and the *round* (one batch per family that is neither refused
/// nor paused).
struct Follower<'a> {
    db: &'a Db,
    swapper: Option<&'a Swapper>,
    metrics: Option<&'a Metrics>,
    barrier: Barrier,
    /// What each family's replay reads (every tenant, the batch size).
    every_family: ReplayOptions,
    /// How it runs: one batch, failed events' back-off, the stop signal.
    one_batch: Control,
    /// Families whose tables the host refused: they project nothing until a
    /// new version is swapped in and installs.
    refused: HashSet<String>,
    /// Per family and group of its units, the last event its replay read
    /// (nothing new appears before it).
    cursors: HashMap<String, Vec<Option<Cursor>>>,
    /// Workers applying groups of units side by side ([`workers`]).
    workers: usize,
    /// Per family, the plugin instances of its groups after the first.
    forks: HashMap<String, Vec<Plugin>>,
    /// The failed events seen at the last round (family, tenant, due).
    failures_seen: Vec<(String, String, bool)>,
    pauses: Pauses,
    missed_check: MissedCheck,
    lag_refresh: Option<LagRefresh>,
    /// The staged versions built beside the live ones (with a swapper).
    staged: StagedLanes,
    /// The units held, when the host shares the work.
    leasing: Option<Leasing>,
}

impl<'a> Follower<'a> {
    /// Install every family (a refused one is left out) and start.
    async fn start(
        db: &'a Db,
        plugins: &[Plugin],
        options: &FollowOptions,
        stop: &watch::Receiver<bool>,
        swapper: Option<&'a Swapper>,
        metrics: Option<&'a Metrics>,
    ) -> Result<Follower<'a>, RuntimeError> {
        let barrier = Barrier::new(db, options.barrier).await?;
        let refused = super::install_all(db, plugins)
            .await?
            .into_iter()
            .map(|r| r.family)
            .collect();
        Ok(Follower {
            db,
            swapper,
            metrics,
            barrier,
            every_family: ReplayOptions {
                batch_size: options.batch_size,
                barrier: options.barrier,
                ..ReplayOptions::default()
            },
            one_batch: Control {
                max_batches: Some(1),
                respect_backoff: true,
                stop: Some(stop.clone()),
                count_pending: false,
                statement_per_event: false,
            },
            refused,
            cursors: HashMap::new(),
            workers: options.workers.max(1),
            forks: HashMap::new(),
            failures_seen: due_failures(db).await?,
            pauses: Pauses::default(),
            missed_check: MissedCheck {
                due: Instant::now(),
                task: None,
            },
            lag_refresh: None,
            staged: StagedLanes::default(),
            leasing: options.lease.as_ref().map(Leasing::new),
        })
    }

    /// A batch boundary for every family: swap, look for missed events,
    /// reset cursors where failed events changed, read pauses, publish.
    async fn between_rounds(&mut self, plugins: &mut [Plugin]) -> Result<(), RuntimeError> {
        let db = self.db;
        if let Some(swapper) = self.swapper {
            for family in swapper.swap(db, plugins).await? {
                self.cursors.remove(&family);
                self.refused.remove(&family);
            }
        }
        if let Some(leasing) = &mut self.leasing {
            let families: Vec<String> = plugins.iter().map(|p| p.family().to_owned()).collect();
            for family in leasing.refresh(db, &families).await? {
                self.cursors.remove(&family);
            }
        }
        self.missed_check.start_if_due(db, plugins);
        let failures_now = due_failures(db).await?;
        if failures_now != self.failures_seen {
            for (family, _, _) in failures_now.iter().chain(&self.failures_seen) {
                self.cursors.remove(family);
            }
            self.failures_seen = failures_now;
        }
        self.pauses.refresh(db).await?;
        if let Some(swapper) = self.swapper {
            let families = plugins
                .iter()
                .map(|p| p.family().to_owned())
                .filter(|f| !self.refused.contains(f))
                .collect();
            self.staged.refresh(db, swapper, &families).await?;
        }
        if let Some(metrics) = self.metrics {
            publish_round(metrics, plugins, &self.pauses, &self.failures_seen);
            match &self.lag_refresh {
                Some(refresh) => refresh.follow(plugins),
                None => self.lag_refresh = Some(LagRefresh::start(db, metrics, plugins)),
            }
        }
        Ok(())
    }

    /// One batch for every family that is neither refused nor paused;
    /// whether any batch applied.
    async fn round(
        &mut self,
        plugins: &mut [Plugin],
        progress: &dyn Progress,
    ) -> Result<bool, RuntimeError> {
        let mut progressed = false;
        let left_out = |family: &str| self.refused.contains(family) || self.pauses.contains(family);
        let state = Groups {
            forks: &mut self.forks,
            cursors: &mut self.cursors,
        };
        let items = work_items(
            plugins,
            state,
            &left_out,
            self.leasing.as_ref(),
            self.workers,
        );
        let (db, options, control) = (self.db, &self.every_family, &self.one_batch);
        let (barrier, metrics) = (&self.barrier, self.metrics);
        let results = workers::parallel(self.workers, items, |item: WorkItem<'_>| async move {
            let WorkItem {
                family,
                group,
                plugin,
                cursor,
                share,
                parts,
            } = item;
            let ran = async {
                let replay =
                    FamilyReplay::start(db, plugin, options, control, barrier, cursor).await?;
                let replay = match share {
                    Some(share) => replay.leased(share),
                    None => replay,
                };
                let replay = match parts {
                    Some(parts) => replay.only_parts(parts),
                    None => replay,
                };
                let replay = match metrics {
                    Some(metrics) => replay.observed_by(metrics),
                    None => replay,
                };
                replay.run(plugin, options, progress).await
            };
            (family, group, ran.await)
        })
        .await;
        let mut failed = None;
        for (family, group, result) in results {
            match result {
                Ok((report, after)) => {
                    if let Some(slot) = self
                        .cursors
                        .get_mut(&family)
                        .and_then(|cursors| cursors.get_mut(group))
                    {
                        *slot = after;
                    }
                    progressed |= report.n_batches > 0;
                }
                Err(RuntimeError::Store(StoreError::Superseded { family })) => {
                    // Cut over to another version: nothing of the batch was
                    // applied; the swap between rounds loads the new one.
                    tracing::info!(family = %family, "cut over to another version; switching plugins");
                }
                Err(RuntimeError::Store(StoreError::LeaseLost { family, part })) => {
                    // Paused or cut off past the lease: another host may
                    // hold the unit now. Nothing of the batch was applied.
                    tracing::warn!(family = %family, part, "lost the lease on a unit; its batch was not applied");
                    self.cursors.remove(&family);
                    if let Some(leasing) = &mut self.leasing {
                        leasing.lost();
                    }
                }
                Err(RuntimeError::Store(error)) if error.is_transient() => {
                    // Refused for the moment on every try (a lock held
                    // long): nothing of the batch was applied. The family
                    // reads again from its checkpoints next round.
                    tracing::warn!(family = %family, "a batch was refused on every try ({error}); trying again next round");
                    self.cursors.remove(&family);
                }
                Err(other) => failed = failed.or(Some(other)),
            }
        }
        if let Some(error) = failed {
            return Err(error);
        }
        let left_out = |family: &str| self.refused.contains(family) || self.pauses.contains(family);
        let staged = super::staged::Round {
            db: self.db,
            options: &self.every_family,
            control: &self.one_batch,
            barrier: &self.barrier,
            left_out: &left_out,
            leasing: self.leasing.as_ref(),
        };
        progressed |= self.staged.round(&staged, progress).await?;
        Ok(progressed)
    }
}
