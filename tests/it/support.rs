//! Shared test setup: build the guest plugins once, open fresh databases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use host::plugin::{Limits, Plugin};
use host::runtime::{self, ReplayOptions};
use host::source::import;
use host::store::{Db, dump, state};
use serde_json::Value as Json;

/// The family plugins the project has: the workspace's crates whose
/// manifest says `[package.metadata.projector] family = true`, by name.
/// Found once, with `cargo metadata`.
pub const FAMILIES: &Families = &Families;

/// The family crates of the workspace (see [`FAMILIES`]); reads as a slice
/// of crate names.
pub struct Families;

impl std::ops::Deref for Families {
    type Target = [&'static str];

    fn deref(&self) -> &[&'static str] {
        static FOUND: OnceLock<Vec<&'static str>> = OnceLock::new();
        FOUND.get_or_init(find_families)
    }
}

/// The names of the workspace's family crates, sorted.
fn find_families() -> Vec<&'static str> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo_root())
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed");
    let metadata: Json = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let mut names: Vec<&'static str> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["metadata"]["projector"]["family"] == Json::Bool(true))
        .filter_map(|p| p["name"].as_str())
        .map(|name| &*name.to_owned().leak())
        .collect();
    names.sort_unstable();
    assert!(!names.is_empty(), "no family crate in the workspace");
    names
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the repository")
        .to_owned()
}

/// The conformance cases vendored in `tests/conformance`.
pub fn conformance_dir() -> PathBuf {
    repo_root().join("tests/conformance")
}

/// A fixture file's path.
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(name)
}

/// Built guest plugins.
pub struct Guests {
    dir: PathBuf,
}

impl Guests {
    /// The component of one guest crate.
    pub fn wasm(&self, name: &str) -> PathBuf {
        let build = if matches!(name, "wrong_orgs" | "orgs_v2" | "orgs_v3") {
            "wrong"
        } else {
            "main"
        };
        self.dir
            .join(build)
            .join(format!("wasm32-wasip2/release/{name}.wasm"))
    }
}

/// Build the plugins and test guests for wasm32-wasip2, once per process,
/// in their own target directory.
pub fn guests() -> &'static Guests {
    static GUESTS: OnceLock<Guests> = OnceLock::new();
    GUESTS.get_or_init(|| {
        let root = repo_root();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"))
            .join("guests");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        // wrong_orgs, orgs_v2 and orgs_v3 embed orgs without its export: a build
        // (and target directory) of their own, so their orgs is not the
        // exporting plugin.
        let main: Vec<&str> = FAMILIES
            .iter()
            .copied()
            .chain(["hostile", "hostile_tables", "future_contract"])
            .collect();
        for (dir, packages) in [
            ("main", &main[..]),
            ("wrong", &["wrong_orgs", "orgs_v2", "orgs_v3"]),
        ] {
            let status = Command::new(&cargo)
                .current_dir(&root)
                .args([
                    "build",
                    "--release",
                    "--target",
                    "wasm32-wasip2",
                    "--target-dir",
                ])
                .arg(target.join(dir))
                .args(packages.iter().flat_map(|p| ["-p", p]))
                .status()
                .expect("cargo runs");
            assert!(
                status.success(),
                "building the guest plugins {packages:?} failed"
            );
        }
        Guests { dir: target }
    })
}

/// Load guest plugins by crate name (compiled once, then cached).
pub fn plugins(names: &[&str]) -> Vec<Plugin> {
    let cache = guests().dir.join("cache");
    names
        .iter()
        .map(|n| {
            Plugin::load(&guests().wasm(n), Some(&cache), Limits::default()).expect("plugin loads")
        })
        .collect()
}

