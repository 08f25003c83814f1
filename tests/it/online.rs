//! Online rebuilds: `replay --from-start` builds aside and swaps in one
//! transaction, so readers never see a tenant's rows vanish; a rebuild while
//! `run` follows a stream of writers applies no event twice and misses none
//! (the family fence); the fence refuses a batch planned before a swap.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use host::runtime::follow::{FollowOptions, follow};
use host::runtime::{Quiet, ReplayOptions};
use host::store::{Db, Dialect, StoreError, fence, state};
use serde_json::{Value as Json, json};
use tokio::sync::watch;

use crate::differential::all_rows;
use crate::live::behind;
use crate::support::{self, Store};

/// The families a rebuild is tried on, with tables a reader polls.
const FAMILIES: &[&str] = &["instances", "orgs", "users", "projects"];

fn stream() -> Vec<Json> {
    streams::generate(&streams::Config {
        seed: 5,
        tenants: 6,
        events: 3000,
    })
}

/// Per table of `family`, how many rows `tenant` has.
async fn tenant_counts(
    db: &Db,
    plugins: &[host::plugin::Plugin],
    tenant: &str,
) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for plugin in plugins {
        for table in &plugin.description.tables {
            if table.is_system_scoped() {
                continue;
            }
            counts.insert(table.name.clone(), count(db, &table.name, tenant).await);
        }
    }
    counts
}

async fn count(db: &Db, table: &str, tenant: &str) -> i64 {
    let sql = match db.dialect() {
        Dialect::Sqlite => format!("SELECT count(*) FROM \"{table}\" WHERE instance_id = ?1"),
        Dialect::Postgres => format!("SELECT count(*) FROM \"{table}\" WHERE instance_id = $1"),
    };
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(&sql).bind(tenant).fetch_one(pool).await,
        Db::Postgres(pool) => sqlx::query_scalar(&sql).bind(tenant).fetch_one(pool).await,
    }
    .unwrap_or_else(|e| panic!("reading {table}: {e}"))
}

/// The tenant with the most events.
fn busiest(events: &[Json]) -> String {
    let mut n: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events {
        *n.entry(e["instance_id"].as_str().unwrap_or_default())
            .or_default() += 1;
    }
    n.into_iter()
        .filter(|(t, _)| !t.is_empty())
        .max_by_key(|(_, n)| *n)
        .map(|(t, _)| t.to_owned())
        .unwrap()
}

/// Relations under the lanes' prefix left in the database.
async fn lane_leftovers(db: &Db) -> Vec<String> {
    let recorded: Vec<String> = state::owned_relations(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.family.contains('@'))
        .map(|r| r.name)
        .collect();
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE name LIKE 'projector\\_rebuild\\_%' ESCAPE '\\' OR name LIKE 'projector\\_verify\\_%' ESCAPE '\\'"
        }
        Dialect::Postgres => {
            "SELECT relname::text FROM pg_class WHERE relname LIKE 'projector\\_rebuild\\_%' OR relname LIKE 'projector\\_verify\\_%'"
        }
    };
    let catalog: Vec<String> = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
    };
    recorded.into_iter().chain(catalog).collect()
}

