//! `projector run`: catch up every family, then follow new events.
//!
//! On PostgreSQL a trigger on `events2` notifies `projector_events` on every
//! insert, whoever the writer is; the follower listens and also polls, in
//! case a notification is lost with a connection. On SQLite it polls. A
//! stop request (Ctrl-C, SIGTERM) is honoured between batches: the batch in
//! flight commits whole or not at all. Tenants stopped by a failed event are
//! retried when their back-off expires (`projector failed retry` makes it
//! now).

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use super::{Progress, ReplayOptions, RuntimeError, replay};
use crate::plugin::Plugin;
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
            batch_size: 500,
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

/// Something to do before every cycle (the hot-swap check); it may replace
/// plugins.
pub trait BeforeCycle: Send {
    /// Called with the current plugins between batches.
    fn before_cycle<'a>(
        &'a mut self,
        db: &'a Db,
        plugins: &'a mut Vec<Plugin>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), RuntimeError>> + Send + 'a>>;
}

/// Nothing before cycles.
#[derive(Debug, Default)]
pub struct NoHook;

impl BeforeCycle for NoHook {
    fn before_cycle<'a>(
        &'a mut self,
        _db: &'a Db,
        _plugins: &'a mut Vec<Plugin>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), RuntimeError>> + Send + 'a>>
    {
        Box::pin(async { Ok(()) })
    }
}

/// Catch up, then follow until `stop` turns true.
pub async fn follow(
    db: &Db,
    plugins: &mut Vec<Plugin>,
    options: &FollowOptions,
    mut stop: watch::Receiver<bool>,
    hook: &mut dyn BeforeCycle,
    progress: &dyn Progress,
) -> Result<(), RuntimeError> {
    let mut waker = Waker::new(db).await?;
    let replay_options = ReplayOptions {
        batch_size: options.batch_size,
        respect_backoff: true,
        stop: Some(stop.clone()),
        ..ReplayOptions::default()
    };
    loop {
        hook.before_cycle(db, plugins).await?;
        replay(db, plugins, &replay_options, progress).await?;
        if waker.wait(options.poll_interval, &mut stop).await {
            return Ok(());
        }
    }
}
