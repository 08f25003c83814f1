//! Crash test: a replay of the generated stream in a child process is
//! killed with SIGKILL at random moments, again and again, then resumed to
//! the end. Tables and checkpoints must equal one clean replay, on SQLite
//! and on PostgreSQL.
//!
//! The child is this test binary itself, running the ignored test
//! `crash::child_replay` with `PROJECTOR_CRASH_CHILD` naming the database
//! and plugins; it runs `projector replay` through the library's CLI.

use std::process::{Child, Command, Stdio};
use std::time::Instant;

use clap::Parser as _;
use host::cli::{self, Cli};
use host::store::{Db, state};

use crate::differential::{all_rows, generated_stream};
use crate::support::{self, Store};

/// Kills that must land while the child is still replaying.
const KILLS: usize = 10;
const CHILD_ENV: &str = "PROJECTOR_CRASH_CHILD";

/// The child: replay in small batches (many commits to land between).
#[test]
#[ignore = "run by the crash test as its child process"]
fn child_replay() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.split('\n');
    let (Some(url), Some(plugins), Some(cache)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("{CHILD_ENV} holds url, plugins and cache, one a line");
    };
    let cli = Cli::parse_from([
        "projector",
        "--database-url",
        url,
        "--plugins",
        plugins,
        "--cache",
        cache,
        "replay",
        "--batch-size",
        "20",
    ]);
    if let Err(e) = cli::run(cli) {
        panic!("replay failed: {e:#}");
    }
}

fn spawn(spec: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash::child_replay", "--ignored", "--nocapture"])
        .env(CHILD_ENV, spec)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A small deterministic generator of kill times.
struct Moments(u64);

impl Moments {
    fn next_fraction(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % 10_000) as f64 / 10_000.0
    }
}

async fn checkpoints(db: &Db) -> Vec<(String, String, String, i64, String, String, i64)> {
    let mut all: Vec<_> = state::checkpoints(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| {
            (
                c.family,
                c.instance_id,
                c.position,
                c.in_tx_order,
                c.aggregate_type,
                c.aggregate_id,
                c.sequence,
            )
        })
        .collect();
    all.sort();
    all
}

fn spec(t: &support::TestDb, plugins: &tempfile::TempDir, cache: &tempfile::TempDir) -> String {
    format!(
        "{}\n{}\n{}",
        t.url,
        plugins.path().display(),
        cache.path().display()
    )
}

fn finish(child: Child) {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the replay failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn killed_replays_equal_a_clean_replay(store: Store) {
    let events = generated_stream();
    let plugins = support::plugins(support::FAMILIES);
    let dir = support::plugin_dir(support::FAMILIES);
    let cache = tempfile::tempdir().unwrap();

    // A first run on an empty store compiles the plugins into the cache;
    // a second tells how long a run takes to start.
    let empty = support::test_db(store).await;
    finish(spawn(&spec(&empty, &dir, &cache)));
    let started = Instant::now();
    finish(spawn(&spec(&empty, &dir, &cache)));
    let startup = started.elapsed();
    empty.finish().await;

    // The clean replay, by the same child uninterrupted; it also tells how
    // long a whole replay takes, over which the kills are spread.
    let clean = support::test_db(store).await;
    support::import_json(&clean.db, &events).await;
    let started = Instant::now();
    finish(spawn(&spec(&clean, &dir, &cache)));
    let whole = started.elapsed();
    let expected_rows = all_rows(&clean.db, &plugins).await;
    let expected_checkpoints = checkpoints(&clean.db).await;
    clean.finish().await;

    let t = support::test_db(store).await;
    support::import_json(&t.db, &events).await;
    let spec = spec(&t, &dir, &cache);
    // The first runs are killed at random moments of their start; every
    // later one at a random moment shortly after it committed a batch, so
    // the kills land all over the replay and leave work for the last run.
    let mut moments = Moments(0x9e37_79b9_7f4a_7c15);
    let (mut kills, mut runs) = (0, 0);
    let mut states = std::collections::BTreeSet::new();
    let mut last = checkpoints(&t.db).await;
    while kills < KILLS && runs < KILLS * 3 {
        runs += 1;
        let mut child = spawn(&spec);
        if runs <= 2 {
            std::thread::sleep(startup.mul_f64(moments.next_fraction()));
        } else {
            let deadline = Instant::now() + whole * 3;
            while child.try_wait().unwrap().is_none()
                && checkpoints(&t.db).await == last
                && Instant::now() < deadline
            {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            std::thread::sleep(std::time::Duration::from_millis(
                (30.0 * moments.next_fraction()) as u64,
            ));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        child.wait().unwrap();
        last = checkpoints(&t.db).await;
        states.insert(last.clone());
    }
    assert!(kills >= KILLS, "only {kills} kills landed mid-replay");
    assert!(
        !states.contains(&expected_checkpoints),
        "the replay finished before the last kill"
    );
    states.remove(&Vec::new());
    assert!(
        states.len() >= KILLS - 2,
        "only {} kills left the replay half done",
        states.len()
    );
    finish(spawn(&spec));

    let rows = all_rows(&t.db, &plugins).await;
    let failures = state::failures(&t.db).await.unwrap();
    assert!(failures.is_empty(), "failed events: {failures:?}");
    assert_eq!(checkpoints(&t.db).await, expected_checkpoints);
    for (table, expected) in &expected_rows {
        assert_eq!(
            rows.get(table),
            Some(expected),
            "{table} differs from a clean replay after {kills} kills"
        );
    }
    assert_eq!(rows.len(), expected_rows.len());
    println!(
        "{store:?}: {kills} kills in {runs} runs (a whole replay takes {:.1} s), {} of them after a commit, then resumed to the end",
        whole.as_secs_f64(),
        states.len()
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_replays_equal_a_clean_replay_on_sqlite() {
    killed_replays_equal_a_clean_replay(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_replays_equal_a_clean_replay_on_postgres() {
    killed_replays_equal_a_clean_replay(Store::Postgres).await;
}