async fn a_tenant_rebuild_never_hides_its_rows(store: Store) {
    let t = support::test_db(store).await;
    let events = stream();
    support::import_json(&t.db, &events).await;
    let mut plugins = support::plugins(FAMILIES);
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    let tenant = busiest(&events);
    let before_rows = all_rows(&t.db, &plugins).await;
    let before = tenant_counts(&t.db, &plugins, &tenant).await;
    assert!(
        before.values().filter(|n| **n > 0).count() >= 10,
        "{before:?}"
    );

    // A reader polls the tenant's rows in every table while the tenant, then
    // the whole family, is rebuilt.
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (db, done, tenant) = (t.db.clone(), done.clone(), tenant.clone());
        let readers = support::plugins(FAMILIES);
        tokio::spawn(async move {
            let mut lowest: BTreeMap<String, i64> = BTreeMap::new();
            let mut polls = 0;
            while !done.load(Ordering::SeqCst) || polls == 0 {
                for (table, n) in tenant_counts(&db, &readers, &tenant).await {
                    let low = lowest.entry(table).or_insert(n);
                    *low = (*low).min(n);
                }
                polls += 1;
            }
            (lowest, polls)
        })
    };
    for family in ["users", "orgs"] {
        let reports = support::replay(
            &t.db,
            &mut plugins,
            ReplayOptions {
                family: Some(family.into()),
                instance_id: Some(tenant.clone()),
                from_start: true,
                batch_size: 50,
                ..ReplayOptions::default()
            },
        )
        .await;
        assert!(reports[0].n_applied > 0, "{reports:?}");
    }
    support::replay(
        &t.db,
        &mut plugins,
        ReplayOptions {
            family: Some("projects".into()),
            from_start: true,
            batch_size: 50,
            ..ReplayOptions::default()
        },
    )
    .await;
    done.store(true, Ordering::SeqCst);
    let (lowest, polls) = reader.await.unwrap();
    eprintln!("{polls} polls of {} tables", lowest.len());
    assert!(polls > 3, "the reader polled {polls} times");
    assert_eq!(lowest, before, "a reader saw the tenant's rows vanish");
    assert_eq!(all_rows(&t.db, &plugins).await, before_rows);
    assert!(state::failures(&t.db).await.unwrap().is_empty());
    for plugin in &plugins {
        for lag in host::runtime::lag(&t.db, plugin).await.unwrap() {
            assert_eq!(lag.behind(), 0, "{}: {lag:?}", plugin.family());
        }
    }
    assert_eq!(lane_leftovers(&t.db).await, Vec::<String>::new());
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_rebuild_never_hides_its_rows_on_sqlite() {
    a_tenant_rebuild_never_hides_its_rows(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_rebuild_never_hides_its_rows_on_postgres() {
    a_tenant_rebuild_never_hides_its_rows(Store::Postgres).await;
}

/// While `run` follows and writers append, rebuild one tenant, then the
/// whole family, online; the tables then equal a clean replay, and every
/// checkpoint has consumed exactly its tenant's events.
/// The stream's events without their positions: imported in chunks, each
/// chunk gets the next position (as a live writer's commits do).
fn unpositioned() -> Vec<Json> {
    support::unpositioned_stream(5, 6, 3000)
}

const CHUNK: usize = 50;

async fn rebuilds_while_following(store: Store) {
    let t = support::test_db(store).await;
    let events = unpositioned();
    let (first, rest) = events.split_at(1500);
    for chunk in first.chunks(CHUNK) {
        support::import_json(&t.db, chunk).await;
    }
    let tenant = busiest(&events);
    let (stop, stop_rx) = watch::channel(false);
    let follower = {
        let db = t.db.clone();
        tokio::spawn(async move {
            let mut plugins = support::plugins(FAMILIES);
            let options = FollowOptions {
                batch_size: 40,
                poll_interval: Duration::from_millis(5),
                ..FollowOptions::default()
            };
            follow(&db, &mut plugins, &options, stop_rx, None, &Quiet).await
        })
    };
    // Writers, the follower and the rebuilds each on a task of their own,
    // as they are separate processes in production.
    let writers = {
        let db = t.db.clone();
        let rest = rest.to_vec();
        tokio::spawn(async move {
            for chunk in rest.chunks(CHUNK) {
                support::import_json(&db, chunk).await;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let rebuilds = async {
        let mut plugins = support::plugins(FAMILIES);
        tokio::time::sleep(Duration::from_millis(50)).await;
        for (instance, batch_size) in [
            (Some(tenant.clone()), 30),
            (None, 200),
            (Some(tenant.clone()), 7),
        ] {
            support::replay(
                &t.db,
                &mut plugins,
                ReplayOptions {
                    family: Some("users".into()),
                    instance_id: instance,
                    from_start: true,
                    batch_size,
                    ..ReplayOptions::default()
                },
            )
            .await;
        }
    };
    rebuilds.await;
    writers.await.unwrap();
    let following = support::plugins(FAMILIES);
    let started = std::time::Instant::now();
    while behind(&t.db, &following).await > 0 {
        assert!(
            !follower.is_finished(),
            "the follower stopped: {:?}",
            follower.await
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "still {} events behind",
            behind(&t.db, &following).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    follower.await.unwrap().unwrap();
    support::assert_all_applied(&t.db, &following).await;
    assert_eq!(lane_leftovers(&t.db).await, Vec::<String>::new());

    support::assert_equals_clean_replay(store, &t.db, FAMILIES, &events, CHUNK).await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilds_while_following_apply_every_event_once_on_sqlite() {
    rebuilds_while_following(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilds_while_following_apply_every_event_once_on_postgres() {
    rebuilds_while_following(Store::Postgres).await;
}

/// A batch planned under one generation is refused once a swap moved it.
async fn the_fence_refuses_a_stale_batch(store: Store) {
    let t = support::test_db(store).await;
    support::import_json(
        &t.db,
        &[
            json!({"instance_id": "t", "aggregate_type": "org", "aggregate_id": "o",
                 "event_type": "org.added", "owner": "t", "payload": {"name": "o"}}),
        ],
    )
    .await;
    let mut plugins = support::plugins(&["orgs"]);
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    let planned = fence::generation(&t.db, "orgs").await.unwrap();
    assert!(planned.is_some());
    assert_eq!(
        fence::generation(&t.db, "orgs@rebuild").await.unwrap(),
        None
    );

    let mut tx = t.db.begin().await.unwrap();
    fence::check(&mut tx, "orgs", planned).await.unwrap();
    tx.rollback().await.unwrap();

    let mut swap = t.db.begin().await.unwrap();
    fence::supersede(&mut swap, "orgs").await.unwrap();
    swap.commit().await.unwrap();

    let mut tx = t.db.begin().await.unwrap();
    match fence::check(&mut tx, "orgs", planned).await {
        Err(StoreError::Superseded { family }) => assert_eq!(family, "orgs"),
        other => panic!("a stale batch was let through: {other:?}"),
    }
    tx.rollback().await.unwrap();
    let now = fence::generation(&t.db, "orgs").await.unwrap();
    assert_eq!(now, planned.map(|g| g + 1));
    // A lane has no generation and no fence.
    let mut tx = t.db.begin().await.unwrap();
    fence::check(&mut tx, "orgs@rebuild", None).await.unwrap();
    tx.rollback().await.unwrap();
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fence_refuses_a_stale_batch_on_sqlite() {
    the_fence_refuses_a_stale_batch(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fence_refuses_a_stale_batch_on_postgres() {
    the_fence_refuses_a_stale_batch(Store::Postgres).await;
}
