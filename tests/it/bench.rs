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
