//! A version whose tables differ from the live ones, on its way live: its
//! tables are built aside in lane `next` from the first event while the
//! live version keeps serving, then cut over in one transaction
//! ([`crate::store::cutover`]). A shadow stays in lane `next`, caught up
//! whenever it is looked at, until it is promoted (cut over) or discarded.

use super::verify::{self, Verdict, VerifyOptions};
use super::{Control, FamilyReport, Progress, ReplayOptions, RuntimeError, aside};
use crate::plugin::Plugin;
use crate::plugin::registry;
use crate::source::order::{Barrier, BarrierMode};
use crate::store::lane::{self, Lane};
use crate::store::{Db, StoreError, cutover, state};

/// How a staged version's tables are built.
#[derive(Debug, Clone, Copy)]
pub struct BuildOptions {
    /// Events per plugin call and transaction.
    pub batch_size: usize,
    /// How reads wait for writers in flight (PostgreSQL).
    pub barrier: BarrierMode,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            batch_size: super::DEFAULT_BATCH_SIZE,
            barrier: BarrierMode::default(),
        }
    }
}

/// Build `plugin`'s tables in lane `next`: from the first event when
/// `fresh`, else on from the lane's checkpoints, up to the last event.
pub async fn build(
    db: &Db,
    plugin: &mut Plugin,
    fresh: bool,
    options: BuildOptions,
    progress: &dyn Progress,
) -> Result<FamilyReport, RuntimeError> {
    let barrier = Barrier::new(db, options.barrier).await?;
    let replay = ReplayOptions {
        family: Some(plugin.family().to_owned()),
        batch_size: options.batch_size,
        barrier: options.barrier,
        ..ReplayOptions::default()
    };
    let run = (&replay, &Control::default(), &barrier);
    aside::build(db, plugin, Lane::Next, run, progress, fresh, None).await
}

/// Catch the version built in lane `next` up and cut over to it: its
/// tables become the live ones and it becomes the active version; the live
/// tables are kept in lane `prev` for a rollback.
pub async fn cut_over(
    db: &Db,
    plugin: &mut Plugin,
    options: BuildOptions,
    progress: &dyn Progress,
) -> Result<FamilyReport, RuntimeError> {
    let family = plugin.family().to_owned();
    let old = state::stored_description(db, &family)
        .await?
        .ok_or_else(|| StoreError::NotInstalled(family.clone()))?;
    let hash = plugin.hash.clone();
    let cut = async {
        let report = build(db, plugin, false, options, progress).await?;
        cutover::cut_over(db, &old, plugin.canonical(), &hash, Some(&hash)).await?;
        Ok::<_, RuntimeError>(report)
    };
    match cut.await {
        // `run` (or another deploy) cut over to this very version meanwhile.
        Err(RuntimeError::Store(StoreError::LaneGone(_)))
            if is_active(db, &family, &hash).await? =>
        {
            Ok(FamilyReport {
                family,
                ..FamilyReport::default()
            })
        }
        other => other,
    }
}

/// Whether `hash` is `family`'s active deployed version.
async fn is_active(db: &Db, family: &str, hash: &str) -> Result<bool, StoreError> {
    Ok(registry::deployments(db)
        .await?
        .iter()
        .any(|d| d.family == family && d.hash == hash && d.active))
}

/// Build a version from the first event and cut over to it (`plugin deploy`
/// of a version whose tables differ).
pub async fn build_and_cut_over(
    db: &Db,
    plugin: &mut Plugin,
    options: BuildOptions,
    progress: &dyn Progress,
) -> Result<FamilyReport, RuntimeError> {
    let (family, hash) = (plugin.family().to_owned(), plugin.hash.clone());
    let built = build(db, plugin, true, options, progress).await;
    // `run` may catch the lane up and cut over to this very version while
    // it is built here: the lane is gone, and what was asked is done.
    if let Err(RuntimeError::Store(StoreError::LaneGone(_))) = &built
        && is_active(db, &family, &hash).await?
    {
        return Ok(FamilyReport {
            family,
            ..FamilyReport::default()
        });
    }
    let last = cut_over(db, plugin, options, progress).await?;
    Ok(built?.and(&last))
}

/// How a shadow's rows differ from the live ones: the shadow is caught up
/// to the live checkpoints and compared as `verify` compares (missing:
/// the shadow has the row, the live table lacks it; extra: the reverse),
/// with the tables' shape differences.
pub async fn diff(
    db: &Db,
    plugin: &mut Plugin,
    options: &VerifyOptions,
    progress: &dyn Progress,
) -> Result<Verdict, RuntimeError> {
    let family = plugin.family().to_owned();
    let live = state::stored_description(db, &family)
        .await?
        .ok_or_else(|| StoreError::NotInstalled(family.clone()))?;
    let barrier = Barrier::new(db, options.barrier).await?;
    let mut verdict = verify::compare_lane(
        db,
        plugin,
        Lane::Next,
        false,
        &live,
        (options, &barrier, progress),
    )
    .await?;
    verdict.family = family;
    verdict.version = super::plugin_version(plugin);
    Ok(verdict)
}

/// Drop a staged version's tables (`plugin discard`).
pub async fn discard(db: &Db, family: &str) -> Result<(), StoreError> {
    lane::discard(db, Lane::Next, family).await
}
