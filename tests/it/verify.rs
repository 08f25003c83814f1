//! `projector verify`: a replay into scratch tables compared with the live
//! rows names every hand edit (a changed column, a deleted row, an inserted
//! row, a row of a tenant the events never made), is clean after a rebuild,
//! and leaves nothing behind; the command exits 1 on drift.

use std::process::ExitCode;

use host::runtime::verify::{self, Verdict, VerifyOptions};
use host::runtime::{Quiet, ReplayOptions};
use host::store::compare::DriftKind;
use host::store::{Db, Dialect};
use serde_json::Value as Json;

use crate::support::{self, Store};

const FAMILIES: &[&str] = &["instances", "orgs", "users", "projects"];

fn options(family: Option<&str>) -> VerifyOptions {
    VerifyOptions {
        family: family.map(str::to_owned),
        instance_id: None,
        examples: 10,
        batch_size: 300,
        barrier: Default::default(),
    }
}

async fn verdicts(db: &Db, family: Option<&str>) -> Vec<Verdict> {
    let mut plugins = support::plugins(FAMILIES);
    verify::verify(db, &mut plugins, &options(family), &Quiet)
        .await
        .expect("verify runs")
}

async fn exec(db: &Db, sql: &str) {
    match db {
        Db::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        Db::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The first row of a table by key: (instance_id, id).
async fn first_row(db: &Db, table: &str) -> (String, String) {
    let sql = format!("SELECT instance_id, id FROM {table} ORDER BY instance_id, id LIMIT 1");
    match db {
        Db::Sqlite(pool) => sqlx::query_as(&sql).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_as(&sql).fetch_one(pool).await,
    }
    .unwrap()
}

/// `INSERT ... SELECT` of a copy of a row of `orgs_projection` with another
/// tenant and id.
fn copy_org(from: &(String, String), tenant: &str, id: &str) -> String {
    let plugins = support::plugins(&["orgs"]);
    let table = plugins[0]
        .description
        .find_table("orgs_projection")
        .unwrap();
    let columns: Vec<&str> = table
        .columns
        .iter()
        .filter(|c| c.generated.is_none())
        .map(|c| c.name.as_str())
        .collect();
    let values: Vec<String> = columns
        .iter()
        .map(|c| match *c {
            "instance_id" => format!("'{tenant}'"),
            "id" => format!("'{id}'"),
            other => other.to_owned(),
        })
        .collect();
    format!(
        "INSERT INTO orgs_projection ({}) SELECT {} FROM orgs_projection WHERE instance_id = '{}' AND id = '{}'",
        columns.join(", "),
        values.join(", "),
        from.0,
        from.1
    )
}

async fn run_cli(url: &str, plugins: &str, args: &[&str]) -> ExitCode {
    let cache = tempfile::tempdir().unwrap();
    support::run_cli(url, plugins, cache.path().to_str().unwrap(), args).await
}

fn verdict<'a>(verdicts: &'a [Verdict], family: &str) -> &'a Verdict {
    verdicts.iter().find(|v| v.family == family).unwrap()
}

