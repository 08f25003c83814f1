//! `projector verify`: replay a family from its events into scratch tables
//! (a lane, [`crate::store::lane`]) and compare them with the live rows.
//!
//! Both sides must stand at the same point of every tenant's stream. The
//! scratch replay goes up to each tenant's live checkpoint, read when it
//! starts, and no further. The comparison then runs in one transaction that
//! holds the family's applies back ([`fence::hold`]) and reads the live
//! checkpoints again: a tenant whose checkpoint is still the one the replay
//! stopped at is compared; one that moved meanwhile (a `run` is following)
//! is replayed further, to its new checkpoint, and compared in the next
//! round, up to [`ROUNDS`] rounds; a tenant still moving after that is
//! reported as not compared. A tenant with live rows and no checkpoint is
//! compared with nothing: the events make no rows for it.
//!
//! The scratch replay uses the loaded plugin: drift is the difference
//! between the live rows and what this version makes of the events. Events
//! it fails on are reported too.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use projection_sdk::Description;

use super::{Control, Progress, ReplayOptions, RuntimeError, aside};
use crate::plugin::Plugin;
use crate::source::order::{Barrier, BarrierMode};
use crate::store::compare::{self, TableDrift};
use crate::store::lane::{self, Lane};
use crate::store::sql::quote;
use crate::store::state::{self, Checkpoint};
use crate::store::{Db, StoreError, Tx, ddl, fence};

/// Rounds of replaying further the tenants that moved during a comparison.
pub const ROUNDS: usize = 5;

/// What `verify` compares.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Only this family.
    pub family: Option<String>,
    /// Only this tenant.
    pub instance_id: Option<String>,
    /// Examples shown per table and kind of drift.
    pub examples: usize,
    /// Events per plugin call and transaction of the scratch replay.
    pub batch_size: usize,
    /// How the scratch replay's reads wait for writers in flight.
    pub barrier: BarrierMode,
}

/// One family's verdict.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// The family.
    pub family: String,
    /// The plugin version that replayed the events.
    pub version: String,
    /// Why the family was not verified at all, if it was not.
    pub skipped: Option<String>,
    /// Tenants compared.
    pub tenants: Vec<String>,
    /// Tables that drifted, in declared order.
    pub drift: Vec<(String, TableDrift)>,
    /// Tenants that kept moving and were not compared.
    pub not_compared: Vec<String>,
    /// Events the scratch replay failed on: tenant and error.
    pub failures: Vec<(String, String)>,
    /// Events the scratch replay applied.
    pub n_events: u64,
    /// How the tables' shapes differ (a shadow of another version): per
    /// table, the columns only the live one has and those only the other
    /// has; a table only one side has is listed with no columns.
    pub shape: Vec<ShapeDifference>,
    /// Wall time.
    pub elapsed: Duration,
}

/// A table whose shape differs between the live version and another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeDifference {
    /// The table.
    pub table: String,
    /// Whether the live version has it, and whether the other has it.
    pub in_live: bool,
    /// Whether the other version has it.
    pub in_other: bool,
    /// Columns only the live table has.
    pub live_columns: Vec<String>,
    /// Columns only the other version's table has (or of another type).
    pub other_columns: Vec<String>,
}

impl Verdict {
    /// Rows that drifted, all tables and kinds.
    pub fn n_drifted(&self) -> u64 {
        self.drift.iter().flat_map(|(_, d)| d.counts.values()).sum()
    }

    /// Whether the family is verified clean: compared whole, nothing drifted.
    pub fn is_clean(&self) -> bool {
        self.skipped.is_none() && self.not_compared.is_empty() && self.n_drifted() == 0
    }
}

