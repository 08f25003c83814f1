//! `projector-bench sessions`: replay throughput of the sessions family next
//! to the users family's, in one run, on one scratch database.
//!
//! The stream holds the users bench's user events and about as many session
//! events: each session is added, checked (user, then password), gets a
//! token, metadata and a lifetime, and one in four is terminated, the order
//! a login writes them. Each family replays its own events (the sessions
//! family also takes the user removals it subscribes to) through the full
//! WASM path from empty tables; the figure is events applied per second.

use std::time::Instant;

use serde_json::json;

use host::plugin::Plugin;
use host::runtime::{self, Control, Quiet, ReplayOptions, RuntimeError};
use host::source::import::{self, NewEvent, ParsedEvent};
use host::store::{Db, StoreError, ddl};

use crate::scratch::Scratch;
use crate::stream;

/// Events one import transaction carries.
const CHUNK: usize = 10_000;

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Events of each family's stream.
    pub events: usize,
    /// Tenants they are spread over.
    pub tenants: usize,
    /// Events per plugin call and transaction.
    pub batch_size: usize,
}

/// One family's figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    /// Family.
    pub family: String,
    /// Events the family applied.
    pub n_applied: u64,
    /// Events applied per second.
    pub events_per_second: f64,
}

/// The events of one session, in the order a login writes them.
fn session_events(session: usize, terminated: bool) -> Vec<(&'static str, serde_json::Value)> {
    let user = format!("user-{:07}", session / 3);
    let at = "2026-01-01T10:00:00Z";
    let mut events = vec![
        (
            "session.added",
            json!({"userAgent": {"fingerprintID": format!("fp-{session}"), "ip": "192.0.2.1",
                   "description": "Firefox", "header": {"Accept-Language": ["en"]}}}),
        ),
        (
            "session.user.checked",
            json!({"userID": user, "userResourceOwner": "org", "checkedAt": at}),
        ),
        ("session.password.checked", json!({"checkedAt": at})),
        (
            "session.token.set",
            json!({"tokenID": format!("token-{session}")}),
        ),
        (
            "session.metadata.set",
            json!({"metadata": {"device": "bGFwdG9w", "app": "Y29uc29sZQ=="}}),
        ),
        (
            "session.lifetime.set",
            json!({"lifetime": 43_200_000_000_000_i64}),
        ),
    ];
    if terminated {
        events.push(("session.terminated", json!({})));
    }
    events
}

/// Append about `n_events` session events over `tenants` tenants.
async fn load_sessions(db: &Db, n_events: usize, tenants: usize) -> Result<usize, StoreError> {
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut n = 0;
    let mut session = 0;
    while n < n_events {
        let tenant = format!("tenant-{:03}", session % tenants.max(1));
        for (i, (event_type, payload)) in session_events(session, session % 4 == 0)
            .into_iter()
            .enumerate()
        {
            #[allow(clippy::cast_possible_wrap)]
            let created_at = 1_767_225_600_000_000 + (n_events + n) as i64 * 1_000;
            chunk.push(ParsedEvent {
                line: n + 1,
                event: NewEvent {
                    instance_id: tenant.clone(),
                    aggregate_type: "session".into(),
                    aggregate_id: format!("session-{session:08}"),
                    event_type: event_type.into(),
                    sequence: Some(i64::try_from(i + 1).unwrap_or(1)),
                    revision: Some(1),
                    created_at: None,
                    payload: Some(payload),
                    creator: "bench".into(),
                    owner: tenant.clone(),
                    position: None,
                    in_tx_order: None,
                },
                created_at: Some(created_at),
                position: None,
            });
            n += 1;
            if chunk.len() == CHUNK {
                import::append(db, &chunk).await?;
                chunk.clear();
            }
        }
        session += 1;
    }
    if !chunk.is_empty() {
        import::append(db, &chunk).await?;
    }
    Ok(n)
}

/// Replay one family from empty tables through the full path.
async fn replay(db: &Db, plugin: Plugin, batch_size: usize) -> Result<Rate, RuntimeError> {
    ddl::rebuild(db, &plugin.description, &plugin.hash).await?;
    let family = plugin.family().to_owned();
    let mut plugins = vec![plugin];
    let options = ReplayOptions {
        batch_size,
        ..ReplayOptions::default()
    };
    let control = Control {
        count_pending: false,
        ..Control::default()
    };
    let started = Instant::now();
    let reports = runtime::replay_controlled(db, &mut plugins, &options, &control, &Quiet).await?;
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    let n_failed: u64 = reports.iter().map(|r| r.n_failed).sum();
    if n_failed > 0 {
        return Err(RuntimeError::Store(StoreError::Corrupt(format!(
            "{n_failed} events of {family} failed during the bench"
        ))));
    }
    let n_applied: u64 = reports.iter().map(|r| r.n_applied).sum();
    #[allow(clippy::cast_precision_loss)]
    let events_per_second = n_applied as f64 / elapsed;
    Ok(Rate {
        family,
        n_applied,
        events_per_second,
    })
}

/// Load both streams, replay users then sessions; `say` receives a line per
/// figure. Returns (users, sessions).
pub async fn run(
    scratch: &Scratch,
    users: Plugin,
    sessions: Plugin,
    options: Options,
    say: &mut dyn FnMut(String),
) -> Result<(Rate, Rate), RuntimeError> {
    let db = &scratch.db;
    let n_users = stream::load(db, options.events, options.tenants).await?;
    let n_sessions = load_sessions(db, options.events, options.tenants).await?;
    stream::settle(db).await?;
    say(format!(
        "loaded {n_users} user events and {n_sessions} session events over {} tenants",
        options.tenants
    ));
    let mut rates = Vec::new();
    for (i, plugin) in [users, sessions].into_iter().enumerate() {
        if i > 0 {
            // Sessions do not pay for the users' writes.
            stream::checkpoint(db).await?;
        }
        let rate = replay(db, plugin, options.batch_size).await?;
        say(format!(
            "{:>10}: {:>9.0} events/s ({} events)",
            rate.family, rate.events_per_second, rate.n_applied
        ));
        rates.push(rate);
    }
    let mut rates = rates.into_iter();
    match (rates.next(), rates.next()) {
        (Some(users), Some(sessions)) => Ok((users, sessions)),
        _ => Err(RuntimeError::Store(StoreError::Corrupt(
            "a family's figure is missing".into(),
        ))),
    }
}
