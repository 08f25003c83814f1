//! The staged versions `run` builds beside the live ones: a version being
//! built (`plugin deploy` of other tables) or a shadow (`plugin deploy
//! --shadow`) gets one batch per round in lane `next`, as a live family
//! does. A version being built is cut over at the first round that finds
//! its lane caught up; a shadow stays beside the live version until `plugin
//! promote` or `plugin discard`.
//!
//! Another process may build the same lane meanwhile (`plugin deploy`
//! building in the foreground, `plugin diff` catching a shadow up): every
//! apply claims its tenants' checkpoints ([`crate::store::claim`]), so each
//! event is applied once whoever applies it; a lane cut over or discarded
//! elsewhere ends its batch with [`StoreError::LaneGone`], and the lane is
//! dropped from the round.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::leasing::Leasing;
use super::replay::{Cursor, FamilyReplay};
use super::{Control, Progress, ReplayOptions, RuntimeError, deploy};
use crate::plugin::Plugin;
use crate::plugin::registry::{self, Stage, Swapper};
use crate::source::order::Barrier;
use crate::store::lane::{self, Lane};
use crate::store::lease::Share;
use crate::store::{Db, StoreError};

/// A staged version followed in its lane.
struct Staged {
    plugin: Plugin,
    stage: Stage,
    cursor: Option<Cursor>,
}

/// The staged versions followed, by family.
#[derive(Default)]
pub(super) struct StagedLanes {
    lanes: HashMap<String, Staged>,
    /// Versions whose lane failed (logged once): not followed again.
    given_up: HashSet<String>,
}

/// What a round of the staged lanes shares with the live round.
pub(super) struct Round<'r> {
    pub(super) db: &'r Db,
    pub(super) options: &'r ReplayOptions,
    pub(super) control: &'r Control,
    pub(super) barrier: &'r Barrier,
    /// Families left out of the round (paused, refused).
    pub(super) left_out: &'r (dyn Fn(&str) -> bool + Sync),
    /// The units held, when the host shares the work: a lane takes the
    /// tenants of its family's units.
    pub(super) leasing: Option<&'r Leasing>,
}

impl StagedLanes {
    /// Follow what is staged now: load new staged versions of `families`,
    /// forget those promoted, discarded or replaced.
    pub(super) async fn refresh(
        &mut self,
        db: &Db,
        swapper: &Swapper,
        families: &HashSet<String>,
    ) -> Result<(), RuntimeError> {
        let now: Vec<(String, String, Stage)> = registry::staged_versions(db)
            .await?
            .into_iter()
            .filter(|(family, hash, _)| families.contains(family) && !self.given_up.contains(hash))
            .collect();
        self.lanes.retain(|family, staged| {
            now.iter().any(|(f, hash, stage)| {
                f == family && *hash == staged.plugin.hash && *stage == staged.stage
            })
        });
        for (family, hash, stage) in now {
            if self.lanes.contains_key(&family) {
                continue;
            }
            match load(db, swapper, &family, &hash).await {
                Ok(plugin) => {
                    tracing::info!(family = %family, version = %plugin.description.version, stage = stage.as_str(), "following a staged version in lane next");
                    self.lanes.insert(
                        family,
                        Staged {
                            plugin,
                            stage,
                            cursor: None,
                        },
                    );
                }
                Err(e) => {
                    tracing::error!(family = %family, hash = %hash, "not following the staged version: {e}");
                    self.given_up.insert(hash);
                }
            }
        }
        Ok(())
    }

    /// One batch for every staged version whose family is not left out;
    /// versions being built whose lane has caught up are cut over. Whether
    /// any batch applied.
    pub(super) async fn round(
        &mut self,
        round: &Round<'_>,
        progress: &dyn Progress,
    ) -> Result<bool, RuntimeError> {
        let mut progressed = false;
        let mut done = Vec::new();
        for (family, staged) in &mut self.lanes {
            if (round.left_out)(family) {
                continue;
            }
            let share = match round.leasing {
                Some(leasing) => match leasing.share(family) {
                    Some(share) => Some(share),
                    None => continue,
                },
                None => None,
            };
            match staged.batch(round, share, progress).await {
                Ok(Step::Applied(applied)) => progressed |= applied,
                Ok(Step::CutOver) => {
                    progressed = true;
                    done.push(family.clone());
                }
                Err(RuntimeError::Store(StoreError::LeaseLost { family, part })) => {
                    tracing::warn!(family = %family, part, "lost the lease on a unit; the staged version's batch was not applied");
                    staged.cursor = None;
                }
                Err(RuntimeError::Store(error)) if error.is_transient() => {
                    tracing::warn!(family = %family, "a batch of the staged version was refused on every try ({error}); trying again next round");
                    staged.cursor = None;
                }
                Err(RuntimeError::Store(StoreError::LaneGone(lane))) => {
                    tracing::info!(lane = %lane, "the staged version was promoted, cut over or discarded elsewhere");
                    done.push(family.clone());
                }
                Err(e) => {
                    tracing::error!(family = %family, hash = %staged.plugin.hash, "building the staged version failed; not following it: {e}");
                    self.given_up.insert(staged.plugin.hash.clone());
                    done.push(family.clone());
                }
            }
        }
        for family in done {
            self.lanes.remove(&family);
        }
        Ok(progressed)
    }
}

/// Load a staged version, preparing its lane when nothing built it yet
/// (a `plugin deploy` stopped before it began).
async fn load(
    db: &Db,
    swapper: &Swapper,
    family: &str,
    hash: &str,
) -> Result<Plugin, RuntimeError> {
    let plugin = swapper.load(db, family, hash).await?;
    if !lane::is_present(db, Lane::Next, family).await? {
        lane::prepare(db, Lane::Next, plugin.canonical()).await?;
    }
    Ok(plugin)
}

/// What a staged version's batch did.
enum Step {
    /// Whether a batch applied.
    Applied(bool),
    /// The lane had caught up and was cut over: the version is live.
    CutOver,
}

impl Staged {
    /// One batch in lane `next`; a version being built whose lane has
    /// nothing left to apply is cut over.
    async fn batch(
        &mut self,
        round: &Round<'_>,
        share: Option<Arc<Share>>,
        progress: &dyn Progress,
    ) -> Result<Step, RuntimeError> {
        let plugin = &mut self.plugin;
        plugin.enter_lane(Lane::Next);
        let ran = async {
            let replay = FamilyReplay::start(
                round.db,
                plugin,
                round.options,
                round.control,
                round.barrier,
                self.cursor.take(),
            )
            .await?;
            let replay = match share {
                Some(share) => replay.leased(share),
                None => replay,
            };
            replay.run(plugin, round.options, progress).await
        }
        .await;
        plugin.leave_lane();
        let (report, cursor) = ran?;
        self.cursor = cursor;
        let stopping = round.control.stop.as_ref().is_some_and(|s| *s.borrow());
        if report.n_batches > 0 || self.stage != Stage::Building || stopping {
            return Ok(Step::Applied(report.n_batches > 0));
        }
        let options = deploy::BuildOptions {
            batch_size: round.options.batch_size,
            barrier: round.options.barrier,
        };
        deploy::cut_over(round.db, plugin, options, progress).await?;
        tracing::info!(family = %plugin.family(), version = %plugin.description.version, "caught up: cut over to the staged version");
        Ok(Step::CutOver)
    }
}
