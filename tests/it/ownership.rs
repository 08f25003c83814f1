//! The host owns the set of names: a family creates and writes only the
//! tables and views it created itself.
//!
//! Hostile declarations (the event store's table, every host table, a table
//! or view projector did not create, another family's table or index, views
//! named like any of these, a new name two loaded families both claim) are
//! refused at install, before anything is created, with the table and its
//! owner named. Nothing is written: the database after the replay equals the
//! database after the same replay without the hostile families, event store
//! and host tables included, and the real `orgs` family keeps projecting in
//! the same replay. Also: where the tables live on PostgreSQL (`--schema`),
//! databases from before the host schema and the ownership records, and
//! constants in SQL text (column defaults, view literals) whatever the
//! server's string settings.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Parser as _;
use host::cli::{self, Cli};
use host::plugin::{NativeHandle, Outcome, Plugin};
use host::runtime::{FamilyReport, ReplayOptions};
use host::store::{Db, StoreError, ddl, dump, state};
use projection_sdk::{ColumnType, Context, Description, Event, Table, Value, View, delete, upsert};
use serde_json::{Value as Json, json};

use crate::support::{self, Store};

/// Every table the host's migrations create.
const HOST_TABLES: &[&str] = &[
    "_sqlx_migrations",
    "projector_checkpoints",
    "projector_failed_events",
    "projector_families",
    "projector_hosts",
    "projector_leases",
    "projector_plugins",
    "projector_skipped_events",
    "projector_tables",
];

/// Events with explicit positions, so that two databases hold the same.
#[derive(Default)]
struct Stream {
    n: i64,
}

impl Stream {
    fn event(&mut self, tenant: &str, aggregate: (&str, &str), kind: &str, payload: Json) -> Json {
        self.n += 1;
        let n = self.n;
        json!({
            "instance_id": tenant,
            "aggregate_type": aggregate.0,
            "aggregate_id": aggregate.1,
            "event_type": kind,
            "sequence": n,
            "revision": 1,
            "created_at": format!("2026-03-01T10:{:02}:{:02}Z", n / 60, n % 60),
            "payload": payload,
            "creator": "admin",
            "owner": tenant,
            "position": 1_772_000_000 + n,
            "in_tx_order": 1,
        })
    }

    /// Orgs and users of two tenants.
    fn first(&mut self) -> Vec<Json> {
        let mut events = Vec::new();
        for tenant in ["t1", "t2"] {
            events.push(self.event(
                tenant,
                ("org", "o1"),
                "org.added",
                json!({"name": "Org one"}),
            ));
            events.push(self.event(
                tenant,
                ("org", "o2"),
                "org.added",
                json!({"name": "Org two"}),
            ));
            events.push(self.event(
                tenant,
                ("user", "u1"),
                "user.human.added",
                json!({"userName": "ann", "firstName": "Ann", "lastName": "A", "email": "a@x.test"}),
            ));
            events.push(self.event(
                tenant,
                ("org", "o1"),
                "org.changed",
                json!({"name": "Org uno"}),
            ));
        }
        events
    }

    /// More of the same, after the first.
    fn second(&mut self) -> Vec<Json> {
        vec![
            self.event(
                "t1",
                ("org", "o3"),
                "org.added",
                json!({"name": "Org three"}),
            ),
            self.event("t2", ("org", "o2"), "org.removed", json!({})),
            self.event("t2", ("user", "u2"), "user.removed", json!({})),
        ]
    }
}

