//! Failed events: back-off, retry now, explicit skip.

use host::runtime::{self, ReplayOptions};
use host::store::state;
use serde_json::json;

use crate::support::{self, Store};

async fn failed_events_retry_and_skip(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(&["hostile"]);
    let events: Vec<_> = ["hostile.ok", "hostile.error", "hostile.ok"]
        .iter()
        .map(|e| json!({"instance_id": "t", "aggregate_type": "hostile", "aggregate_id": "h", "event_type": e, "owner": "t"}))
        .collect();
    support::import_json(&t.db, &events).await;
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    let failures = state::failures(&t.db).await.unwrap();
    assert_eq!(failures.len(), 1);
    let id = failures[0].id;
    assert!(
        failures[0]
            .retry_after
            .is_some_and(|at| at > host::time::now_micros())
    );

    // `run` respects the back-off: the tenant is left alone until it expires.
    let live = || runtime::Control {
        respect_backoff: true,
        ..runtime::Control::default()
    };
    support::replay_controlled(&t.db, &mut plugins, ReplayOptions::default(), live()).await;
    assert_eq!(state::failures(&t.db).await.unwrap()[0].failure_count, 1);
    // `failed retry` makes it due now.
    assert_eq!(state::retry_now(&t.db, Some(id)).await.unwrap(), 1);
    support::replay_controlled(&t.db, &mut plugins, ReplayOptions::default(), live()).await;
    assert_eq!(state::failures(&t.db).await.unwrap()[0].failure_count, 2);

    // `failed skip` records who skipped it and moves the tenant past it.
    runtime::skip_failed(&t.db, id, "tester").await.unwrap();
    assert!(state::failures(&t.db).await.unwrap().is_empty());
    let skipped = state::skipped(&t.db).await.unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        (
            skipped[0].event_type.as_str(),
            skipped[0].skipped_by.as_str()
        ),
        ("hostile.error", "tester")
    );
    assert!(skipped[0].error.contains("refusing on purpose"));
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    assert_eq!((reports[0].n_applied, reports[0].n_failed), (1, 0));
    let rows = &support::dump_all(&t.db, &plugins).await["hostile_projection"];
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["h-1", "h-3"]);
    assert!(
        runtime::skip_failed(&t.db, id, "tester").await.is_err(),
        "a skipped event cannot be skipped again"
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_events_back_off_retry_and_skip_on_sqlite() {
    failed_events_retry_and_skip(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_events_back_off_retry_and_skip_on_postgres() {
    failed_events_retry_and_skip(Store::Postgres).await;
}

/// `failed skip` and `failed retry` of an id that is no failed event say so
/// (and fail); `failed retry --all` with nothing to retry is not an error.
async fn missing_failed_event_ids_are_named(store: Store) {
    use clap::Parser as _;
    let t = support::test_db(store).await;
    let run = |args: &[&str]| {
        let mut argv = vec!["projector", "--database-url", t.url.as_str()];
        argv.extend_from_slice(args);
        let cli = host::cli::Cli::parse_from(argv);
        // The command starts a runtime of its own.
        std::thread::scope(|s| {
            s.spawn(|| host::cli::run(cli).map_err(|e| format!("{e:#}")))
                .join()
                .unwrap()
        })
    };
    for command in [&["failed", "skip", "7"][..], &["failed", "retry", "7"]] {
        assert_eq!(
            run(command).unwrap_err(),
            "no failed event with id 7 (see `projector failed list`)",
            "{command:?}"
        );
    }
    assert_eq!(
        run(&["failed", "retry", "--all"]).unwrap(),
        std::process::ExitCode::SUCCESS
    );
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_skip_and_retry_name_a_missing_id_on_sqlite() {
    missing_failed_event_ids_are_named(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_skip_and_retry_name_a_missing_id_on_postgres() {
    missing_failed_event_ids_are_named(Store::Postgres).await;
}
