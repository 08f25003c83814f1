//! `projector-bench`: the throughput bench end to end, and its flags.

use std::process::ExitCode;

use clap::Parser as _;
use projector_bench::child::Launcher;
use projector_bench::cli::{self, Cli};

use crate::support;

/// The arguments of a `projector-bench` child, one a line.
const CHILD_ENV: &str = "PROJECTOR_BENCH_CHILD";

/// A bench's child process: this test binary running [`child_bench`] with
/// the child's arguments in [`CHILD_ENV`].
fn test_launcher() -> Launcher {
    Launcher::new(|args| {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "bench::child_bench", "--ignored", "--nocapture"])
            .env(CHILD_ENV, args.join("\n"));
        command
    })
}

/// The child: `projector-bench` with the arguments in [`CHILD_ENV`].
#[test]
#[ignore = "run by the bench tests as their child process"]
fn child_bench() {
    let Ok(args) = std::env::var(CHILD_ENV) else {
        return;
    };
    let cli = Cli::parse_from(std::iter::once("projector-bench").chain(args.split('\n')));
    let code = cli::run_with(cli, test_launcher())
        .map_err(|e| format!("{e:#}"))
        .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
}

#[test]
fn bench_runs_four_paths_to_identical_tables() {
    let plugins = support::plugin_dir(&["users", "orgs"]);
    let admin = support::admin_url();
    let code = cli::run(Cli::parse_from([
        "projector-bench",
        "--database-url",
        &admin,
        "--plugins",
        plugins.path().to_str().unwrap(),
        "--events",
        "600",
        "--tenants",
        "7",
        "--batch-size",
        "100",
    ]))
    .map_err(|e| format!("{e:#}"))
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
}

/// The realistic bench over every family: three paths that must leave the
/// same tables (it fails otherwise), on PostgreSQL and on SQLite; the full
/// and the workers path each in a child process.
#[test]
fn realistic_bench_runs_three_paths_to_identical_tables() {
    let plugins = support::plugin_dir(support::FAMILIES);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    for url in [support::admin_url(), sqlite] {
        let cli = Cli::parse_from([
            "projector-bench",
            "--database-url",
            &url,
            "--plugins",
            plugins.path().to_str().unwrap(),
            "realistic",
            "--events",
            "1500",
            "--tenants",
            "6",
            "--batch-size",
            "100",
            "--workers",
            "3",
        ]);
        let code = cli::run_with(cli, test_launcher())
            .map_err(|e| format!("{e:#}"))
            .unwrap();
        assert_eq!(code, ExitCode::SUCCESS, "{url}");
    }
}

/// A child that fails, or that prints no figures, fails the bench with an
/// error naming it.
#[test]
fn a_child_without_figures_fails_the_realistic_bench() {
    let plugins = support::plugin_dir(&["instances", "orgs"]);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    for (program, expected) in [
        ("false", "exited with exit status: 1"),
        ("true", "printed no readable line"),
    ] {
        let cli = Cli::parse_from([
            "projector-bench",
            "--database-url",
            &sqlite,
            "--plugins",
            plugins.path().to_str().unwrap(),
            "realistic",
            "--events",
            "50",
            "--tenants",
            "2",
        ]);
        let launcher = Launcher::new(move |_| std::process::Command::new(program));
        let err = format!("{:#}", cli::run_with(cli, launcher).unwrap_err());
        assert!(
            err.contains("the child process of the full path on 1 worker: ")
                && err.contains(expected),
            "{program}: {err}"
        );
    }
}

#[test]
fn counts_must_be_at_least_one() {
    for args in [
        &["projector-bench", "--events", "0"][..],
        &["projector-bench", "--tenants", "0"],
        &["projector-bench", "--batch-size", "0"],
        &["projector-bench", "live", "--events", "0"],
        &["projector-bench", "barrier", "--calls", "0"],
        &["projector-bench", "realistic", "--workers", "0"],
    ] {
        let err = Cli::try_parse_from(args).unwrap_err().to_string();
        assert!(err.contains("must be at least 1"), "{args:?}: {err}");
    }
    let err = Cli::try_parse_from(["projector-bench", "--events", "many"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid digit"), "{err}");
}

/// The events a bench loads are settled before anything is timed: vacuumed
/// (every page all-visible), analyzed, and written out by a checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loaded_events_are_settled_before_a_bench_times_anything_on_postgres() {
    use host::store::Db;
    let test = support::test_db(support::Store::Postgres).await;
    let Db::Postgres(pool) = &test.db else {
        unreachable!("a PostgreSQL store")
    };
    projector_bench::stream::load(&test.db, 3000, 5)
        .await
        .unwrap();
    let visible = "SELECT relallvisible::bigint, relpages::bigint FROM pg_class \
                   WHERE oid = 'eventstore.events2'::regclass";
    let checkpoints = "SELECT checkpoints_req FROM pg_stat_bgwriter";
    let before: i64 = sqlx::query_scalar(checkpoints)
        .fetch_one(pool)
        .await
        .unwrap();

    projector_bench::stream::settle(&test.db).await.unwrap();

    let (all_visible, pages): (i64, i64) = sqlx::query_as(visible).fetch_one(pool).await.unwrap();
    assert!(pages > 0);
    assert_eq!(
        all_visible, pages,
        "every page of the events is all-visible"
    );
    let analyzed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stats WHERE schemaname = 'eventstore' AND tablename = 'events2'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(analyzed > 0, "the events have planner statistics");
    // The checkpointer reports its count a moment after the checkpoint.
    let started = std::time::Instant::now();
    loop {
        let after: i64 = sqlx::query_scalar(checkpoints)
            .fetch_one(pool)
            .await
            .unwrap();
        if after > before {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no checkpoint was requested"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    test.finish().await;
}