/// Run plain SQL on either store.
async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        Db::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The first column of every row, as text.
async fn strings(db: &Db, sql: &str) -> Vec<String> {
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every relation in the database, with its schema on PostgreSQL.
async fn catalog(db: &Db) -> Vec<String> {
    match db {
        Db::Sqlite(_) => strings(db, "SELECT type || ' ' || name FROM sqlite_master ORDER BY 1").await,
        Db::Postgres(_) => {
            strings(
                db,
                "SELECT c.relkind::text || ' ' || n.nspname || '.' || c.relname FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname <> 'information_schema' AND left(n.nspname, 3) <> 'pg_' ORDER BY 1",
            )
            .await
        }
    }
}

/// Tables and views of one PostgreSQL schema.
async fn relations_in(db: &Db, schema: &str) -> Vec<String> {
    let sql = format!(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'v', 'p', 'm', 'f') ORDER BY 1"
    );
    strings(db, &sql).await
}

/// The host's tables as the catalog has them.
async fn host_tables(db: &Db) -> Vec<String> {
    match db {
        Db::Sqlite(_) => {
            strings(
                db,
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND (substr(name, 1, 10) = 'projector_' OR name = '_sqlx_migrations') ORDER BY 1",
            )
            .await
        }
        Db::Postgres(_) => relations_in(db, "projector").await,
    }
}

/// Everything a hostile family could have touched: the events, the host's
/// tables (without wall-clock times), the catalog, the pre-existing table,
/// and the orgs family's tables once it is installed.
async fn snapshot(db: &Db) -> BTreeMap<String, Vec<String>> {
    let mut s = BTreeMap::new();
    let events = format!(
        "SELECT instance_id || '/' || aggregate_type || '/' || aggregate_id || '/' || \
         CAST(\"sequence\" AS TEXT) || '/' || event_type FROM {} ORDER BY 1",
        db.events_table()
    );
    s.insert("events".into(), strings(db, &events).await);
    s.insert("catalog".into(), catalog(db).await);
    let checkpoints = state::checkpoints(db).await.unwrap();
    s.insert(
        "checkpoints".into(),
        checkpoints.iter().map(|c| format!("{c:?}")).collect(),
    );
    let failures = state::failures(db).await.unwrap();
    s.insert(
        "failures".into(),
        failures
            .iter()
            .map(|f| {
                format!(
                    "{} {} {} {}",
                    f.family, f.instance_id, f.event_type, f.error
                )
            })
            .collect(),
    );
    let skipped = state::skipped(db).await.unwrap();
    s.insert(
        "skipped".into(),
        skipped.iter().map(|k| format!("{k:?}")).collect(),
    );
    let owned = state::owned_relations(db).await.unwrap();
    s.insert(
        "owned".into(),
        owned.iter().map(|o| format!("{o:?}")).collect(),
    );
    for (key, sql) in [
        (
            "families",
            "SELECT name || ' ' || version || ' ' || plugin_hash FROM projector_families ORDER BY 1",
        ),
        (
            "plugins",
            "SELECT family || ' ' || hash FROM projector_plugins ORDER BY 1",
        ),
        (
            "migrations",
            "SELECT CAST(version AS TEXT) FROM _sqlx_migrations ORDER BY 1",
        ),
        (
            "legacy",
            "SELECT instance_id || ' ' || secret FROM legacy_accounts ORDER BY 1",
        ),
    ] {
        s.insert(key.into(), strings(db, sql).await);
    }
    if state::stored_description(db, "orgs")
        .await
        .unwrap()
        .is_some()
    {
        let orgs = support::plugins(&["orgs"]);
        for (table, rows) in support::dump_all(db, &orgs).await {
            s.insert(
                table,
                rows.iter()
                    .map(|r| Json::Object(r.clone()).to_string())
                    .collect(),
            );
        }
    }
    s
}

/// A fresh store with the events imported and a table and a view that
/// projector did not create.
async fn prepared(store: Store, events: &[Json]) -> support::TestDb {
    let t = support::test_db(store).await;
    support::import_json(&t.db, events).await;
    exec(
        &t.db,
        "CREATE TABLE legacy_accounts (instance_id TEXT NOT NULL, secret TEXT NOT NULL, \
         PRIMARY KEY (instance_id, secret)); \
         INSERT INTO legacy_accounts (instance_id, secret) VALUES ('t1', 's'); \
         CREATE VIEW legacy_report AS SELECT instance_id, secret FROM legacy_accounts",
    )
    .await;
    t
}

