//! `projector family pause|resume`: a running `run` starts no batch of a
//! paused family while the others go on, and catches it up once resumed;
//! `status` and the metrics show the pause; an unknown family is refused.

use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Parser as _;
use host::cli::{self, Cli};
use host::store::{Db, pause, state};
use serde_json::{Value as Json, json};
use tokio::sync::watch;

use crate::live::wait_until_caught_up;
use crate::metrics::{follower, served, value, wait_for, wait_for_status};
use crate::support::{self, Store};

/// Run the command line on a thread of its own (it starts its own runtime).
async fn run_cli(url: &str, args: &[&str]) -> Result<ExitCode, String> {
    let argv: Vec<String> = ["projector", "--database-url", url]
        .iter()
        .chain(args)
        .map(|a| (*a).to_owned())
        .collect();
    tokio::task::spawn_blocking(move || {
        std::thread::spawn(move || cli::run(Cli::parse_from(argv)).map_err(|e| format!("{e:#}")))
            .join()
            .unwrap()
    })
    .await
    .unwrap()
}

/// `projector status` in a child process (the `zitadel::child_cli` entry of
/// this test binary), its standard output.
pub(crate) async fn status_output(url: &str) -> String {
    let plugins = support::plugin_dir(&["instances", "orgs"]);
    let cache = tempfile::tempdir().unwrap();
    let args = [
        "--database-url",
        url,
        "--plugins",
        plugins.path().to_str().unwrap(),
        "--cache",
        cache.path().to_str().unwrap(),
        "status",
    ]
    .join("\n");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "zitadel::child_cli", "--ignored", "--nocapture"])
            .env("PROJECTOR_ZITADEL_CHILD", args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn added(tenant: &str, aggregate: &str, id: &str) -> Json {
    json!({
        "instance_id": tenant, "aggregate_type": aggregate, "aggregate_id": id,
        "event_type": format!("{aggregate}.added"), "owner": tenant, "payload": {"name": id}
    })
}

/// The family's checkpoints: tenant and position.
async fn checkpoints(db: &Db, family: &str) -> Vec<(String, String)> {
    state::checkpoints(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.family == family)
        .map(|c| (c.instance_id, c.position))
        .collect()
}

async fn a_paused_family_waits_and_catches_up(store: Store) {
    let t = support::test_db(store).await;
    let plugins = support::plugins(&["instances", "orgs"]);
    let (metrics, serving) = served(1000).await;
    let addr = serving.local_addr();
    let (stop, stop_rx) = watch::channel(false);
    let work = async {
        support::import_json(
            &t.db,
            &[added("a", "instance", "a"), added("a", "org", "o1")],
        )
        .await;
        wait_until_caught_up(&t.db, &plugins, Duration::from_secs(20)).await;

        let unknown = run_cli(&t.url, &["family", "pause", "nope"]).await;
        assert_eq!(
            unknown.unwrap_err(),
            "unknown family \"nope\"; installed: instances, orgs"
        );
        assert_eq!(
            run_cli(&t.url, &["family", "pause", "orgs", "--by", "tester"]).await,
            Ok(ExitCode::SUCCESS)
        );
        // Once a round has seen the pause, no batch of orgs starts.
        wait_for(addr, "the pause seen", |s| {
            value(s, "projector_family_paused", "orgs") == 1.0
        })
        .await;
        let orgs_before = checkpoints(&t.db, "orgs").await;
        let instances_before = checkpoints(&t.db, "instances").await;
        support::import_json(
            &t.db,
            &[
                added("b", "instance", "b"),
                added("b", "org", "o2"),
                added("a", "org", "o3"),
            ],
        )
        .await;
        wait_until_caught_up(&t.db, &plugins[..1], Duration::from_secs(20)).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_ne!(checkpoints(&t.db, "instances").await, instances_before);
        assert_eq!(checkpoints(&t.db, "orgs").await, orgs_before);
        let pending: i64 = host::runtime::pending(&t.db, &plugins[1])
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum();
        assert_eq!(pending, 2);
        let lagging = wait_for(addr, "the paused family's lag", |s| {
            value(s, "projector_lag_events", "orgs") == 2.0
        })
        .await;
        assert_eq!(value(&lagging, "projector_family_paused", "instances"), 0.0);

        let status = status_output(&t.url).await;
        assert!(
            status.lines().any(|l| l.starts_with("paused: orgs since ")
                && l.contains(" by tester: `run` starts no batch of it")),
            "{status}"
        );
        assert!(!status.contains("paused: instances"), "{status}");
        let paused = pause::paused(&t.db).await.unwrap();
        assert_eq!(paused.len(), 1);
        assert_eq!(
            (paused[0].family.as_str(), paused[0].paused_by.as_str()),
            ("orgs", "tester")
        );

        assert_eq!(
            run_cli(&t.url, &["family", "resume", "orgs"]).await,
            Ok(ExitCode::SUCCESS)
        );
        wait_until_caught_up(&t.db, &plugins, Duration::from_secs(20)).await;
        wait_for(addr, "the resume seen", |s| {
            value(s, "projector_family_paused", "orgs") == 0.0
                && value(s, "projector_lag_events", "orgs") == 0.0
        })
        .await;
        let orgs_after = checkpoints(&t.db, "orgs").await;
        assert_eq!(
            orgs_after.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_ne!(orgs_after, orgs_before);
        wait_for_status(addr, "/readyz", 200).await;
        assert!(pause::paused(&t.db).await.unwrap().is_empty());
        stop.send(true).unwrap();
    };
    let (followed, ()) = tokio::join!(
        follower(&t.db, &["instances", "orgs"], &metrics, stop_rx),
        work
    );
    followed.unwrap();
    let rows = &support::dump_all(&t.db, &plugins).await["orgs_projection"];
    assert_eq!(rows.len(), 3);
    drop(serving);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_family_waits_and_catches_up_on_sqlite() {
    a_paused_family_waits_and_catches_up(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_family_waits_and_catches_up_on_postgres() {
    a_paused_family_waits_and_catches_up(Store::Postgres).await;
}

/// Pausing twice says so and keeps the first pause; resuming a family that
/// is not paused says so; neither is an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pausing_twice_and_resuming_an_unpaused_family_change_nothing() {
    let t = support::test_db(Store::Sqlite).await;
    let mut plugins = support::plugins(&["orgs"]);
    support::replay(&t.db, &mut plugins, Default::default()).await;
    assert_eq!(
        pause::resume(&t.db, "orgs").await.unwrap(),
        pause::Transition::NotPaused
    );
    assert_eq!(
        pause::pause(&t.db, "orgs", "first").await.unwrap(),
        pause::Transition::Done
    );
    let again = pause::pause(&t.db, "orgs", "second").await.unwrap();
    let pause::Transition::AlreadyPaused(first) = again else {
        panic!("{again:?}");
    };
    assert_eq!(first.paused_by, "first");
    assert_eq!(
        pause::resume(&t.db, "orgs").await.unwrap(),
        pause::Transition::Done
    );
    let err = pause::resume(&t.db, "nope").await.unwrap_err();
    assert_eq!(err.to_string(), "unknown family \"nope\"; installed: orgs");
    t.finish().await;
}
