//! The command line on bad input: one clear error, never a panic.

use std::process::ExitCode;

use clap::Parser as _;
use host::cli::{self, Cli};

use crate::support;

fn run(args: &[&str]) -> Result<ExitCode, String> {
    let mut argv = vec!["projector"];
    argv.extend_from_slice(args);
    cli::run(Cli::parse_from(argv)).map_err(|e| format!("{e:#}"))
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("cli.db").display())
}

#[test]
fn unknown_family_is_named_with_the_installed_ones() {
    let plugins = support::plugin_dir(&["instances", "orgs"]);
    let db = tempfile::tempdir().unwrap();
    let err = run(&[
        "--database-url",
        &sqlite_url(&db),
        "--plugins",
        plugins.path().to_str().unwrap(),
        "replay",
        "--family",
        "nope",
    ])
    .unwrap_err();
    assert_eq!(err, "unknown family \"nope\"; installed: instances, orgs");
}

#[test]
fn unreachable_database_is_one_line() {
    let plugins = support::plugin_dir(&["orgs"]);
    let err = run(&[
        "--database-url",
        "postgres://postgres@127.0.0.1:1/nowhere",
        "--plugins",
        plugins.path().to_str().unwrap(),
        "status",
    ])
    .unwrap_err();
    assert!(
        err.starts_with("cannot open database postgres://postgres@127.0.0.1:1/nowhere"),
        "{err}"
    );
    assert!(!err.contains('\n'), "{err}");
}

#[test]
fn missing_and_invalid_plugins_are_explained() {
    let db = tempfile::tempdir().unwrap();
    let err = run(&[
        "--database-url",
        &sqlite_url(&db),
        "--plugins",
        "/no/such/dir",
        "replay",
    ])
    .unwrap_err();
    assert!(
        err.contains("plugin directory /no/such/dir does not exist"),
        "{err}"
    );

    let plugins = tempfile::tempdir().unwrap();
    std::fs::write(plugins.path().join("broken.wasm"), b"not wasm at all").unwrap();
    let err = run(&[
        "--database-url",
        &sqlite_url(&db),
        "--plugins",
        plugins.path().to_str().unwrap(),
        "replay",
    ])
    .unwrap_err();
    assert!(
        err.contains("broken.wasm: not a WebAssembly component"),
        "{err}"
    );
}

#[test]
fn a_plugin_of_another_contract_version_is_refused_by_name() {
    let plugins = support::plugin_dir(&["future_contract"]);
    let db = tempfile::tempdir().unwrap();
    let err = run(&[
        "--database-url",
        &sqlite_url(&db),
        "--plugins",
        plugins.path().to_str().unwrap(),
        "plugin",
        "list",
    ])
    .unwrap_err();
    assert!(
        err.contains("it was built for contract 0.3.0, this host serves 0.2.0"),
        "{err}"
    );
}

#[test]
fn check_exits_non_zero_when_a_case_fails() {
    let cases = support::conformance_dir().join("org.jsonl");
    let db = tempfile::tempdir().unwrap();
    let url = sqlite_url(&db);
    let check = |plugins: &tempfile::TempDir| {
        run(&[
            "--database-url",
            &url,
            "--plugins",
            plugins.path().to_str().unwrap(),
            "check",
            cases.to_str().unwrap(),
        ])
        .unwrap()
    };
    assert_eq!(
        check(&support::plugin_dir(&["wrong_orgs"])),
        ExitCode::from(1)
    );
    assert_eq!(check(&support::plugin_dir(&["orgs"])), ExitCode::SUCCESS);
}

#[test]
fn demo_path_imports_replays_and_shows() {
    let plugins = support::plugin_dir(&["instances", "orgs", "users"]);
    let db = tempfile::tempdir().unwrap();
    let url = sqlite_url(&db);
    let base = [
        "--database-url",
        url.as_str(),
        "--plugins",
        plugins.path().to_str().unwrap(),
    ];
    let sample = support::repo_root().join("samples/demo.jsonl");
    let with = |rest: &[&str]| -> Vec<String> {
        base.iter().chain(rest).map(|s| (*s).to_owned()).collect()
    };
    let args = with(&["events", "import", sample.to_str().unwrap()]);
    assert_eq!(
        run(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        Ok(ExitCode::SUCCESS)
    );
    let args = with(&["replay"]);
    assert_eq!(
        run(&args.iter().map(String::as_str).collect::<Vec<_>>()),
        Ok(ExitCode::SUCCESS)
    );
    for command in [
        &["status"][..],
        &["show", "orgs_projection"],
        &["show", "login_names_projection"],
        &["plugin", "list"],
    ] {
        let args = with(command);
        assert_eq!(
            run(&args.iter().map(String::as_str).collect::<Vec<_>>()),
            Ok(ExitCode::SUCCESS)
        );
    }
    let args = with(&["show", "no_such_table"]);
    let err = run(&args.iter().map(String::as_str).collect::<Vec<_>>()).unwrap_err();
    assert!(
        err.contains("unknown table or view \"no_such_table\""),
        "{err}"
    );
}

#[test]
fn bench_runs_four_paths_to_identical_tables() {
    let plugins = support::plugin_dir(&["users", "orgs"]);
    let admin = support::admin_url();
    let code = run(&[
        "--database-url",
        &admin,
        "--plugins",
        plugins.path().to_str().unwrap(),
        "bench",
        "--events",
        "600",
        "--tenants",
        "7",
        "--batch-size",
        "100",
    ])
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
}

#[test]
fn counts_must_be_at_least_one() {
    for args in [
        &["projector", "bench", "--events", "0"][..],
        &["projector", "bench", "--tenants", "0"],
        &["projector", "bench", "--batch-size", "0"],
        &["projector", "bench", "live", "--events", "0"],
        &["projector", "replay", "--batch-size", "0"],
        &["projector", "run", "--batch-size", "0"],
    ] {
        let err = Cli::try_parse_from(args).unwrap_err().to_string();
        assert!(err.contains("must be at least 1"), "{args:?}: {err}");
    }
    let err = Cli::try_parse_from(["projector", "bench", "--events", "many"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid digit"), "{err}");
}