/// (family, the table it declares and attacks, a column to attack by, a value)
const TABLE_ATTACKS: &[(&str, &str, &str, &str)] = &[
    ("h_events", "events2", "aggregate_type", "user"),
    (
        "h_qualified",
        "eventstore.events2",
        "aggregate_type",
        "user",
    ),
    ("h_checkpoints", "projector_checkpoints", "family", "orgs"),
    ("h_failed", "projector_failed_events", "family", "orgs"),
    ("h_skipped", "projector_skipped_events", "family", "orgs"),
    ("h_families", "projector_families", "name", "orgs"),
    ("h_plugins", "projector_plugins", "family", "orgs"),
    ("h_tables", "projector_tables", "family", "orgs"),
    ("h_hosts", "projector_hosts", "host", "h1"),
    ("h_leases", "projector_leases", "family", "orgs"),
    ("h_migrations", "_sqlx_migrations", "description", "x"),
    ("h_legacy", "legacy_accounts", "secret", "s"),
    ("h_legacy_view", "legacy_report", "secret", "s"),
];

/// Delete the attacked rows (only ever runs if the declaration got through).
fn attack<const N: usize>(_event: &Event, _ctx: &Context<'_>) -> Outcome {
    let (_, table, column, value) = TABLE_ATTACKS[N];
    Ok(vec![delete(table).eq(column, value).build()])
}

const ATTACK_HANDLERS: [NativeHandle; 13] = [
    attack::<0>,
    attack::<1>,
    attack::<2>,
    attack::<3>,
    attack::<4>,
    attack::<5>,
    attack::<6>,
    attack::<7>,
    attack::<8>,
    attack::<9>,
    attack::<10>,
    attack::<11>,
    attack::<12>,
];

/// A family claiming `table`, keyed by the tenant and `column`.
fn claims(family: &str, table: &str, column: &str) -> Description {
    Description::new(family, "0.1.0")
        .table(
            Table::new(table)
                .column("instance_id", ColumnType::Text)
                .column(column, ColumnType::Text)
                .primary_key(&["instance_id", column]),
        )
        .subscribe("org", &["org.added", "org.changed", "org.removed"])
        .subscribe("user", &["user.human.added", "user.removed"])
}

/// A family with a table of its own and a view named `name`.
fn view_named(family: &str, name: &str) -> Description {
    let base = format!("{family}_base");
    let mut view = View::new(name, &base, "b");
    let tenant = view.column("b", "instance_id");
    view.output("instance_id", tenant);
    claims(family, &base, "id").view(view)
}

fn quiet(_event: &Event, _ctx: &Context<'_>) -> Outcome {
    Ok(Vec::new())
}

/// The reported attack: `projector_checkpoints` column for column, and a
/// checkpoint for `orgs` far in the future.
fn forge_checkpoint(event: &Event, _ctx: &Context<'_>) -> Outcome {
    Ok(vec![
        upsert("projector_checkpoints", &["instance_id", "family"])
            .value("family", "orgs")
            .value("position", 9_999_999_999_i64)
            .value("in_tx_order", 1)
            .value("aggregate_type", "org")
            .value("aggregate_id", "zzz")
            .value("sequence", 1)
            .value("event_date", Value::Timestamp(event.created_at))
            .value("plugin_version", "forged")
            .value("updated_at", Value::Timestamp(event.created_at))
            .no_bump()
            .build(),
    ])
}

