//! `run`: following new events, slow concurrent writers, stopping cleanly.

use std::time::{Duration, Instant};

use host::runtime::follow::{FollowOptions, follow};
use host::runtime::{Quiet, ReplayOptions};
use host::source::import;
use host::store::{Db, state};
use serde_json::json;
use tokio::sync::watch;

use crate::support::{self, Store};

/// Events of these families not applied yet.
pub(crate) async fn behind(db: &Db, plugins: &[host::plugin::Plugin]) -> i64 {
    let mut n = 0;
    for plugin in plugins {
        n += host::runtime::pending(db, plugin)
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum::<i64>();
    }
    n
}

/// Wait until no family has events after its checkpoints.
pub(crate) async fn wait_until_caught_up(
    db: &Db,
    plugins: &[host::plugin::Plugin],
    within: Duration,
) {
    let started = Instant::now();
    loop {
        let behind = behind(db, plugins).await;
        if behind == 0 {
            return;
        }
        assert!(
            started.elapsed() < within,
            "still {behind} events behind after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Follow until `stop` turns true (run it joined with the work, on one task).
async fn follower(
    db: &Db,
    names: &[&str],
    poll: Duration,
    stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let options = FollowOptions {
        batch_size: 50,
        poll_interval: poll,
        ..FollowOptions::default()
    };
    follower_with(db, names, &options, stop).await
}

/// [`follower`] with options of the caller's.
pub(crate) async fn follower_with(
    db: &Db,
    names: &[&str],
    options: &FollowOptions,
    stop: watch::Receiver<bool>,
) -> Result<(), String> {
    let mut plugins = support::plugins(names);
    follow(db, &mut plugins, options, stop, None, &Quiet)
        .await
        .map_err(|e| e.to_string())
}

async fn run_follows_appended_events(store: Store) {
    let t = support::test_db(store).await;
    let plugins = support::plugins(&["instances", "orgs"]);
    let (stop, stop_rx) = watch::channel(false);
    let work = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        support::import_file(&t.db, &support::repo_root().join("samples/demo.jsonl")).await;
        wait_until_caught_up(&t.db, &plugins, Duration::from_secs(20)).await;
        stop.send(true).unwrap();
    };
    let (followed, ()) = tokio::join!(
        follower(
            &t.db,
            &["instances", "orgs"],
            Duration::from_millis(50),
            stop_rx
        ),
        work
    );
    followed.unwrap();
    let tables = support::dump_all(&t.db, &plugins).await;
    support::assert_golden("demo.expected.json", &json!(tables));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_follows_appended_events_on_sqlite() {
    run_follows_appended_events(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_follows_appended_events_on_postgres() {
    run_follows_appended_events(Store::Postgres).await;
}

/// A small deterministic generator for pauses (under 40 ms).
fn pauses(seed: u64, n: usize) -> Vec<Duration> {
    pauses_below(seed, n, 40)
}

/// `n` deterministic pauses under `max_ms` milliseconds.
pub(crate) fn pauses_below(seed: u64, n: usize, max_ms: u64) -> Vec<Duration> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Duration::from_millis(x % max_ms.max(1))
        })
        .collect()
}

/// Writers that share tenants and pause inside their transactions after
/// taking a position: a fast writer commits a later position while a slow
/// one is open. Whatever the follower saw, its tables must equal a clean
/// replay, and every event must be applied once.
async fn slow_writers_lose_nothing(store: Store) {
    const WRITERS: usize = 6;
    const TXS: usize = 50;
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(&["orgs"]);
    let (stop, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = t.db.clone();
            tokio::spawn(async move {
                for (k, pause) in pauses(w as u64 + 1, TXS).into_iter().enumerate() {
                    let tenant = format!("tenant-{}", k % 2);
                    let org = format!("org-{w}");
                    let event_type = if k < 2 { "org.added" } else { "org.changed" };
                    let line = json!({
                        "instance_id": tenant, "aggregate_type": "org", "aggregate_id": org,
                        "event_type": event_type, "owner": org,
                        "payload": {"name": format!("{org} v{k}")},
                        "created_at": "2026-03-01T00:00:00Z"
                    });
                    let parsed = import::parse(&format!("{line}\n"), "writer").unwrap();
                    import::append_with_pause(&db, &parsed, Some(pause))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    let work = async {
        for w in writers {
            w.await.unwrap();
        }
        let writing = started.elapsed();
        wait_until_caught_up(&t.db, &plugins, Duration::from_secs(30)).await;
        stop.send(true).unwrap();
        writing
    };
    let (followed, writing) = tokio::join!(
        follower(&t.db, &["orgs"], Duration::from_millis(5), stop_rx),
        work
    );
    followed.unwrap();
    assert!(state::failures(&t.db).await.unwrap().is_empty());
    let live = support::dump_all(&t.db, &plugins).await;
    let orgs = &live["orgs_projection"];
    assert_eq!(orgs.len(), WRITERS * 2);
    let rebuild = ReplayOptions {
        from_start: true,
        ..ReplayOptions::default()
    };
    let reports = support::replay(&t.db, &mut plugins, rebuild).await;
    assert_eq!(reports[0].n_applied, (WRITERS * TXS) as u64);
    assert_eq!(support::dump_all(&t.db, &plugins).await, live);
    eprintln!(
        "{} events from {WRITERS} slow writers over {writing:?}: none lost",
        WRITERS * TXS
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_concurrent_writers_lose_nothing_on_postgres() {
    slow_writers_lose_nothing(Store::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_concurrent_writers_lose_nothing_on_sqlite() {
    slow_writers_lose_nothing(Store::Sqlite).await;
}