/// Verify the selected families.
pub async fn verify(
    db: &Db,
    plugins: &mut [Plugin],
    options: &VerifyOptions,
    progress: &dyn Progress,
) -> Result<Vec<Verdict>, RuntimeError> {
    super::known_family(plugins, options.family.as_deref())?;
    let barrier = Barrier::new(db, options.barrier).await?;
    let mut verdicts = Vec::new();
    for plugin in plugins.iter_mut() {
        if options
            .family
            .as_deref()
            .is_some_and(|f| f != plugin.family())
        {
            continue;
        }
        let started = Instant::now();
        let mut verdict = match unverifiable(db, &plugin.description).await? {
            Some(reason) => Verdict {
                skipped: Some(reason),
                ..Verdict::default()
            },
            None => {
                let live = plugin.description.clone();
                let run = (options, &barrier, progress);
                let verdict = compare_lane(db, plugin, Lane::Verify, true, &live, run).await;
                lane::discard(db, Lane::Verify, plugin.family()).await?;
                verdict?
            }
        };
        verdict.family = plugin.family().to_owned();
        verdict.version = super::plugin_version(plugin);
        verdict.elapsed = started.elapsed();
        verdicts.push(verdict);
    }
    Ok(verdicts)
}

/// Why a family cannot be compared: not installed, or installed with
/// tables of another shape than the plugin's.
async fn unverifiable(db: &Db, description: &Description) -> Result<Option<String>, StoreError> {
    Ok(
        match state::stored_description(db, &description.name).await? {
            None => Some("not installed (no live tables)".to_owned()),
            Some(stored) => ddl::first_difference(&stored, description).map(|table| {
                format!(
                    "the live tables are version {}'s and differ from this plugin's ({table:?}); \
                 rebuild or deploy first",
                    stored.version
                )
            }),
        },
    )
}

/// Replay `plugin` into `lane` (afresh, or on from the lane's checkpoints)
/// up to the live checkpoints and compare the lane's tables with the live
/// ones (`live`, the live version's description), in rounds.
pub(super) async fn compare_lane(
    db: &Db,
    plugin: &mut Plugin,
    lane: Lane,
    fresh: bool,
    live: &Description,
    run: (&VerifyOptions, &Barrier, &dyn Progress),
) -> Result<Verdict, RuntimeError> {
    let (options, barrier, progress) = run;
    let family = plugin.family().to_owned();
    let replay = ReplayOptions {
        workers: 1,
        family: Some(family.clone()),
        instance_id: options.instance_id.clone(),
        from_start: true,
        batch_size: options.batch_size,
        barrier: options.barrier,
    };
    let control = Control::default();
    let mut verdict = Verdict::default();
    let mut bounds = live_checkpoints(db, &family, options.instance_id.as_deref()).await?;
    let mut compared: BTreeSet<String> = BTreeSet::new();
    let mut drift: HashMap<String, TableDrift> = HashMap::new();
    for round in 0..ROUNDS {
        let run = (&replay, &control, barrier);
        let report = aside::build(
            db,
            plugin,
            lane,
            run,
            progress,
            fresh && round == 0,
            Some(bounds.clone()),
        )
        .await?;
        verdict.n_events += report.n_applied;
        let mut tx = db.begin().await?;
        fence::hold(&mut tx, &family).await?;
        let now = state::family_checkpoints_in(&mut tx, &family).await?;
        let now: HashMap<String, Checkpoint> = now
            .into_iter()
            .filter(|c| {
                options
                    .instance_id
                    .as_ref()
                    .is_none_or(|i| *i == c.instance_id)
            })
            .map(|c| (c.instance_id.clone(), c))
            .collect();
        let mut settled: Vec<String> = bounds
            .iter()
            .filter(|(t, bound)| now.get(*t).is_some_and(|c| c.key() == bound.key()))
            .map(|(t, _)| t.clone())
            .collect();
        if round == 0 {
            // Tenants with live rows and no checkpoint: the events make none.
            for tenant in tenants_with_rows(&mut tx, live, options).await? {
                if !now.contains_key(&tenant) && !bounds.contains_key(&tenant) {
                    settled.push(tenant);
                }
            }
        }
        settled.sort();
        let other = lane.describe(plugin.canonical());
        for table in &live.tables {
            let Some(expected) = other.find_table(&lane.table(&table.name)) else {
                continue;
            };
            let found =
                compare::table(&mut tx, table, expected, &settled, options.examples).await?;
            let entry = drift.entry(table.name.clone()).or_default();
            entry.counts.extend(found.counts);
            let room = options.examples.saturating_sub(entry.examples.len());
            entry.examples.extend(found.examples.into_iter().take(room));
        }
        tx.rollback().await?;
        compared.extend(settled);
        // What moved: further, to the new checkpoints; new tenants included.
        bounds = now
            .into_iter()
            .filter(|(t, _)| !compared.contains(t))
            .collect();
        if bounds.is_empty() {
            break;
        }
    }
    verdict.not_compared = bounds.into_keys().collect();
    verdict.not_compared.sort();
    verdict.tenants = compared.into_iter().collect();
    verdict.shape = shape(live, plugin.canonical());
    verdict.drift = live
        .tables
        .iter()
        .filter_map(|t| {
            drift
                .remove(&t.name)
                .filter(|d| !d.is_clean())
                .map(|d| (t.name.clone(), d))
        })
        .collect();
    verdict.failures = state::family_failures(db, &lane.key(&family))
        .await?
        .into_iter()
        .map(|f| {
            (
                f.instance_id,
                format!("{} {}: {}", f.event_type, f.aggregate_id, f.error),
            )
        })
        .collect();
    Ok(verdict)
}