fn forger() -> Plugin {
    let table = Table::new("projector_checkpoints")
        .column("instance_id", ColumnType::Text)
        .column("family", ColumnType::Text)
        .column("position", ColumnType::Int)
        .column("in_tx_order", ColumnType::Int)
        .column("aggregate_type", ColumnType::Text)
        .column("aggregate_id", ColumnType::Text)
        .column("sequence", ColumnType::Int)
        .column("event_date", ColumnType::Timestamp)
        .column("plugin_version", ColumnType::Text)
        .column("updated_at", ColumnType::Timestamp)
        .primary_key(&["instance_id", "family"]);
    let description = Description::new("h_forge", "0.1.0")
        .table(table)
        .subscribe("org", &["org.added"]);
    Plugin::native(description, forge_checkpoint)
}

/// What the owner of each attacked name is called in a refusal.
fn owner_phrase(name: &str) -> &'static str {
    match name {
        "events2" | "eventstore.events2" => "belongs to the event store",
        "legacy_accounts" | "legacy_report" => "exists but was not created by projector",
        _ => "belongs to the host",
    }
}

fn report<'a>(reports: &'a [FamilyReport], family: &str) -> &'a FamilyReport {
    reports
        .iter()
        .find(|r| r.family == family)
        .unwrap_or_else(|| panic!("no report for {family}: {reports:?}"))
}

fn assert_refused(reports: &[FamilyReport], family: &str, kind: &str, name: &str, phrase: &str) {
    let report = report(reports, family);
    let error = report
        .refused
        .as_deref()
        .unwrap_or_else(|| panic!("{family} was not refused"));
    let wanted = format!("family \"{family}\": {kind} \"{name}\" {phrase}");
    assert!(
        error.contains(&wanted),
        "{family}: {error}\nwanted: {wanted}"
    );
    assert_eq!(
        (report.n_applied, report.n_failed, report.n_batches),
        (0, 0, 0),
        "{family}"
    );
}

/// The real orgs family, the WASM guest claiming `events2`, and a native
/// family per hostile declaration.
fn hostile_set() -> Vec<Plugin> {
    let mut plugins = support::plugins(&["orgs", "hostile_tables"]);
    plugins.push(forger());
    for (i, (family, table, column, _)) in TABLE_ATTACKS.iter().enumerate() {
        plugins.push(Plugin::native(
            claims(family, table, column),
            ATTACK_HANDLERS[i],
        ));
    }
    for (i, (_, name, _, _)) in TABLE_ATTACKS.iter().enumerate() {
        let family = format!("h_view_{i}");
        plugins.push(Plugin::native(view_named(&family, name), quiet));
    }
    // Two families claiming one new name: neither may take it first.
    plugins.push(Plugin::native(
        claims("c_one", "shared_projection", "id"),
        quiet,
    ));
    plugins.push(Plugin::native(
        claims("c_two", "shared_projection", "id"),
        quiet,
    ));
    plugins
}

fn assert_hostile_set_refused(reports: &[FamilyReport]) {
    let orgs = report(reports, "orgs");
    assert_eq!(orgs.refused, None);
    assert!(orgs.n_applied > 0, "{orgs:?}");
    assert_refused(
        reports,
        "hostile_tables",
        "table",
        "events2",
        "belongs to the event store",
    );
    assert_refused(
        reports,
        "h_forge",
        "table",
        "projector_checkpoints",
        "belongs to the host",
    );
    for (i, (family, table, _, _)) in TABLE_ATTACKS.iter().enumerate() {
        assert_refused(reports, family, "table", table, owner_phrase(table));
        let viewer = format!("h_view_{i}");
        assert_refused(reports, &viewer, "view", table, owner_phrase(table));
    }
    let both = "is declared by both this family and family";
    assert_refused(reports, "c_one", "table", "shared_projection", both);
    assert_refused(reports, "c_two", "table", "shared_projection", both);
}