async fn verify_names_every_edit(store: Store) {
    let t = support::test_db(store).await;
    let events: Vec<Json> = streams::generate(&streams::Config {
        seed: 3,
        tenants: 5,
        events: 2500,
    });
    support::import_json(&t.db, &events).await;
    let mut plugins = support::plugins(FAMILIES);
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;

    let clean = verdicts(&t.db, None).await;
    assert_eq!(clean.len(), FAMILIES.len());
    for v in &clean {
        assert!(v.is_clean(), "{v:?}");
        assert!(v.tenants.len() >= 5, "{v:?}");
        assert!(v.n_events > 0, "{v:?}");
    }

    let org = first_row(&t.db, "orgs_projection").await;
    let project = first_row(&t.db, "projects_projection").await;
    exec(
        &t.db,
        &format!(
            "UPDATE orgs_projection SET name = 'edited by hand' WHERE instance_id = '{}' AND id = '{}'",
            org.0, org.1
        ),
    )
    .await;
    exec(
        &t.db,
        &format!(
            "DELETE FROM projects_projection WHERE instance_id = '{}' AND id = '{}'",
            project.0, project.1
        ),
    )
    .await;
    exec(&t.db, &copy_org(&org, &org.0, "intruder")).await;
    exec(&t.db, &copy_org(&org, "ghost-tenant", "ghost")).await;

    let found = verdicts(&t.db, None).await;
    let orgs = verdict(&found, "orgs");
    assert_eq!(orgs.n_drifted(), 3, "{orgs:?}");
    let (table, drift) = &orgs.drift[0];
    assert_eq!(table, "orgs_projection");
    assert_eq!(orgs.drift.len(), 1, "{orgs:?}");
    let counts: Vec<(String, DriftKind, u64)> = drift
        .counts
        .iter()
        .map(|((t, k), n)| (t.clone(), *k, *n))
        .collect();
    let mut expected = vec![
        (org.0.clone(), DriftKind::Extra, 1),
        (org.0.clone(), DriftKind::Different, 1),
        ("ghost-tenant".to_owned(), DriftKind::Extra, 1),
    ];
    expected.sort();
    let mut counts_sorted = counts.clone();
    counts_sorted.sort();
    assert_eq!(counts_sorted, expected);
    let key = |row: &host::store::compare::RowDrift| {
        row.key.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>()
    };
    let different = drift
        .examples
        .iter()
        .find(|r| r.kind == DriftKind::Different)
        .unwrap();
    assert_eq!(key(different), [org.0.clone(), org.1.clone()]);
    assert_eq!(different.columns.len(), 1, "{different:?}");
    assert_eq!(different.columns[0].0, "name");
    assert_eq!(different.columns[0].1.as_deref(), Some("edited by hand"));
    let mut extras: Vec<Vec<String>> = drift
        .examples
        .iter()
        .filter(|r| r.kind == DriftKind::Extra)
        .map(key)
        .collect();
    extras.sort();
    let mut want = vec![
        vec![org.0.clone(), "intruder".to_owned()],
        vec!["ghost-tenant".to_owned(), "ghost".to_owned()],
    ];
    want.sort();
    assert_eq!(extras, want);
    assert!(orgs.tenants.contains(&"ghost-tenant".to_owned()));

    let projects = verdict(&found, "projects");
    assert_eq!(projects.n_drifted(), 1, "{projects:?}");
    let (table, drift) = &projects.drift[0];
    assert_eq!(table, "projects_projection");
    let missing = &drift.examples[0];
    assert_eq!(missing.kind, DriftKind::Missing);
    assert_eq!(key(missing), [project.0.clone(), project.1.clone()]);
    assert!(verdict(&found, "users").is_clean());
    assert!(verdict(&found, "instances").is_clean());

    // The command exits 1 on drift, 0 once rebuilt.
    let dir = support::plugin_dir(FAMILIES);
    let dir = dir.path().to_str().unwrap().to_owned();
    assert_eq!(
        run_cli(&t.url, &dir, &["verify", "--family", "orgs"]).await,
        ExitCode::from(1)
    );
    assert_eq!(
        run_cli(&t.url, &dir, &["verify", "--family", "users"]).await,
        ExitCode::SUCCESS
    );
    for family in ["orgs", "projects"] {
        support::replay(
            &t.db,
            &mut plugins,
            ReplayOptions {
                family: Some(family.into()),
                from_start: true,
                ..ReplayOptions::default()
            },
        )
        .await;
    }
    for v in verdicts(&t.db, None).await {
        assert!(v.is_clean(), "after the rebuild: {v:?}");
    }
    assert_eq!(run_cli(&t.url, &dir, &["verify"]).await, ExitCode::SUCCESS);
    let leftovers = match t.db.dialect() {
        Dialect::Sqlite => {
            "SELECT count(*) FROM sqlite_master WHERE name LIKE 'projector\\_verify\\_%' ESCAPE '\\'"
        }
        Dialect::Postgres => {
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'projector\\_verify\\_%'"
        }
    };
    let n: i64 = match &t.db {
        Db::Sqlite(pool) => sqlx::query_scalar(leftovers).fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(leftovers).fetch_one(pool).await.unwrap(),
    };
    assert_eq!(n, 0, "verify left scratch tables behind");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_every_edit_on_sqlite() {
    verify_names_every_edit(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_every_edit_on_postgres() {
    verify_names_every_edit(Store::Postgres).await;
}
