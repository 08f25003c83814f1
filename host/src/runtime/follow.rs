//! `projector run`: catch up every family, then follow new events.
//!
//! On PostgreSQL a trigger on `events2` notifies `projector_events` on every
//! insert, whoever the writer is; the follower listens and also polls, in
//! case a notification is lost with a connection. On SQLite it polls. A
//! stop request (Ctrl-C, SIGTERM) is honoured between batches: the batch in
//! flight commits whole or not at all. Tenants stopped by a failed event are
//! retried when their back-off expires (`projector failed retry` makes it
//! now). Every family gets one batch per round, and at each round (a batch
//! boundary) plugins whose active deployed version changed are swapped. A
//! family whose tables the host refuses to install is left out (logged),
//! and the others follow.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use std::collections::{HashMap, HashSet};

use projection_sdk::Event;

use super::{Progress, ReplayOptions, RuntimeError, replay_family};
use crate::plugin::Plugin;
use crate::plugin::registry::Swapper;
use crate::store::{Db, StoreError};

/// The channel the events trigger notifies.
pub const CHANNEL: &str = "projector_events";

/// How `run` follows.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Events per plugin call and transaction.
    pub batch_size: usize,
    /// Longest wait between looks at the event store.
    pub poll_interval: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            batch_size: 1000,
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// What wakes the follower.
enum Waker {
    Listen(Box<PgListener>),
    Poll,
}

impl Waker {
    async fn new(db: &Db) -> Result<Waker, StoreError> {
        Ok(match db {
            Db::Postgres(pool) => {
                let mut listener = PgListener::connect_with(pool).await?;
                listener.listen(CHANNEL).await?;
                Waker::Listen(Box::new(listener))
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

/// Catch up, then follow until `stop` turns true. Every family gets one
/// batch per round; between rounds (a batch boundary) `swapper` may replace
/// plugins whose active version changed.
pub async fn follow(
    db: &Db,
    plugins: &mut [Plugin],
    options: &FollowOptions,
    mut stop: watch::Receiver<bool>,
    swapper: Option<&Swapper>,
    progress: &dyn Progress,
) -> Result<(), RuntimeError> {
    // A refused family projects nothing (until a new version is swapped in
    // and installs); the others follow.
    let mut refused: HashSet<String> = super::install_all(db, plugins)
        .await?
        .into_iter()
        .map(|r| r.family)
        .collect();
    let mut waker = Waker::new(db).await?;
    let one_batch = ReplayOptions {
        batch_size: options.batch_size,
        max_batches: Some(1),
        respect_backoff: true,
        stop: Some(stop.clone()),
        count_pending: false,
        ..ReplayOptions::default()
    };
    let mut cursors: HashMap<String, Option<Event>> = HashMap::new();
    let mut failures_seen = due_failures(db).await?;
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        if let Some(swapper) = swapper {
            for family in swapper.swap(db, plugins).await? {
                cursors.remove(&family);
                refused.remove(&family);
            }
        }
        let failures_now = due_failures(db).await?;
        if failures_now != failures_seen {
            for (family, _, _) in failures_now.iter().chain(&failures_seen) {
                cursors.remove(family);
            }
            failures_seen = failures_now;
        }
        let mut progressed = false;
        for plugin in plugins.iter_mut() {
            if refused.contains(plugin.family()) {
                continue;
            }
            let cursor = cursors.entry(plugin.family().to_owned()).or_default();
            let report = replay_family(db, plugin, &one_batch, progress, cursor).await?;
            progressed |= report.n_batches > 0;
        }
        if !progressed && waker.wait(options.poll_interval, &mut stop).await {
            return Ok(());
        }
    }
}