/// A directory holding copies of some guest plugins (for the CLI).
pub fn plugin_dir(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for n in names {
        std::fs::copy(guests().wasm(n), dir.path().join(format!("{n}.wasm"))).expect("copy plugin");
    }
    dir
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    /// An SQLite file in a temp dir.
    Sqlite,
    /// A fresh database on the local PostgreSQL server.
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn admin_url() -> String {
    std::env::var("PROJECTOR_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh database, dropped by [`TestDb::finish`].
pub struct TestDb {
    /// The open store.
    pub db: Db,
    /// Its URL (for a child process).
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn with_database(url: &str, name: &str) -> String {
    let cut = url.rfind('/').expect("a database url has a path");
    format!("{}/{name}", &url[..cut])
}

/// Send the host's log to the running test's captured output, shown when
/// it fails: `RUST_LOG` when set, else warnings and the host's own info.
fn capture_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,host=info"));
        // Already set (by a test of its own): that one is kept.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

/// Open a fresh, empty store.
pub async fn test_db(store: Store) -> TestDb {
    capture_logs();
    match store {
        Store::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            let db = Db::open(&url).await.expect("sqlite opens");
            TestDb {
                db,
                url,
                _dir: Some(dir),
                pg_name: None,
            }
        }
        Store::Postgres => postgres_test_db("").await,
    }
}

/// A fresh PostgreSQL store whose text sorts by the ICU locale `icu`
/// (`en-US`: "a" before "B", unlike bytes), dropped by [`TestDb::finish`].
pub async fn test_db_collated(icu: &str) -> TestDb {
    capture_logs();
    postgres_test_db(&format!(
        "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '{icu}'"
    ))
    .await
}

/// A fresh PostgreSQL store in a database made with `options`.
async fn postgres_test_db(options: &str) -> TestDb {
    let (name, url) = postgres_database(options).await;
    let db = Db::open(&url).await.expect("postgres opens");
    TestDb {
        db,
        url,
        _dir: None,
        pg_name: Some(name),
    }
}

/// A fresh, empty PostgreSQL database that projector has not opened (no
/// schema, no table): its name and URL. [`drop_postgres_database`] drops it.
pub async fn empty_postgres_database() -> (String, String) {
    postgres_database("").await
}

/// A fresh PostgreSQL database made with `options` (`CREATE DATABASE`'s).
async fn postgres_database(options: &str) -> (String, String) {
    let admin = admin_url();
    let name = format!(
        "projector_test_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let pool = sqlx::PgPool::connect(&admin)
        .await
        .expect("PostgreSQL is reachable (DATABASE_URL)");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&pool)
        .await
        .expect("drop");
    sqlx::query(&format!("CREATE DATABASE {name} {options}"))
        .execute(&pool)
        .await
        .expect("create database");
    pool.close().await;
    let url = with_database(&admin, &name);
    (name, url)
}

/// Drop a database made by [`empty_postgres_database`].
pub async fn drop_postgres_database(name: &str) {
    if let Ok(pool) = sqlx::PgPool::connect(&admin_url()).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&pool)
            .await;
        pool.close().await;
    }
}

impl TestDb {
    /// Close and drop the database.
    pub async fn finish(self) {
        self.db.close().await;
        if let Some(name) = self.pg_name
            && let Ok(pool) = sqlx::PgPool::connect(&admin_url()).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&pool)
                .await;
            pool.close().await;
        }
    }
}

/// Import a JSON-lines file.
pub async fn import_file(db: &Db, path: &Path) -> usize {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    let events = import::parse(&text, &path.display().to_string()).expect("fixture parses");
    import::append(db, &events).await.expect("import")
}

/// A realistic stream (the generator of `tests/streams`) without positions:
/// each imported chunk gets the next position, as a live writer's commits
/// do.
pub fn unpositioned_stream(seed: u64, tenants: usize, events: usize) -> Vec<Json> {
    let mut events = streams::generate(&streams::Config {
        seed,
        tenants,
        events,
    });
    for event in &mut events {
        if let Some(fields) = event.as_object_mut() {
            fields.remove("position");
            fields.remove("in_tx_order");
        }
    }
    events
}

/// Per (family, tenant), the events its checkpoint has consumed.
pub async fn consumed(db: &Db) -> BTreeMap<(String, String), i64> {
    state::checkpoints(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| ((c.family, c.instance_id), c.n_consumed))
        .collect()
}

/// No failed event, and no family behind or missing an event (a second
/// apply would have failed one, a skipped one stays behind or missed).
pub async fn assert_all_applied(db: &Db, plugins: &[Plugin]) {
    assert_eq!(state::failures(db).await.unwrap(), Vec::new());
    for plugin in plugins {
        for lag in runtime::lag(db, plugin).await.unwrap() {
            assert_eq!(lag.behind(), 0, "{}: {lag:?}", plugin.family());
        }
    }
}