/// How the tables of two versions of a family differ in shape.
fn shape(live: &Description, other: &Description) -> Vec<ShapeDifference> {
    let mut differences = Vec::new();
    for table in &live.tables {
        let Some(theirs) = other.find_table(&table.name) else {
            differences.push(ShapeDifference {
                table: table.name.clone(),
                in_live: true,
                in_other: false,
                live_columns: Vec::new(),
                other_columns: Vec::new(),
            });
            continue;
        };
        let only = |a: &projection_sdk::Table, b: &projection_sdk::Table| -> Vec<String> {
            a.columns
                .iter()
                .filter(|c| b.find_column(&c.name).is_none_or(|d| d.kind != c.kind))
                .map(|c| c.name.clone())
                .collect()
        };
        let (live_columns, other_columns) = (only(table, theirs), only(theirs, table));
        if !live_columns.is_empty() || !other_columns.is_empty() {
            differences.push(ShapeDifference {
                table: table.name.clone(),
                in_live: true,
                in_other: true,
                live_columns,
                other_columns,
            });
        }
    }
    for table in other
        .tables
        .iter()
        .filter(|t| live.find_table(&t.name).is_none())
    {
        differences.push(ShapeDifference {
            table: table.name.clone(),
            in_live: false,
            in_other: true,
            live_columns: Vec::new(),
            other_columns: Vec::new(),
        });
    }
    differences
}

/// The family's live checkpoints, by tenant (one tenant with `only`).
async fn live_checkpoints(
    db: &Db,
    family: &str,
    only: Option<&str>,
) -> Result<HashMap<String, Checkpoint>, StoreError> {
    Ok(state::family_checkpoints(db, family)
        .await?
        .into_iter()
        .filter(|c| only.is_none_or(|i| i == c.instance_id))
        .map(|c| (c.instance_id.clone(), c))
        .collect())
}

/// Every tenant with a row in one of the family's live tables (the system
/// tenant for a system-scoped table).
async fn tenants_with_rows(
    tx: &mut Tx,
    description: &Description,
    options: &VerifyOptions,
) -> Result<BTreeSet<String>, StoreError> {
    let mut tenants = BTreeSet::new();
    for table in &description.tables {
        let sql = if table.is_system_scoped() {
            format!("SELECT DISTINCT '' FROM {}", quote(&table.name)?)
        } else {
            format!(
                "SELECT DISTINCT \"instance_id\" FROM {}",
                quote(&table.name)?
            )
        };
        tenants.extend(compare::texts(tx, &sql).await?);
    }
    if let Some(only) = &options.instance_id {
        tenants.retain(|t| t == only);
    }
    Ok(tenants)
}
