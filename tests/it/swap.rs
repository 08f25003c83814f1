//! Code-only hot swap: deploy a new version while `run` projects; no event
//! missed or applied twice; events after the swap get the new behaviour;
//! rollback brings the old one back.

use std::time::{Duration, Instant};

use host::plugin::Limits;
use host::plugin::registry::{self, Deployed, Stage, Swapper};
use host::runtime::Quiet;
use host::runtime::follow::{FollowOptions, follow};
use host::store::{Db, state};
use serde_json::{Value as Json, json};
use tokio::sync::watch;

use crate::support::{self, Store};

fn org_added(n: usize) -> Json {
    json!({"instance_id": "t", "aggregate_type": "org", "aggregate_id": format!("org-{n:03}"),
           "event_type": "org.added", "owner": "o", "payload": {"name": format!("org {n}")}})
}

async fn import_orgs(db: &Db, range: std::ops::Range<usize>) {
    let events: Vec<Json> = range.map(org_added).collect();
    support::import_json(db, &events).await;
}

/// Wait until `n_rows` orgs are projected and nothing is pending; returns
/// (id, name) in id order.
async fn wait_for(db: &Db, n_rows: usize, within: Duration) -> Vec<(String, String)> {
    let started = Instant::now();
    let plugins = support::plugins(&["orgs"]);
    let table = plugins[0]
        .description
        .find_table("orgs_projection")
        .unwrap()
        .clone();
    loop {
        // The follower creates the tables; until then there is nothing.
        let rows = host::store::dump::dump_table(db, &table)
            .await
            .unwrap_or_default();
        let behind = match host::runtime::pending(db, &plugins[0]).await {
            Ok(pending) => pending.iter().map(|(_, n)| n).sum::<i64>(),
            Err(_) => 1,
        };
        if rows.len() >= n_rows && behind == 0 {
            return rows
                .iter()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap().to_owned(),
                        r["name"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
        }
        assert!(
            started.elapsed() < within,
            "{} of {n_rows} rows after {within:?}",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn hot_swap(store: Store) {
    let t = support::test_db(store).await;
    let dir = support::plugin_dir(&["orgs"]);
    let cache = tempfile::tempdir().unwrap();
    let swapper = Swapper {
        dir: dir.path().to_owned(),
        cache: Some(cache.path().to_owned()),
        limits: Limits::default(),
    };
    let mut plugins = registry::effective(&t.db, dir.path(), Some(cache.path()), Limits::default())
        .await
        .unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let options = FollowOptions {
        batch_size: 20,
        poll_interval: Duration::from_millis(10),
        ..FollowOptions::default()
    };
    let work = async {
        import_orgs(&t.db, 0..100).await;
        let before = wait_for(&t.db, 100, Duration::from_secs(20)).await;
        assert!(before.iter().all(|(_, name)| name.starts_with("org ")));

        // Deploy 0.2.0; the next batch runs on it.
        let deployed = registry::deploy(
            &t.db,
            &support::guests().wasm("orgs_v2"),
            "tester",
            Some(cache.path()),
            Limits::default(),
            false,
        )
        .await
        .unwrap();
        let Deployed::Active(v2) = deployed else {
            panic!("same tables: active at once, not {deployed:?}");
        };
        let deployed_at = Instant::now();
        import_orgs(&t.db, 100..200).await;
        let mut first_batch = None;
        while first_batch.is_none() {
            let checkpoints = state::checkpoints(&t.db).await.unwrap();
            if checkpoints
                .iter()
                .any(|c| c.family == "orgs" && c.plugin_version.starts_with("0.2.0@"))
            {
                first_batch = Some(deployed_at.elapsed());
            }
            assert!(
                deployed_at.elapsed() < Duration::from_secs(20),
                "the new version never applied a batch"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let after = wait_for(&t.db, 200, Duration::from_secs(20)).await;
        // The new version takes over at a batch boundary: a batch already
        // under way when the deployment committed may finish on the old one,
        // then every later event gets the new behaviour.
        let switch = after
            .iter()
            .position(|(_, n)| n.starts_with("ORG "))
            .unwrap_or(after.len());
        assert!(
            (100..=100 + options.batch_size).contains(&switch),
            "switched at {switch}: {after:?}"
        );
        assert!(
            after[switch..].iter().all(|(_, n)| n.starts_with("ORG ")),
            "{after:?}"
        );

        // Roll back while a stream arrives: the switch happens once, at a
        // batch boundary, and every event applies exactly once.
        let stream = async {
            for chunk in 0..10 {
                import_orgs(&t.db, 200 + chunk * 20..220 + chunk * 20).await;
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        };
        let roll = async {
            tokio::time::sleep(Duration::from_millis(60)).await;
            registry::rollback(
                &t.db,
                "orgs",
                dir.path(),
                Some(cache.path()),
                Limits::default(),
            )
            .await
            .unwrap()
        };
        let ((), rolled_to) = tokio::join!(stream, roll);
        assert_eq!(rolled_to, None, "the directory's version is active again");
        let all = wait_for(&t.db, 400, Duration::from_secs(20)).await;
        assert_eq!(all.len(), 400);
        let styles: Vec<bool> = all[200..]
            .iter()
            .map(|(_, n)| n.starts_with("ORG "))
            .collect();
        let switches = styles.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(switches <= 1 && styles.last() == Some(&false), "{styles:?}");
        let checkpoint = state::checkpoints(&t.db)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.family == "orgs")
            .unwrap();
        assert!(
            checkpoint.plugin_version.starts_with("0.1.0@"),
            "{checkpoint:?}"
        );
        stop.send(true).unwrap();
        eprintln!(
            "deploy to first batch on {}: {:?}",
            v2.description.version,
            first_batch.unwrap_or_default()
        );
    };
    let (followed, ()) = tokio::join!(
        follow(
            &t.db,
            &mut plugins,
            &options,
            stop_rx,
            Some(&swapper),
            &Quiet
        ),
        work
    );
    followed.unwrap();
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_swap_applies_the_new_version_at_a_batch_boundary_on_sqlite() {
    hot_swap(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_swap_applies_the_new_version_at_a_batch_boundary_on_postgres() {
    hot_swap(Store::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_with_other_tables_is_staged_not_activated() {
    let t = support::test_db(Store::Sqlite).await;
    let dir = support::plugin_dir(&["orgs", "hostile"]);
    let plugins = registry::effective(&t.db, dir.path(), None, Limits::default())
        .await
        .unwrap();
    host::runtime::install_all(&t.db, &plugins).await.unwrap();
    let hostile = support::guests().wasm("hostile");
    let deploy = || registry::deploy(&t.db, &hostile, "tester", None, Limits::default(), false);
    let active = |d: &[registry::Deployment]| d.iter().filter(|d| d.active).count();
    // Views that differ from the live declaration: staged to be built.
    swap_description(&t.db, |d| {
        let table = d.tables[0].name.clone();
        let mut view = projection_sdk::View::new("hostile_names", &table, "h");
        let tenant = view.column("h", "instance_id");
        view.output("instance_id", tenant);
        d.views.push(view);
    })
    .await;
    let staged = deploy().await.unwrap();
    assert!(
        matches!(staged, Deployed::Staged(_, Stage::Building)),
        "{staged:?}"
    );
    let deployments = registry::deployments(&t.db).await.unwrap();
    assert_eq!(active(&deployments), 0, "{deployments:?}");
    assert_eq!(deployments[0].stage, Some(Stage::Building));
    // Tables that differ: staged too; the version is not active until its
    // tables are built and cut over.
    swap_description(&t.db, |d| {
        d.views.clear();
        d.tables[0].columns.pop();
    })
    .await;
    let staged = deploy().await.unwrap();
    assert!(
        matches!(staged, Deployed::Staged(_, Stage::Building)),
        "{staged:?}"
    );
    let effective = registry::effective(&t.db, dir.path(), None, Limits::default())
        .await
        .unwrap();
    assert!(
        effective.iter().all(|p| !p.deployed),
        "the directory's versions stay effective"
    );
    t.finish().await;
}

/// Pretend the live hostile family had declared other tables or views.
async fn swap_description(db: &Db, change: impl FnOnce(&mut projection_sdk::Description)) {
    let Db::Sqlite(pool) = db else {
        unreachable!("sqlite test")
    };
    let mut description = state::stored_description(db, "hostile")
        .await
        .unwrap()
        .unwrap();
    change(&mut description);
    sqlx::query("UPDATE projector_families SET description = ? WHERE name = 'hostile'")
        .bind(serde_json::to_string(&description).unwrap())
        .execute(pool)
        .await
        .unwrap();
}