/// `db` against a clean replay of `events` (imported in chunks of `chunk`)
/// by the plugins `names`: every (family, tenant)'s consumed events and
/// every table.
pub async fn assert_equals_clean_replay(
    store: Store,
    db: &Db,
    names: &[&str],
    events: &[Json],
    chunk: usize,
) {
    let clean = test_db(store).await;
    for part in events.chunks(chunk) {
        import_json(&clean.db, part).await;
    }
    let mut plugins = self::plugins(names);
    replay(&clean.db, &mut plugins, ReplayOptions::default()).await;
    assert_eq!(consumed(db).await, consumed(&clean.db).await);
    assert!(
        crate::differential::all_rows(db, &plugins).await
            == crate::differential::all_rows(&clean.db, &plugins).await,
        "the tables differ from a clean replay"
    );
    clean.finish().await;
}

/// Import events given as JSON values.
pub async fn import_json(db: &Db, events: &[Json]) {
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    let parsed = import::parse(&text, "inline").expect("inline events parse");
    import::append(db, &parsed).await.expect("import");
}

/// Every table and view of every plugin, as canonical rows.
pub async fn dump_all(db: &Db, plugins: &[Plugin]) -> BTreeMap<String, Vec<dump::JsonRow>> {
    let mut tables = BTreeMap::new();
    for plugin in plugins {
        for table in &dump::relations(&plugin.description).expect("valid views") {
            tables.insert(
                table.name.clone(),
                dump::dump_table(db, table).await.expect("table readable"),
            );
        }
    }
    tables
}

/// Replay with options.
pub async fn replay(
    db: &Db,
    plugins: &mut [Plugin],
    options: ReplayOptions,
) -> Vec<runtime::FamilyReport> {
    runtime::replay(db, plugins, &options, &runtime::Quiet)
        .await
        .expect("replay runs")
}

/// Replay driven by `control` (a batch limit, the follow loop's backoff).
pub async fn replay_controlled(
    db: &Db,
    plugins: &mut [Plugin],
    options: ReplayOptions,
    control: runtime::Control,
) -> Vec<runtime::FamilyReport> {
    runtime::replay_controlled(db, plugins, &options, &control, &runtime::Quiet)
        .await
        .expect("replay runs")
}

/// Compare with a golden JSON file; `UPDATE_EXPECT=1` rewrites it.
pub fn assert_golden(name: &str, actual: &Json) {
    let path = fixture(name);
    if std::env::var("UPDATE_EXPECT").is_ok_and(|v| v == "1") {
        let text = serde_json::to_string_pretty(actual).expect("json") + "\n";
        std::fs::write(&path, text).expect("write golden file");
        return;
    }
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_EXPECT=1", path.display()));
    let expected: Json = serde_json::from_str(&text).expect("golden file is JSON");
    if &expected != actual {
        let got = serde_json::to_string_pretty(actual).expect("json");
        panic!("{} differs from the projection:\n{got}", path.display());
    }
}

/// Run the command line in this process, on a thread of its own (it starts
/// its own runtime), against `url` with the plugins in `plugins` and the
/// compile cache in `cache`; its exit code. A command that errs fails the
/// test.
pub async fn run_cli(
    url: &str,
    plugins: &str,
    cache: &str,
    args: &[&str],
) -> std::process::ExitCode {
    use clap::Parser as _;
    let argv: Vec<String> = [
        "projector",
        "--database-url",
        url,
        "--plugins",
        plugins,
        "--cache",
        cache,
    ]
    .iter()
    .chain(args)
    .map(|a| (*a).to_owned())
    .collect();
    tokio::task::spawn_blocking(move || {
        std::thread::spawn(move || {
            host::cli::run(host::cli::Cli::parse_from(argv)).expect("the command runs")
        })
        .join()
        .unwrap()
    })
    .await
    .unwrap()
}

/// A property-test run: how many cases (`PROJECTOR_PROPTEST_CASES`, else
/// `default_cases`), the seed (`PROJECTOR_PROPTEST_SEED`, else the time, so
/// a failure names the seed that repeats it), a runner seeded with it, and
/// a runtime to drive each case's checks on.
pub struct Proptest {
    pub cases: u32,
    pub seed: u64,
    pub runner: proptest::test_runner::TestRunner,
    pub rt: tokio::runtime::Runtime,
}

pub fn proptest_run(default_cases: u32) -> Proptest {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let cases = std::env::var("PROJECTOR_PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default_cases);
    let seed: u64 = std::env::var("PROJECTOR_PROPTEST_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs())
        });
    let mut seed_bytes = [0_u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    Proptest {
        cases,
        seed,
        runner,
        rt,
    }
}
