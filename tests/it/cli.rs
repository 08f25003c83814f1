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
fn counts_must_be_at_least_one() {
    for args in [
        &["projector", "replay", "--batch-size", "0"][..],
        &["projector", "run", "--batch-size", "0"],
    ] {
        let err = Cli::try_parse_from(args).unwrap_err().to_string();
        assert!(err.contains("must be at least 1"), "{args:?}: {err}");
    }
    let err = Cli::try_parse_from(["projector", "replay", "--batch-size", "many"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid digit"), "{err}");
}

/// Drop a table behind the host's back (a database the CLI cannot read).
fn drop_table(url: &str, table: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
}

#[test]
fn show_reports_a_table_it_cannot_read() {
    let plugins = support::plugin_dir(&["orgs"]);
    let db = tempfile::tempdir().unwrap();
    let url = sqlite_url(&db);
    let args = |rest: &[&'static str]| -> Vec<String> {
        ["--database-url", url.as_str(), "--plugins"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([plugins.path().to_str().unwrap().to_owned()])
            .chain(rest.iter().map(|s| (*s).to_owned()))
            .collect()
    };
    let run_args = |rest: &[&'static str]| {
        let args = args(rest);
        run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    // Never replayed: said, not an error.
    assert_eq!(run_args(&["show"]), Ok(ExitCode::SUCCESS));
    assert_eq!(run_args(&["replay"]), Ok(ExitCode::SUCCESS));
    assert_eq!(run_args(&["show"]), Ok(ExitCode::SUCCESS));
    drop_table(&url, "org_metadata_projection");
    let err = run_args(&["show"]).unwrap_err();
    assert!(
        err.starts_with("cannot read org_metadata_projection: database error: ")
            && err.contains("no such table"),
        "{err}"
    );
}

/// Under `{:#}` (how `main` prints errors) every cause appears once.
#[test]
fn errors_print_each_cause_once() {
    let plugins = support::plugin_dir(&["orgs"]);
    let db = tempfile::tempdir().unwrap();
    let url = sqlite_url(&db);
    let dir = plugins.path().to_str().unwrap();
    let with = |database: &str, rest: &[&str]| -> Result<ExitCode, String> {
        let mut args = vec!["--database-url", database, "--plugins", dir];
        args.extend_from_slice(rest);
        run(&args)
    };
    assert_eq!(with(&url, &["replay"]), Ok(ExitCode::SUCCESS));
    drop_table(&url, "org_members_projection");
    let errors = [
        // StoreError::Connect over sqlx's I/O error over the OS error.
        with("sqlite:///proc/no/such/dir/x.db", &["status"]),
        with("postgres://postgres@127.0.0.1:1/nowhere", &["status"]),
        // StoreError::Db under context.
        with(&url, &["show", "org_members_projection"]),
        // PluginError::Read.
        with(&url, &["plugin", "deploy", "/no/such/plugin.wasm"]),
        // CaseError::Io.
        with(&url, &["check", "/no/such/cases.jsonl"]),
        // An I/O error under context.
        with(&url, &["events", "import", "/no/such/events.jsonl"]),
        // StoreError::NoFailedEvent.
        with(&url, &["failed", "skip", "7"]),
    ];
    for error in errors {
        let error = error.unwrap_err();
        let segments: Vec<&str> = error.split(": ").map(str::trim).collect();
        for (i, segment) in segments.iter().enumerate() {
            assert!(
                segment.is_empty() || !segments[i + 1..].contains(segment),
                "{segment:?} repeats in {error:?}"
            );
        }
        assert!(!error.contains('\n'), "{error}");
    }
}
