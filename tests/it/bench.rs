//! `projector-bench`: the throughput bench end to end, and its flags.

use std::process::ExitCode;

use clap::Parser as _;
use projector_bench::cli::{self, Cli};

use crate::support;

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
/// same tables (it fails otherwise), on PostgreSQL and on SQLite.
#[test]
fn realistic_bench_runs_three_paths_to_identical_tables() {
    let plugins = support::plugin_dir(support::FAMILIES);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    for url in [support::admin_url(), sqlite] {
        let code = cli::run(Cli::parse_from([
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
        ]))
        .map_err(|e| format!("{e:#}"))
        .unwrap();
        assert_eq!(code, ExitCode::SUCCESS, "{url}");
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
