//! Beside Zitadel: every kind of writer Zitadel's event store sees appends
//! to shared tenants while `run` follows, and no event is lost under the
//! default read barrier (`xact`), nor under `locks` for the writers that
//! take a lock; an event store projector did not create is left exactly as
//! it was; `xact` refuses a role that cannot see other sessions; an event
//! committed below a checkpoint shows in `status` and in `run`'s log.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::str::FromStr as _;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Parser as _;
use host::cli::{self, Cli};
use host::plugin::Plugin;
use host::runtime::follow::{FollowOptions, warn_missed};
use host::runtime::{self, ReplayOptions};
use host::source::import;
use host::source::order::BarrierMode;
use host::store::{Db, state};
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::sync::watch;

use crate::live::{follower_with, pauses_below, wait_until_caught_up};
use crate::support::{self, Store};

/// Concurrent writers.
const WRITERS: usize = 6;
/// Transactions per writer, one event each.
const PUSHES: usize = 25;
/// Tenants the writers share.
const TENANTS: usize = 2;
/// Longest pause inside a transaction before its insert, and again after it.
const MAX_PAUSE_MS: u64 = 150;

/// How a writer appends an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// Zitadel's current push: `pg_advisory_xact_lock_shared(events2 oid,
    /// hashtext(instance_id))`, then the position from `clock_timestamp()`.
    ZitadelPush,
    /// Zitadel's older writers: the position from `now()` (the transaction's
    /// start), no lock.
    NowStamped,
    /// No lock, the position from `clock_timestamp()`.
    LockFree,
    /// projector's own import.
    Import,
}

