//! `run` builds staged versions beside the live ones, with nobody else
//! building them: a shadow follows the same events into its own tables
//! while writers append (and equals a clean replay of its version), and a
//! version staged for a cutover is built and cut over by `run` itself (a
//! `plugin deploy` stopped before it built anything).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use host::plugin::registry::{self, Deployed, Stage};
use host::plugin::{Limits, Plugin};
use host::store::lane::Lane;
use host::store::{Db, state};
use serde_json::Value as Json;
use tokio::sync::watch;

use crate::bluegreen::{Following, caught_up, clean_replay, follower, org_events, relations_like};
use crate::differential::all_rows;
use crate::support::{self, Store};

/// Stage `file` without building it, as a `plugin deploy` that stopped
/// right after storing the version leaves it.
async fn stage(db: &Db, file: &str, cache: &std::path::Path, shadow: bool) -> Plugin {
    let wasm = support::guests().wasm(file);
    let deployed = registry::deploy(db, &wasm, "tester", Some(cache), Limits::default(), shadow)
        .await
        .unwrap();
    let Deployed::Staged(plugin, stage) = deployed else {
        panic!("{file} is staged: {deployed:?}");
    };
    assert_eq!(stage == Stage::Shadow, shadow);
    plugin
}

/// Import `events` in chunks with a pause between them (a writer).
fn writer(db: &Db, events: Vec<Json>) -> tokio::task::JoinHandle<()> {
    let db = db.clone();
    tokio::spawn(async move {
        for chunk in events.chunks(20) {
            support::import_json(&db, chunk).await;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
}

/// Wait until the lane has applied every event `plugin` subscribes to.
async fn lane_caught_up(db: &Db, plugin: &Plugin, follower: &Following) {
    let started = Instant::now();
    loop {
        let checkpoints =
            state::family_checkpoints(db, &Lane::Next.key(&plugin.canonical().name)).await;
        let behind: i64 = host::runtime::pending_in(db, plugin, Lane::Next)
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum();
        if behind == 0 && !checkpoints.unwrap().is_empty() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the lane is {behind} events behind"
        );
        assert!(!follower.is_finished(), "the follower stopped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The lane's tables under their canonical names.
async fn lane_rows(db: &Db, plugin: &mut Plugin) -> BTreeMap<String, Vec<Json>> {
    plugin.enter_lane(Lane::Next);
    let rows = all_rows(db, std::slice::from_ref(plugin)).await;
    plugin.leave_lane();
    rows.into_iter()
        .map(|(table, rows)| {
            let canonical = plugin
                .canonical()
                .tables
                .iter()
                .find(|t| Lane::Next.table(&t.name) == table)
                .map_or(table.clone(), |t| t.name.clone());
            (canonical, rows)
        })
        .collect()
}

async fn run_builds_staged_versions(store: Store) {
    let t = support::test_db(store).await;
    let events = org_events(0..600);
    let (first, rest) = events.split_at(250);
    for chunk in first.chunks(40) {
        support::import_json(&t.db, chunk).await;
    }
    let dir = support::plugin_dir(&["orgs"]);
    let cache = tempfile::tempdir().unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let follower = follower(&t.db, dir.path(), cache.path(), stop_rx);
    let v1 = support::plugins(&["orgs"]).remove(0);
    caught_up(&t.db, &v1, &follower).await;

    // A shadow, built by `run` alone while writers append.
    let mut shadow = stage(&t.db, "orgs_v3", cache.path(), true).await;
    writer(&t.db, rest.to_vec()).await.unwrap();
    lane_caught_up(&t.db, &shadow, &follower).await;
    caught_up(&t.db, &v1, &follower).await;
    let expected_v3 = clean_replay(store, &events, "orgs_v3").await;
    assert_eq!(
        lane_rows(&t.db, &mut shadow).await,
        expected_v3,
        "the shadow"
    );
    assert_eq!(
        all_rows(&t.db, std::slice::from_ref(&v1)).await,
        clean_replay(store, &events, "orgs").await,
        "the live version beside the shadow"
    );
    host::runtime::deploy::discard(&t.db, "orgs").await.unwrap();
    registry::unstage(&t.db, "orgs", &shadow.hash)
        .await
        .unwrap();

    // A version staged for a cutover: `run` builds it and cuts over.
    let mut v3 = stage(&t.db, "orgs_v3", cache.path(), false).await;
    let more = org_events(600..700);
    writer(&t.db, more.clone()).await.unwrap();
    v3.leave_lane();
    caught_up(&t.db, &v3, &follower).await;
    let active = registry::deployments(&t.db).await.unwrap();
    assert!(
        active
            .iter()
            .any(|d| d.hash == v3.hash && d.active && d.stage.is_none()),
        "{active:?}"
    );
    let all: Vec<Json> = events.iter().chain(&more).cloned().collect();
    assert_eq!(
        all_rows(&t.db, std::slice::from_ref(&v3)).await,
        clean_replay(store, &all, "orgs_v3").await,
        "after run's cutover"
    );
    assert_eq!(relations_like(&t.db, "projector_next_").await, 0);
    assert!(relations_like(&t.db, "projector_prev_").await > 0);
    assert!(state::failures(&t.db).await.unwrap().is_empty());
    stop.send(true).unwrap();
    follower.await.unwrap().unwrap();
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_builds_shadows_and_cuts_over_staged_versions_on_sqlite() {
    run_builds_staged_versions(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_builds_shadows_and_cuts_over_staged_versions_on_postgres() {
    run_builds_staged_versions(Store::Postgres).await;
}
