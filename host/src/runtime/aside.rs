//! A family built aside, in a lane ([`crate::store::lane`]), while its live
//! tables keep serving: the online rebuild (built aside, then swapped in)
//! and `verify`'s scratch replay.

use std::collections::HashMap;

use super::replay::FamilyReplay;
use super::{Control, FamilyReport, Progress, ReplayOptions, RuntimeError};
use crate::plugin::Plugin;
use crate::source::order::Barrier;
use crate::store::lane::{self, Lane};
use crate::store::state::Checkpoint;
use crate::store::{Db, swap};

/// Replay `plugin`'s family into `lane` (one tenant with
/// `options.instance_id`): `fresh`, from the first event on empty lane
/// tables, else on from the lane's checkpoints; with `until`, no tenant goes
/// past its entry. The plugin is back on its own tables afterwards, whatever
/// happened.
pub(super) async fn build(
    db: &Db,
    plugin: &mut Plugin,
    lane: Lane,
    run: (&ReplayOptions, &Control, &Barrier),
    progress: &dyn Progress,
    fresh: bool,
    until: Option<HashMap<String, Checkpoint>>,
) -> Result<FamilyReport, RuntimeError> {
    let (options, control, barrier) = run;
    if fresh {
        lane::prepare(db, lane, plugin.canonical()).await?;
    }
    plugin.enter_lane(lane);
    let built = async {
        let replay = FamilyReplay::start(db, plugin, options, control, barrier, None).await?;
        let replay = match until {
            Some(until) => replay.until(until),
            None => replay,
        };
        replay.run(plugin, options, progress).await
    }
    .await;
    plugin.leave_lane();
    Ok(built?.0)
}

/// Rebuild the family (or one tenant) online: build it aside from the first
/// event, then swap the rows, checkpoints and failures in, in one
/// transaction ([`swap::swap_in`]), and drop the lane. Readers of the live
/// tables see the old rows until the swap and the rebuilt ones after it,
/// never fewer; a replay following the family meanwhile starts again from
/// the swapped checkpoints ([`crate::store::fence`]).
pub(super) async fn rebuild_online(
    db: &Db,
    plugin: &mut Plugin,
    run: (&ReplayOptions, &Control, &Barrier),
    progress: &dyn Progress,
) -> Result<FamilyReport, RuntimeError> {
    let family = plugin.canonical().name.clone();
    let mut report = build(db, plugin, Lane::Rebuild, run, progress, true, None).await?;
    let swapped = swap::swap_in(
        db,
        plugin.canonical(),
        Lane::Rebuild,
        run.0.instance_id.as_deref(),
    )
    .await?;
    lane::discard(db, Lane::Rebuild, &family).await?;
    tracing::info!(
        family = %family,
        removed = swapped.n_removed,
        inserted = swapped.n_inserted,
        "rebuilt aside and swapped in"
    );
    report.family = family;
    Ok(report)
}