/// One transaction of `writer` appending `org.added` for a new org, with
/// pauses inside it before and after the insert.
async fn push(
    writer: Writer,
    zitadel: &PgPool,
    db: &Db,
    tenant: &str,
    org: &str,
    before: Duration,
    after: Duration,
) {
    let payload = json!({"name": format!("{org} of {tenant}")});
    if writer == Writer::Import {
        let line = json!({
            "instance_id": tenant, "aggregate_type": "org", "aggregate_id": org,
            "event_type": "org.added", "owner": org, "payload": payload,
            "created_at": "2026-03-01T00:00:00Z"
        });
        let parsed = import::parse(&format!("{line}\n"), "writer").unwrap();
        import::append_with_pause(db, &parsed, Some(before + after))
            .await
            .unwrap();
        return;
    }
    let mut tx = zitadel.begin().await.unwrap();
    if writer == Writer::ZitadelPush {
        sqlx::query(
            "SELECT pg_advisory_xact_lock_shared('eventstore.events2'::regclass::oid::int, hashtext($1))",
        )
        .bind(tenant)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tokio::time::sleep(before).await;
    let position = match writer {
        Writer::NowStamped => "EXTRACT(EPOCH FROM now())",
        _ => "EXTRACT(EPOCH FROM clock_timestamp())",
    };
    sqlx::query(&format!(
        "INSERT INTO eventstore.events2 (instance_id, aggregate_type, aggregate_id, event_type, \
         \"sequence\", revision, created_at, payload, creator, \"owner\", \"position\", in_tx_order) \
         VALUES ($1, 'org', $2, 'org.added', 1, 1, now(), $3::jsonb, 'writer', $2, {position}, 1)"
    ))
    .bind(tenant)
    .bind(org)
    .bind(payload.to_string())
    .execute(&mut *tx)
    .await
    .unwrap();
    tokio::time::sleep(after).await;
    tx.commit().await.unwrap();
}

/// Every event applied exactly once: no failure, one row per event, every
/// tenant's checkpoint has consumed all its events and none lies after or
/// below it unapplied, and a rebuild from zero applies as many events and
/// leaves the same tables.
async fn assert_applied_once(db: &Db, plugins: &mut [Plugin], total: usize, what: &str) {
    assert!(state::failures(db).await.unwrap().is_empty());
    let live = support::dump_all(db, plugins).await;
    let lag = runtime::lag(db, &plugins[0]).await.unwrap();
    let missed: i64 = lag.iter().map(|l| l.missed()).sum();
    let rows = live["orgs_projection"].len();
    assert_eq!(
        rows,
        total,
        "{what}: {} of {total} events were never applied ({missed} of them below a checkpoint)",
        total.saturating_sub(rows)
    );
    assert_eq!(lag.len(), TENANTS);
    for tenant in &lag {
        assert_eq!(tenant.after_checkpoint, 0, "{tenant:?}");
        assert_eq!(tenant.consumed, Some(tenant.at_or_below), "{tenant:?}");
    }
    let consumed: i64 = state::checkpoints(db)
        .await
        .unwrap()
        .iter()
        .map(|c| c.n_consumed)
        .sum();
    assert_eq!(consumed, i64::try_from(total).unwrap());
    let rebuild = ReplayOptions {
        from_start: true,
        ..ReplayOptions::default()
    };
    let reports = support::replay(db, plugins, rebuild).await;
    assert_eq!(reports[0].n_applied, total as u64);
    assert_eq!(support::dump_all(db, plugins).await, live);
}

/// `WRITERS` writers of one kind, `PUSHES` transactions each with random
/// pauses inside, on `TENANTS` shared tenants, while `run` follows with
/// `barrier`; then every event must have been applied exactly once.
async fn writers_lose_nothing(writer: Writer, barrier: BarrierMode) {
    let t = support::test_db(Store::Postgres).await;
    let zitadel = PgPoolOptions::new()
        .max_connections(WRITERS as u32)
        .connect_with(
            PgConnectOptions::from_str(&t.url)
                .unwrap()
                .application_name("zitadel"),
        )
        .await
        .unwrap();
    let mut plugins = support::plugins(&["orgs"]);
    let (stop, stop_rx) = watch::channel(false);
    let options = FollowOptions {
        batch_size: 20,
        poll_interval: Duration::from_millis(5),
        barrier,
        ..FollowOptions::default()
    };
    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (db, zitadel) = (t.db.clone(), zitadel.clone());
            tokio::spawn(async move {
                let seed = w as u64 + 1;
                let before = pauses_below(seed, PUSHES, MAX_PAUSE_MS);
                let after = pauses_below(seed * 7919, PUSHES, MAX_PAUSE_MS);
                for k in 0..PUSHES {
                    let tenant = format!("tenant-{}", (w + k) % TENANTS);
                    let org = format!("org-{w}-{k}");
                    push(writer, &zitadel, &db, &tenant, &org, before[k], after[k]).await;
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
    let (followed, writing) =
        tokio::join!(follower_with(&t.db, &["orgs"], &options, stop_rx), work);
    followed.unwrap();
    let total = WRITERS * PUSHES;
    let what = format!("{writer:?} writers, barrier {barrier}");
    assert_applied_once(&t.db, &mut plugins, total, &what).await;
    eprintln!("{what}: {total} events from {WRITERS} writers over {writing:?}, all applied once");
    zitadel.close().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zitadel_pushes_lose_nothing_under_xact() {
    writers_lose_nothing(Writer::ZitadelPush, BarrierMode::Xact).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn now_stamped_writers_lose_nothing_under_xact() {
    writers_lose_nothing(Writer::NowStamped, BarrierMode::Xact).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_free_writers_lose_nothing_under_xact() {
    writers_lose_nothing(Writer::LockFree, BarrierMode::Xact).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projector_imports_lose_nothing_under_xact() {
    writers_lose_nothing(Writer::Import, BarrierMode::Xact).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zitadel_pushes_lose_nothing_under_locks() {
    writers_lose_nothing(Writer::ZitadelPush, BarrierMode::Locks).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projector_imports_lose_nothing_under_locks() {
    writers_lose_nothing(Writer::Import, BarrierMode::Locks).await;
}

/// Zitadel's `eventstore.events2` as its setup leaves it: the columns,
/// primary key and indexes of the reference (§0.1), and its unique
/// constraints table beside it.
const ZITADEL_EVENT_STORE: &[&str] = &[
    "CREATE SCHEMA eventstore",
    "CREATE TABLE eventstore.events2 (
        instance_id TEXT NOT NULL,
        aggregate_type TEXT NOT NULL,
        aggregate_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        \"sequence\" BIGINT NOT NULL,
        revision SMALLINT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        payload JSONB,
        creator TEXT NOT NULL,
        \"owner\" TEXT NOT NULL,
        \"position\" DECIMAL NOT NULL,
        in_tx_order INTEGER NOT NULL,
        PRIMARY KEY (instance_id, aggregate_type, aggregate_id, \"sequence\")
    )",
    "CREATE INDEX es_active_instances ON eventstore.events2 (created_at DESC, instance_id)",
    "CREATE INDEX es_wm ON eventstore.events2 (instance_id, aggregate_id, aggregate_type, event_type, \"position\")",
    "CREATE INDEX es_projection ON eventstore.events2 (instance_id, aggregate_type, event_type, \"position\")",
    "CREATE INDEX events2_current_sequence2 ON eventstore.events2 (aggregate_id, aggregate_type, instance_id, \"sequence\" DESC)",
    "CREATE INDEX active_instances_events ON eventstore.events2 (aggregate_type, event_type) \
     WHERE aggregate_type = 'instance' AND event_type IN ('instance.added', 'instance.removed')",
    "CREATE TABLE eventstore.unique_constraints (
        instance_id TEXT NOT NULL,
        unique_type TEXT NOT NULL,
        unique_field TEXT NOT NULL,
        PRIMARY KEY (instance_id, unique_type, unique_field)
    )",
];

/// Everything in schema `eventstore`: relations (with index definitions),
/// columns, constraints, triggers, functions, types; one sorted line each.
async fn eventstore_catalog(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT line FROM ( \
           SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' ' || pg_get_userbyid(c.relowner) \
                  || COALESCE(' ' || pg_get_indexdef(c.oid), '') AS line \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'eventstore' \
           UNION ALL \
           SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) \
                  || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END \
                  || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '') \
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
           WHERE n.nspname = 'eventstore' AND a.attnum > 0 AND NOT a.attisdropped \
           UNION ALL \
           SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(co.oid) \
           FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = 'eventstore' \
           UNION ALL \
           SELECT 'trigger ' || t.tgname || ' ' || pg_get_triggerdef(t.oid) \
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'eventstore' \
           UNION ALL \
           SELECT 'function ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) \
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'eventstore' \
           UNION ALL \
           SELECT 'type ' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
           WHERE n.nspname = 'eventstore' \
         ) catalog ORDER BY line",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// An event store projector did not create is someone else's: projector
/// imports into it and projects from it, and creates nothing in schema
/// `eventstore` (no table, index, trigger or function), opened once or
/// again; the notify trigger comes only on request, and alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_event_store_is_left_as_it_is() {
    let (name, url) = support::empty_postgres_database().await;
    let zitadel = PgPool::connect(&url).await.unwrap();
    for statement in ZITADEL_EVENT_STORE {
        sqlx::query(statement).execute(&zitadel).await.unwrap();
    }
    let before = eventstore_catalog(&zitadel).await;
    assert!(
        before
            .iter()
            .any(|l| l.starts_with("relation es_projection i"))
    );

    let db = Db::open(&url).await.unwrap();
    assert!(!db.has_notify_trigger().await.unwrap());
    // No look-up index here: look-ups compare as the store's own indexes do.
    assert_eq!(host::store::lookup_index::collate(&db), "");
    let n = support::import_file(&db, &support::repo_root().join("samples/demo.jsonl")).await;
    assert_eq!(n, 94);
    let mut plugins = support::plugins(&["instances", "orgs"]);
    let reports = support::replay(&db, &mut plugins, ReplayOptions::default()).await;
    assert!(
        reports
            .iter()
            .all(|r| r.refused.is_none() && r.n_failed == 0)
    );
    let tables = support::dump_all(&db, &plugins).await;
    support::assert_golden("demo.expected.json", &json!(tables));
    db.close().await;

    let db = Db::open(&url).await.unwrap();
    let reports = support::replay(&db, &mut plugins, ReplayOptions::default()).await;
    assert!(reports.iter().all(|r| r.n_applied == 0));
    assert_eq!(eventstore_catalog(&zitadel).await, before);
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM projector._sqlx_migrations ORDER BY version")
            .fetch_all(&zitadel)
            .await
            .unwrap();
    assert_eq!(versions, [2, 4, 5, 6, 7, 8, 9]);
    // What the left-out migration 0003 adds to the host's tables is there.
    let host_columns: Vec<String> = sqlx::query_scalar(
        "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = 'projector' AND column_name IN ('id', 'retry_after', 'skipped_by') \
         ORDER BY 1",
    )
    .fetch_all(&zitadel)
    .await
    .unwrap();
    assert_eq!(
        host_columns,
        [
            "projector_failed_events.id",
            "projector_failed_events.retry_after",
            "projector_skipped_events.id",
            "projector_skipped_events.skipped_by"
        ]
    );

    // The operator's opt-in adds the trigger, and nothing else, there.
    assert!(db.install_notify_trigger().await.unwrap());
    assert!(db.has_notify_trigger().await.unwrap());
    let with_trigger = eventstore_catalog(&zitadel).await;
    let added: Vec<&String> = with_trigger
        .iter()
        .filter(|l| !before.contains(l))
        .collect();
    assert!(before.iter().all(|l| with_trigger.contains(l)));
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(
        added[0].starts_with("trigger projector_notify_events "),
        "{added:?}"
    );
    db.close().await;
    zitadel.close().await;
    support::drop_postgres_database(&name).await;
}

/// `url` with another user and database.
fn url_for(url: &str, user: &str, database: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let host = host.split('/').next().unwrap();
    format!("{scheme}://{user}@{host}/{database}")
}

/// `common` then `more`.
fn joined<'a>(common: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    common.iter().chain(more).copied().collect()
}

fn run_cli(args: &[&str]) -> Result<std::process::ExitCode, String> {
    let mut argv = vec!["projector"];
    argv.extend_from_slice(args);
    cli::run(Cli::parse_from(argv)).map_err(|e| format!("{e:#}"))
}

/// A role without the privileges of `pg_read_all_stats` cannot see other
/// roles' transactions: `replay` and `run` refuse the default barrier with
/// a message naming the privilege and the alternative; `--barrier locks`
/// is the operator's explicit choice; the granted privilege makes `xact`
/// work.
#[test]
fn the_default_barrier_refuses_a_role_that_cannot_see_other_sessions() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let role = format!("projector_test_role_{}", std::process::id());
    let database = format!("{role}_db");
    let admin = runtime.block_on(async {
        let admin = PgPool::connect(&support::admin_url()).await.unwrap();
        for statement in [
            format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            format!("DROP ROLE IF EXISTS {role}"),
            format!("CREATE ROLE {role} LOGIN"),
            format!("CREATE DATABASE {database} OWNER {role}"),
        ] {
            sqlx::query(&statement).execute(&admin).await.unwrap();
        }
        admin
    });
    let url = url_for(&support::admin_url(), &role, &database);
    let plugins = support::plugin_dir(&["orgs"]);
    let cache = tempfile::tempdir().unwrap();
    let common = [
        "--database-url",
        url.as_str(),
        "--plugins",
        plugins.path().to_str().unwrap(),
        "--cache",
        cache.path().to_str().unwrap(),
    ];
    let with = |more: &[&'static str]| joined(&common, more);

    for command in [&["replay"][..], &["run"][..]] {
        let error = run_cli(&with(command)).unwrap_err();
        assert!(
            error.contains("pg_read_all_stats")
                && error.contains("--barrier locks")
                && error.contains(&role),
            "{error}"
        );
    }
    assert!(run_cli(&with(&["replay", "--barrier", "locks"])).is_ok());
    runtime.block_on(async {
        sqlx::query(&format!("GRANT pg_read_all_stats TO {role}"))
            .execute(&admin)
            .await
            .unwrap();
    });
    assert!(run_cli(&with(&["replay"])).is_ok());

    runtime.block_on(async {
        for statement in [
            format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            format!("DROP ROLE IF EXISTS {role}"),
        ] {
            sqlx::query(&statement).execute(&admin).await.unwrap();
        }
        admin.close().await;
    });
}

const CHILD_ENV: &str = "PROJECTOR_ZITADEL_CHILD";

/// The child process of the tests below: the command line in
/// `PROJECTOR_ZITADEL_CHILD` (one argument a line), with logging as
/// `projector` has it.
#[test]
#[ignore = "run by the zitadel tests as their child process"]
fn child_cli() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let cli = Cli::parse_from(std::iter::once("projector").chain(spec.lines()));
    host::telemetry::init(cli.verbose);
    if let Err(e) = cli::run(cli) {
        panic!("projector failed: {e:#}");
    }
}

fn spawn_cli(args: &[&str]) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "zitadel::child_cli", "--ignored", "--nocapture"])
        .env(CHILD_ENV, args.join("\n"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Insert, with plain SQL, an `org.added` below every stored position: a
/// writer that ignored the ordering protocol and committed late.
async fn write_below_the_checkpoints(db: &Db, tenant: &str) {
    match db {
        Db::Postgres(pool) => {
            sqlx::query(
                "INSERT INTO eventstore.events2 (instance_id, aggregate_type, aggregate_id, event_type, \
                 \"sequence\", revision, created_at, payload, creator, \"owner\", \"position\", in_tx_order) \
                 SELECT $1, 'org', 'org-late', 'org.added', 1, 1, now(), '{\"name\": \"Late\"}', 'writer', \
                 'org-late', MIN(\"position\") - 1, 1 FROM eventstore.events2",
            )
            .bind(tenant)
            .execute(pool)
            .await
            .unwrap();
        }
        Db::Sqlite(pool) => {
            sqlx::query(
                "INSERT INTO events2 (instance_id, aggregate_type, aggregate_id, event_type, \
                 \"sequence\", revision, created_at, payload, creator, \"owner\", \"position\", in_tx_order) \
                 SELECT ?, 'org', 'org-late', 'org.added', 1, 1, '2026-03-01T00:00:00.000000Z', \
                 '{\"name\": \"Late\"}', 'writer', 'org-late', MIN(\"position\") - 1, 1 FROM events2",
            )
            .bind(tenant)
            .execute(pool)
            .await
            .unwrap();
        }
    }
}

/// A late event below a tenant's checkpoint is counted as behind (not 0),
/// reported as missed, found by `run`'s check, and applied by a rebuild
/// of the tenant.
async fn a_late_event_below_the_checkpoint_shows(store: Store) {
    let t = support::test_db(store).await;
    let org = |tenant: &str, id: &str| {
        json!({"instance_id": tenant, "aggregate_type": "org", "aggregate_id": id,
               "event_type": "org.added", "owner": id, "payload": {"name": id}})
    };
    support::import_json(
        &t.db,
        &[org("t1", "org-1"), org("t1", "org-2"), org("t2", "org-3")],
    )
    .await;
    let mut plugins = support::plugins(&["orgs"]);
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    let lag = runtime::lag(&t.db, &plugins[0]).await.unwrap();
    assert!(lag.iter().all(|l| l.behind() == 0), "{lag:?}");

    write_below_the_checkpoints(&t.db, "t1").await;
    let lag = runtime::lag(&t.db, &plugins[0]).await.unwrap();
    let t1 = lag.iter().find(|l| l.instance_id == "t1").unwrap();
    assert_eq!((t1.after_checkpoint, t1.missed(), t1.behind()), (0, 1, 1));
    let t2 = lag.iter().find(|l| l.instance_id == "t2").unwrap();
    assert_eq!(t2.behind(), 0);
    // A replay from the checkpoints cannot reach it.
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    assert_eq!(reports[0].n_applied, 0);
    let families = [(
        "orgs".to_owned(),
        plugins[0].description.subscriptions.clone(),
    )];
    let missed = warn_missed(&t.db, &families).await.unwrap();
    assert_eq!(missed.len(), 1);
    assert_eq!(
        (missed[0].instance_id.as_str(), missed[0].n_events),
        ("t1", 1)
    );

    if store == Store::Postgres {
        status_and_run_report_it(&t.url).await;
    }

    // Rebuilding the tenant applies it.
    let rebuild = ReplayOptions {
        instance_id: Some("t1".into()),
        from_start: true,
        ..ReplayOptions::default()
    };
    let reports = support::replay(&t.db, &mut plugins, rebuild).await;
    assert_eq!(reports[0].n_applied, 3);
    let lag = runtime::lag(&t.db, &plugins[0]).await.unwrap();
    assert!(lag.iter().all(|l| l.behind() == 0), "{lag:?}");
    let rows = support::dump_all(&t.db, &plugins).await;
    assert_eq!(rows["orgs_projection"].len(), 4);
    t.finish().await;
}

/// `projector status` shows the late event as behind and missed, and
/// `projector run` logs a warning naming the tenant.
async fn status_and_run_report_it(url: &str) {
    let plugins = support::plugin_dir(&["orgs"]);
    let cache = tempfile::tempdir().unwrap();
    let common = [
        "--database-url",
        url,
        "--plugins",
        plugins.path().to_str().unwrap(),
        "--cache",
        cache.path().to_str().unwrap(),
    ];
    let with = |more: &[&'static str]| joined(&common, more);

    let status = spawn_cli(&with(&["status"]));
    let output = tokio::task::spawn_blocking(move || status.wait_with_output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let t1_row = stdout
        .lines()
        .find(|l| l.starts_with("orgs ") && l.split_whitespace().nth(1) == Some("t1"))
        .unwrap_or_else(|| panic!("no row for t1 in\n{stdout}"));
    assert_eq!(t1_row.split_whitespace().nth(3), Some("1"), "{stdout}");
    assert!(
        stdout.contains("missed: orgs t1: 1 missed below the checkpoint")
            && stdout.contains("a writer broke the ordering protocol; rebuild the tenant"),
        "{stdout}"
    );

    let mut run = spawn_cli(&with(&["run", "--poll-ms", "50"]));
    let stderr = run.stderr.take().unwrap();
    let (lines_tx, lines_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let warned = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match lines_rx.recv_timeout(left) {
                Ok(line) => {
                    let found =
                        line.contains("1 missed below the checkpoint") && line.contains("t1");
                    seen.push(line);
                    if found {
                        return Ok(seen);
                    }
                }
                Err(_) => break,
            }
        }
        Err(seen)
    })
    .await
    .unwrap();
    let _ = run.kill();
    let mut rest = String::new();
    if let Some(mut out) = run.stdout.take() {
        let _ = out.read_to_string(&mut rest);
    }
    let _ = run.wait();
    if let Err(seen) = warned {
        panic!("run did not warn; its log:\n{}", seen.join("\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_event_below_the_checkpoint_shows_on_postgres() {
    a_late_event_below_the_checkpoint_shows(Store::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_event_below_the_checkpoint_shows_on_sqlite() {
    a_late_event_below_the_checkpoint_shows(Store::Sqlite).await;
}