async fn hostile_declarations_are_refused(store: Store) {
    let events = Stream::default().first();
    let reference = prepared(store, &events).await;
    let mut orgs = support::plugins(&["orgs"]);
    support::replay(&reference.db, &mut orgs, ReplayOptions::default()).await;

    let t = prepared(store, &events).await;
    let mut attacked: Vec<&str> = TABLE_ATTACKS.iter().map(|a| a.1).collect();
    attacked.push("projector_checkpoints");
    for host_table in host_tables(&t.db).await {
        assert!(
            attacked.contains(&host_table.as_str()),
            "no hostile family declares the host table {host_table}"
        );
    }
    assert_eq!(host_tables(&t.db).await, HOST_TABLES);
    let before = snapshot(&t.db).await;
    let mut plugins = hostile_set();
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    assert_hostile_set_refused(&reports);
    let after = snapshot(&t.db).await;
    assert_eq!(after["events"], before["events"]);
    assert_eq!(after["events"].len(), events.len());
    assert_eq!(after["legacy"], ["t1 s"]);
    assert_eq!(after, snapshot(&reference.db).await);

    // A rebuild refuses the same way, before anything is dropped.
    let rebuild = ReplayOptions {
        from_start: true,
        ..ReplayOptions::default()
    };
    support::replay(&reference.db, &mut orgs, rebuild.clone()).await;
    let reports = support::replay(&t.db, &mut plugins, rebuild).await;
    assert_hostile_set_refused(&reports);
    assert_eq!(snapshot(&t.db).await, snapshot(&reference.db).await);
    reference.finish().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_declarations_are_refused_on_sqlite() {
    hostile_declarations_are_refused(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_declarations_are_refused_on_postgres() {
    hostile_declarations_are_refused(Store::Postgres).await;
}

/// Families after the orgs family's tables and index.
fn orgs_claimants() -> Vec<Plugin> {
    let index = Description::new("h_index", "0.1.0")
        .table(
            Table::new("orgs")
                .column("instance_id", ColumnType::Text)
                .column("id", ColumnType::Text)
                .column("name", ColumnType::Text)
                .primary_key(&["instance_id", "id"])
                // orgs_projection_name_idx: the orgs family's index.
                .index("projection_name", &["name"], &[]),
        )
        .subscribe("org", &["org.added"]);
    vec![
        Plugin::native(claims("h_orgs", "orgs_projection", "id"), delete_org),
        Plugin::native(view_named("h_members", "org_members_projection"), quiet),
        Plugin::native(index, quiet),
    ]
}

fn delete_org(_event: &Event, _ctx: &Context<'_>) -> Outcome {
    Ok(vec![delete("orgs_projection").eq("id", "o1").build()])
}

fn assert_orgs_claimants_refused(reports: &[FamilyReport]) {
    let theirs = "belongs to family \"orgs\"";
    assert_refused(reports, "h_orgs", "table", "orgs_projection", theirs);
    assert_refused(
        reports,
        "h_members",
        "view",
        "org_members_projection",
        theirs,
    );
    assert_refused(
        reports,
        "h_index",
        "index",
        "orgs_projection_name_idx",
        theirs,
    );
}

async fn another_familys_tables_are_refused(store: Store) {
    let mut stream = Stream::default();
    let (first, second) = (stream.first(), stream.second());
    let reference = prepared(store, &first).await;
    let mut orgs = support::plugins(&["orgs"]);
    support::replay(&reference.db, &mut orgs, ReplayOptions::default()).await;
    support::import_json(&reference.db, &second).await;
    support::replay(&reference.db, &mut orgs, ReplayOptions::default()).await;

    let t = prepared(store, &first).await;
    support::replay(&t.db, &mut orgs, ReplayOptions::default()).await;
    // The orgs family was installed in an earlier run and is not loaded now.
    let before = snapshot(&t.db).await;
    let mut claimants = orgs_claimants();
    let reports = support::replay(&t.db, &mut claimants, ReplayOptions::default()).await;
    assert_orgs_claimants_refused(&reports);
    assert_eq!(snapshot(&t.db).await, before);

    // Loaded together with the orgs family, which goes on projecting.
    support::import_json(&t.db, &second).await;
    let mut plugins = support::plugins(&["orgs"]);
    plugins.extend(orgs_claimants());
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    assert_orgs_claimants_refused(&reports);
    let orgs_report = report(&reports, "orgs");
    assert_eq!(orgs_report.refused, None);
    assert!(orgs_report.n_applied > 0, "{orgs_report:?}");
    assert_eq!(snapshot(&t.db).await, snapshot(&reference.db).await);
    reference.finish().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_familys_tables_are_refused_on_sqlite() {
    another_familys_tables_are_refused(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_familys_tables_are_refused_on_postgres() {
    another_familys_tables_are_refused(Store::Postgres).await;
}

fn run(args: &[&str]) -> Result<ExitCode, String> {
    let mut argv = vec!["projector"];
    argv.extend_from_slice(args);
    cli::run(Cli::parse_from(argv)).map_err(|e| format!("{e:#}"))
}

/// `--schema custom`: the projection tables in `custom`, the host's in
/// `projector`, the events in `eventstore`, nothing in `public`; the WASM
/// guest claiming `events2` is refused and `replay` exits non-zero while the
/// orgs family projects.
#[test]
fn schema_flag_places_every_table_on_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let events = Stream::default().first();
    let t = rt.block_on(async {
        let t = support::test_db(Store::Postgres).await;
        support::import_json(&t.db, &events).await;
        t
    });
    let plugins = support::plugin_dir(&["orgs", "hostile_tables"]);
    let cache = tempfile::tempdir().unwrap();
    let base = [
        "--database-url",
        t.url.as_str(),
        "--schema",
        "custom",
        "--plugins",
        plugins.path().to_str().unwrap(),
        "--cache",
        cache.path().to_str().unwrap(),
    ];
    let with = |rest: &[&'static str]| -> Vec<&str> {
        base.iter().copied().chain(rest.iter().copied()).collect()
    };
    assert_eq!(run(&with(&["replay"])), Ok(ExitCode::from(1)));
    assert_eq!(
        run(&with(&["show", "orgs_projection"])),
        Ok(ExitCode::SUCCESS)
    );
    let err = run(&with(&["show", "events2"])).unwrap_err();
    assert!(err.contains("unknown table or view \"events2\""), "{err}");
    let err = Cli::try_parse_from(["projector", "--schema", "Not-Plain", "status"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid schema \"Not-Plain\""), "{err}");
    assert!(
        Cli::try_parse_from(["projector", "--schema", "projector", "status"]).is_err(),
        "the host schema is not a projection schema"
    );

    rt.block_on(async {
        let db = Db::open_in(&t.url, "custom").await.unwrap();
        let orgs = support::plugins(&["orgs"]);
        let mut declared: Vec<String> = orgs[0]
            .description
            .tables
            .iter()
            .map(|t| t.name.clone())
            .collect();
        declared.sort();
        assert_eq!(relations_in(&db, "custom").await, declared);
        assert_eq!(relations_in(&db, "projector").await, HOST_TABLES);
        assert_eq!(relations_in(&db, "eventstore").await, ["events2"]);
        let public = strings(
            &db,
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public'",
        )
        .await;
        assert!(public.is_empty(), "{public:?}");
        let n_events = strings(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM eventstore.events2").await;
        assert_eq!(n_events, [events.len().to_string()]);
        let owned = state::owned_relations(&db).await.unwrap();
        assert!(owned.iter().all(|o| o.family == "orgs"), "{owned:?}");
        // The default schema does not see them.
        let rows = dump::dump_table(&t.db, &orgs[0].description.tables[0]).await;
        assert!(rows.is_err(), "public has no orgs tables");
        let rows = dump::dump_table(
            &db,
            orgs[0].description.find_table("orgs_projection").unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 4);
        db.close().await;
        t.finish().await;
    });
}

/// A database from before the host schema and the ownership records: on
/// PostgreSQL the host's tables in `public`. Opening it moves them to
/// `projector` and records what each installed family's description declares
/// (never a reserved name: a family that declared `events2` owns nothing).
async fn a_database_from_before_moves_and_records(store: Store) {
    let t = support::test_db(store).await;
    t.db.close().await;
    let url = match store {
        Store::Sqlite => format!("{}-legacy.db", t.url),
        Store::Postgres => {
            let admin = sqlx::PgPool::connect(&support::admin_url()).await.unwrap();
            let name = t.url.rsplit('/').next().unwrap();
            for sql in [
                format!("DROP DATABASE {name} WITH (FORCE)"),
                format!("CREATE DATABASE {name}"),
            ] {
                sqlx::query(&sql).execute(&admin).await.unwrap();
            }
            admin.close().await;
            t.url.clone()
        }
    };
    let dialect = if store == Store::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    let mut migrator =
        sqlx::migrate::Migrator::new(support::repo_root().join("migrations").join(dialect))
            .await
            .unwrap();
    migrator.migrations = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= 4)
        .cloned()
        .collect::<Vec<_>>()
        .into();
    let orgs = support::plugins(&["orgs"]);
    let hostile = claims("h_events", "events2", "aggregate_type");
    let families = [&orgs[0].description, &hostile];
    match store {
        Store::Sqlite => {
            let options = url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .create_if_missing(true);
            let legacy = sqlx::SqlitePool::connect_with(options).await.unwrap();
            migrator.run(&legacy).await.unwrap();
            for description in families {
                sqlx::query(
                    "INSERT INTO projector_families (name, version, plugin_hash, description, installed_at) \
                     VALUES (?, '0.1.0', 'h', ?, '2026-01-01T00:00:00.000000Z')",
                )
                .bind(&description.name)
                .bind(serde_json::to_string(description).unwrap())
                .execute(&legacy)
                .await
                .unwrap();
            }
            legacy.close().await;
        }
        Store::Postgres => {
            let legacy = sqlx::PgPool::connect(&url).await.unwrap();
            migrator.run(&legacy).await.unwrap();
            for description in families {
                sqlx::query(
                    "INSERT INTO public.projector_families (name, version, plugin_hash, description, installed_at) \
                     VALUES ($1, '0.1.0', 'h', $2::jsonb, now())",
                )
                .bind(&description.name)
                .bind(serde_json::to_string(description).unwrap())
                .execute(&legacy)
                .await
                .unwrap();
            }
            legacy.close().await;
        }
    }

    let db = Db::open(&url).await.unwrap();
    assert_eq!(host_tables(&db).await, HOST_TABLES);
    if store == Store::Postgres {
        assert_eq!(relations_in(&db, "public").await, Vec::<String>::new());
    }
    let owned = state::owned_relations(&db).await.unwrap();
    let mut names: Vec<&str> = owned.iter().map(|o| o.name.as_str()).collect();
    names.sort_unstable();
    let mut declared: Vec<&str> = orgs[0]
        .description
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    declared.sort_unstable();
    assert_eq!(names, declared);
    assert!(owned.iter().all(|o| o.family == "orgs"), "{owned:?}");
    // The recorded family installs; the one that declared events2 does not.
    ddl::install(&db, &orgs[0].description, "h").await.unwrap();
    let err = ddl::install(&db, &hostile, "h").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("table \"events2\" belongs to the event store"),
        "{err}"
    );
    db.close().await;
    // Opening again changes nothing.
    let db = Db::open(&url).await.unwrap();
    assert_eq!(host_tables(&db).await, HOST_TABLES);
    assert_eq!(state::owned_relations(&db).await.unwrap(), owned);
    db.close().await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_before_moves_and_records_on_sqlite() {
    a_database_from_before_moves_and_records(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_before_moves_and_records_on_postgres() {
    a_database_from_before_moves_and_records(Store::Postgres).await;
}

/// Text that means something else in SQL text if escaped carelessly.
const TRICKY: &[&str] = &[
    "it's ''quoted''",
    r"C:\path\n \' \\ ends with a backslash\",
    "$$ DROP TABLE legacy_accounts; $$ $tag$ x $tag$",
    "plain",
];

const JSON_DEFAULT: &str = r#"{"path": "C:\\dir\\", "quote": "it's", "dollars": "$$"}"#;

/// A table with a default per string (and a JSON one), and a view with a
/// literal per string.
fn constants(family: &str, defaults: &[&str], literals: &[&str]) -> Description {
    let table_name = format!("{family}_projection");
    let mut table = Table::new(&table_name)
        .column("instance_id", ColumnType::Text)
        .column("id", ColumnType::Text);
    for (i, text) in defaults.iter().enumerate() {
        table = table.column_default(&format!("d{i}"), ColumnType::Text, *text);
    }
    let table = table
        .column_default("j", ColumnType::Json, Value::Json(JSON_DEFAULT.to_owned()))
        .primary_key(&["instance_id", "id"]);
    let mut view = View::new(&format!("{family}_view"), &table_name, "c");
    let tenant = view.column("c", "instance_id");
    view.output("instance_id", tenant);
    for (i, text) in literals.iter().enumerate() {
        let literal = view.literal(*text);
        view.output(&format!("l{i}"), literal);
    }
    Description::new(family, "0.1.0").table(table).view(view)
}

/// Defaults and view literals read back exactly; NUL is refused with a
/// clear error and nothing is created. `conforming`: PostgreSQL's
/// `standard_conforming_strings` (off: a backslash escapes in '...').
async fn constants_read_back(store: Store, conforming: bool) {
    let t = support::test_db(store).await;
    let db = if conforming {
        t.db.clone()
    } else {
        let name = t.url.rsplit('/').next().unwrap();
        exec(
            &t.db,
            &format!("ALTER DATABASE {name} SET standard_conforming_strings = off"),
        )
        .await;
        let db = Db::open(&t.url).await.unwrap();
        let setting = "SELECT current_setting('standard_conforming_strings')";
        assert_eq!(strings(&db, setting).await, ["off"]);
        db
    };
    let family = constants("constants", TRICKY, TRICKY);
    ddl::install(&db, &family, "h").await.unwrap();
    exec(
        &db,
        "INSERT INTO constants_projection (instance_id, id) VALUES ('t1', 'a')",
    )
    .await;
    let rows = dump::dump_table(&db, &family.tables[0]).await.unwrap();
    for (i, text) in TRICKY.iter().enumerate() {
        assert_eq!(rows[0][&format!("d{i}")], json!(text), "default {i}");
    }
    let json: Json = serde_json::from_str(JSON_DEFAULT).unwrap();
    assert_eq!(rows[0]["j"], json);
    let view = dump::relations(&family).unwrap().pop().unwrap();
    let rows = dump::dump_table(&db, &view).await.unwrap();
    for (i, text) in TRICKY.iter().enumerate() {
        assert_eq!(rows[0][&format!("l{i}")], json!(text), "literal {i}");
    }

    let before = catalog(&db).await;
    let err = ddl::install(&db, &constants("nul_default", &["a\0b"], &[]), "h")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NulInConstant(_)), "{err}");
    assert!(err.to_string().contains("NUL character"), "{err}");
    let err = ddl::install(&db, &constants("nul_literal", &[], &["a\0b"]), "h")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NUL character"), "{err}");
    assert_eq!(catalog(&db).await, before);
    if !conforming {
        db.close().await;
    }
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constants_read_back_on_sqlite() {
    constants_read_back(Store::Sqlite, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constants_read_back_on_postgres() {
    constants_read_back(Store::Postgres, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constants_read_back_on_postgres_without_standard_conforming_strings() {
    constants_read_back(Store::Postgres, false).await;
}
