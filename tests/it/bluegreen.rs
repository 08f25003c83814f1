//! Versions whose tables differ: `plugin deploy` builds them beside the live
//! tables and cuts over in one transaction while `run` follows a stream of
//! writers and a reader polls the canonical table (no error, no row ever
//! missing); the tables then equal a clean replay of the new version;
//! `plugin rollback` brings the old tables back (caught up: a clean replay
//! of the old version), `plugin gc` drops what was kept. Shadows: deployed
//! beside the live version, compared (`plugin diff`), promoted or discarded.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use host::plugin::registry::{self, Deployed, Stage, Swapper};
use host::plugin::{Limits, Plugin};
use host::runtime::follow::{FollowOptions, follow};
use host::runtime::{Quiet, ReplayOptions, deploy};
use host::store::{Db, Dialect, state};
use serde_json::{Value as Json, json};
use tokio::sync::watch;

use crate::differential::all_rows;
use crate::support::{self, Store};

/// Org events: an org added, and every third one renamed.
pub(crate) fn org_events(range: std::ops::Range<usize>) -> Vec<Json> {
    let mut events = Vec::new();
    for n in range {
        let tenant = format!("t{}", n % 3);
        let id = format!("org-{n:04}");
        // Placed and stamped, so a clean replay elsewhere writes the same rows.
        let at = format!(
            "2026-01-01T{:02}:{:02}:{:02}Z",
            n / 3600,
            n / 60 % 60,
            n % 60
        );
        let position = |k: usize| format!("{}.{k}", 1_700_000_000 + n);
        let event = |event_type: &str, name: String, k: usize| {
            json!({"instance_id": tenant, "aggregate_type": "org", "aggregate_id": id,
                   "event_type": event_type, "owner": id, "created_at": at,
                   "position": position(k), "payload": {"name": name}})
        };
        events.push(event("org.added", format!("org {n}"), 1));
        if n % 3 == 0 {
            events.push(event("org.changed", format!("renamed {n}"), 2));
        }
    }
    events
}

async fn ids(db: &Db) -> Result<BTreeSet<String>, sqlx::Error> {
    let sql = "SELECT id FROM orgs_projection";
    let ids: Vec<String> = match db {
        Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
        Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await?,
    };
    Ok(ids.into_iter().collect())
}

/// A follower on a task of its own.
pub(crate) type Following = tokio::task::JoinHandle<Result<(), host::runtime::RuntimeError>>;

/// Relations whose name starts with `prefix`.
pub(crate) async fn relations_like(db: &Db, prefix: &str) -> i64 {
    let sql = match db.dialect() {
        Dialect::Sqlite => {
            format!("SELECT count(*) FROM sqlite_master WHERE name LIKE '{prefix}%'")
        }
        Dialect::Postgres => {
            format!("SELECT count(*) FROM pg_class WHERE relname LIKE '{prefix}%'")
        }
    };
    match db {
        Db::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
    }
}

/// The orgs tables after a clean replay of `events` by `plugin`.
pub(crate) async fn clean_replay(
    store: Store,
    events: &[Json],
    plugin: &str,
) -> std::collections::BTreeMap<String, Vec<Json>> {
    let clean = support::test_db(store).await;
    for chunk in events.chunks(40) {
        support::import_json(&clean.db, chunk).await;
    }
    let mut plugins = support::plugins(&[plugin]);
    support::replay(&clean.db, &mut plugins, ReplayOptions::default()).await;
    let rows = all_rows(&clean.db, &plugins).await;
    clean.finish().await;
    rows
}

/// `run` with deployed versions on a task of its own: the effective plugins
/// of `dir`, swapped when the active versions change, staged versions built
/// beside them.
pub(crate) fn follower(
    db: &Db,
    dir: &std::path::Path,
    cache: &std::path::Path,
    stop: watch::Receiver<bool>,
) -> Following {
    let (db, dir, cache) = (db.clone(), dir.to_owned(), cache.to_owned());
    tokio::spawn(async move {
        let swapper = Swapper {
            dir: dir.clone(),
            cache: Some(cache.clone()),
            limits: Limits::default(),
        };
        let mut plugins = registry::effective(&db, &dir, Some(&cache), Limits::default())
            .await
            .unwrap();
        let options = FollowOptions {
            batch_size: 30,
            poll_interval: Duration::from_millis(5),
            ..FollowOptions::default()
        };
        let followed = follow(&db, &mut plugins, &options, stop, Some(&swapper), &Quiet).await;
        if let Err(e) = &followed {
            eprintln!("the follower stopped: {e}");
        }
        followed
    })
}

pub(crate) async fn caught_up(db: &Db, plugin: &Plugin, follower: &Following) {
    let within = Duration::from_secs(30);
    let started = Instant::now();
    loop {
        let behind: i64 = host::runtime::pending(db, plugin)
            .await
            .unwrap()
            .iter()
            .map(|(_, n)| n)
            .sum();
        let live = state::stored_description(db, "orgs").await.unwrap();
        if behind == 0 && live.is_some_and(|l| l.version == plugin.description.version) {
            return;
        }
        if started.elapsed() >= within {
            panic!(
                "{behind} events behind after {within:?}; {}",
                follow_state(db, plugin).await
            );
        }
        assert!(!follower.is_finished(), "the follower stopped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a follower that fell behind had to go on: the live version, the
/// deployments, the generation, the checkpoints and the failed events.
async fn follow_state(db: &Db, plugin: &Plugin) -> String {
    let family = plugin.family();
    let live = state::stored_description(db, family)
        .await
        .map(|d| d.map(|d| d.version));
    let deployments = registry::deployments(db).await.map(|all| {
        all.iter()
            .map(|d| {
                format!(
                    "{}@{} active={} stage={:?}",
                    d.version, &d.hash, d.active, d.stage
                )
            })
            .collect::<Vec<_>>()
    });
    let generation = host::store::fence::generation(db, family).await;
    let checkpoints = state::family_checkpoints(db, family).await.map(|all| {
        all.iter()
            .map(|c| format!("{}:{}", c.instance_id, c.position))
            .collect::<Vec<_>>()
    });
    let failures = state::family_failures(db, family).await.map(|f| f.len());
    format!(
        "waiting for {} ({}); live {live:?}; deployments {deployments:?}; generation {generation:?}; \
         checkpoints {checkpoints:?}; failed events {failures:?}",
        plugin.description.version, plugin.hash,
    )
}

/// `plugin deploy` of the test guest `orgs_v3` (a new column): staged to
/// be built.
async fn stage_v3(db: &Db, cache: &std::path::Path) -> Plugin {
    let v3_file = support::guests().wasm("orgs_v3");
    let deployed = registry::deploy(
        db,
        &v3_file,
        "tester",
        Some(cache),
        Limits::default(),
        false,
    )
    .await
    .unwrap();
    let Deployed::Staged(v3, Stage::Building) = deployed else {
        panic!("a version with another table is staged: {deployed:?}");
    };
    v3
}

async fn blue_green(store: Store) {
    let t = support::test_db(store).await;
    let events = org_events(0..900);
    let (first, rest) = events.split_at(400);
    for chunk in first.chunks(40) {
        support::import_json(&t.db, chunk).await;
    }
    let dir = support::plugin_dir(&["orgs"]);
    let cache = tempfile::tempdir().unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let follower = follower(&t.db, dir.path(), cache.path(), stop_rx);
    let v1 = support::plugins(&["orgs"]).remove(0);
    caught_up(&t.db, &v1, &follower).await;

    let writers = {
        let (db, rest) = (t.db.clone(), rest.to_vec());
        tokio::spawn(async move {
            for chunk in rest.chunks(20) {
                support::import_json(&db, chunk).await;
                tokio::time::sleep(Duration::from_millis(8)).await;
            }
        })
    };
    let reading = Arc::new(AtomicBool::new(true));
    let reader = {
        let (db, reading) = (t.db.clone(), reading.clone());
        tokio::spawn(async move {
            let mut seen: BTreeSet<String> = BTreeSet::new();
            let (mut polls, mut longest) = (0u64, Duration::ZERO);
            // One more poll after the flag turns: the last one sees all.
            let mut last = false;
            while !last {
                last = !reading.load(Ordering::SeqCst);
                let started = Instant::now();
                let now = ids(&db)
                    .await
                    .unwrap_or_else(|e| panic!("a reader got an error: {e}"));
                longest = longest.max(started.elapsed());
                let missing: Vec<&String> = seen.difference(&now).collect();
                assert!(missing.is_empty(), "a reader missed rows: {missing:?}");
                seen = now;
                polls += 1;
            }
            (polls, longest, seen.len())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut v3 = stage_v3(&t.db, cache.path()).await;
    let options = deploy::BuildOptions {
        batch_size: 25,
        ..deploy::BuildOptions::default()
    };
    let cutover = Instant::now();
    deploy::build_and_cut_over(&t.db, &mut v3, options, &Quiet)
        .await
        .unwrap();
    eprintln!("built and cut over in {:?}", cutover.elapsed());
    writers.await.unwrap();
    v3.leave_lane();
    caught_up(&t.db, &v3, &follower).await;
    reading.store(false, Ordering::SeqCst);
    let (polls, longest, n_rows) = reader.await.unwrap();
    eprintln!("reader: {polls} polls, longest {longest:?}, {n_rows} rows at the end");
    assert!(polls > 10, "{polls} polls");
    assert_eq!(n_rows, 900);

    let live = all_rows(&t.db, std::slice::from_ref(&v3)).await;
    assert_eq!(
        live,
        clean_replay(store, &events, "orgs_v3").await,
        "after the cutover"
    );
    let upper = &live["orgs_projection"];
    assert!(
        upper
            .iter()
            .all(|r| r["name_upper"] == json!(r["name"].as_str().unwrap().to_uppercase()))
    );
    assert!(
        relations_like(&t.db, "projector_prev_").await > 0,
        "the old tables are kept"
    );
    assert_eq!(relations_like(&t.db, "projector_next_").await, 0);

    // Roll back while events arrive: the old tables come back and catch up.
    registry::rollback(
        &t.db,
        "orgs",
        dir.path(),
        Some(cache.path()),
        Limits::default(),
    )
    .await
    .unwrap();
    let more = org_events(900..960);
    for chunk in more.chunks(20) {
        support::import_json(&t.db, chunk).await;
    }
    caught_up(&t.db, &v1, &follower).await;
    let all: Vec<Json> = events.iter().chain(&more).cloned().collect();
    let live = all_rows(&t.db, std::slice::from_ref(&v1)).await;
    assert_eq!(
        live,
        clean_replay(store, &all, "orgs").await,
        "after the rollback"
    );

    // gc drops the kept tables (now the new version's); a rollback to it
    // is refused from then on.
    assert!(
        host::store::cutover::drop_kept(&t.db, "orgs")
            .await
            .unwrap()
    );
    assert_eq!(relations_like(&t.db, "projector_prev_").await, 0);
    assert!(
        state::owned_relations(&t.db)
            .await
            .unwrap()
            .iter()
            .all(|r| !r.family.contains('@'))
    );
    stop.send(true).unwrap();
    follower.await.unwrap().unwrap();
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_with_a_new_column_is_built_aside_and_cut_over_on_sqlite() {
    blue_green(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_with_a_new_column_is_built_aside_and_cut_over_on_postgres() {
    blue_green(Store::Postgres).await;
}

/// Shadows through the command line: a shadow of the same tables shows the
/// rows it changes and is discarded; a shadow with a new column shows the
/// column and is promoted.
async fn shadows(store: Store) {
    let t = support::test_db(store).await;
    support::import_json(&t.db, &org_events(0..60)).await;
    let dir = support::plugin_dir(&["orgs"]);
    let cache = tempfile::tempdir().unwrap();
    let (dir_s, cache_s) = (dir.path().to_str().unwrap(), cache.path().to_str().unwrap());
    let cli = |args: &'static [&'static str]| support::run_cli(&t.url, dir_s, cache_s, args);
    assert_eq!(cli(&["replay"]).await, ExitCode::SUCCESS);
    let before = all_rows(&t.db, &support::plugins(&["orgs"])).await;

    let v2 = support::guests().wasm("orgs_v2");
    let v2 = v2.to_str().unwrap().to_owned();
    let deploy_v2 = ["plugin", "deploy", "--shadow", v2.as_str()];
    assert_eq!(
        support::run_cli(&t.url, dir_s, cache_s, &deploy_v2).await,
        ExitCode::SUCCESS
    );
    let status = crate::pause::status_output(&t.url).await;
    assert!(
        status.contains("shadow: orgs 0.2.0") && status.contains("80 events applied, 0 to go"),
        "{status}"
    );
    assert!(relations_like(&t.db, "projector_next_").await > 0);
    // Same tables, capitalised names: every added org's name differs.
    let mut plugin = staged_orgs(&t.db, cache.path()).await;
    let verdict = deploy::diff(&t.db, &mut plugin, &verify_options(), &Quiet)
        .await
        .unwrap();
    assert!(verdict.shape.is_empty(), "{verdict:?}");
    let (table, drift) = &verdict.drift[0];
    assert_eq!(table, "orgs_projection");
    assert_eq!(
        verdict.n_drifted(),
        40,
        "the 40 orgs never renamed: {verdict:?}"
    );
    assert!(
        drift
            .examples
            .iter()
            .all(|r| r.columns.iter().any(|c| c.0 == "name"))
    );
    assert_eq!(cli(&["plugin", "diff", "orgs"]).await, ExitCode::from(1));
    assert_eq!(cli(&["plugin", "discard", "orgs"]).await, ExitCode::SUCCESS);
    assert_eq!(relations_like(&t.db, "projector_next_").await, 0);
    assert!(registry::deployments(&t.db).await.unwrap().is_empty());
    assert_eq!(all_rows(&t.db, &support::plugins(&["orgs"])).await, before);

    let v3 = support::guests().wasm("orgs_v3");
    let v3 = v3.to_str().unwrap().to_owned();
    let deploy_v3 = ["plugin", "deploy", "--shadow", v3.as_str()];
    assert_eq!(
        support::run_cli(&t.url, dir_s, cache_s, &deploy_v3).await,
        ExitCode::SUCCESS
    );
    support::import_json(&t.db, &org_events(60..90)).await;
    let mut plugin = staged_orgs(&t.db, cache.path()).await;
    // The live version has not applied the new events: only the tenants
    // at the same place are compared, and the shape differs.
    let verdict = deploy::diff(&t.db, &mut plugin, &verify_options(), &Quiet)
        .await
        .unwrap();
    assert_eq!(verdict.n_drifted(), 0, "{verdict:?}");
    assert_eq!(verdict.shape.len(), 1, "{verdict:?}");
    assert_eq!(verdict.shape[0].other_columns, ["name_upper"]);
    assert_eq!(cli(&["plugin", "promote", "orgs"]).await, ExitCode::SUCCESS);
    assert_eq!(cli(&["replay"]).await, ExitCode::SUCCESS);
    let events = org_events(0..90);
    assert_eq!(
        all_rows(&t.db, &support::plugins(&["orgs_v3"])).await,
        clean_replay_single(store, &events).await
    );
    assert_eq!(cli(&["plugin", "gc", "orgs"]).await, ExitCode::SUCCESS);
    assert_eq!(relations_like(&t.db, "projector_prev_").await, 0);
    t.finish().await;
}

async fn clean_replay_single(
    store: Store,
    events: &[Json],
) -> std::collections::BTreeMap<String, Vec<Json>> {
    let clean = support::test_db(store).await;
    support::import_json(&clean.db, &events[..org_events(0..60).len()]).await;
    support::import_json(&clean.db, &events[org_events(0..60).len()..]).await;
    let mut plugins = support::plugins(&["orgs_v3"]);
    support::replay(&clean.db, &mut plugins, ReplayOptions::default()).await;
    let rows = all_rows(&clean.db, &plugins).await;
    clean.finish().await;
    rows
}

/// The orgs family's staged version, loaded.
async fn staged_orgs(db: &Db, cache: &std::path::Path) -> Plugin {
    let staged = registry::staged(db, "orgs", Some(cache), Limits::default()).await;
    staged.unwrap().expect("a staged version").0
}

fn verify_options() -> host::runtime::verify::VerifyOptions {
    host::runtime::verify::VerifyOptions {
        family: Some("orgs".into()),
        instance_id: None,
        examples: 50,
        batch_size: 100,
        barrier: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadows_are_compared_promoted_and_discarded_on_sqlite() {
    shadows(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadows_are_compared_promoted_and_discarded_on_postgres() {
    shadows(Store::Postgres).await;
}

/// Holds a foreground build after its first batch until `run` has cut over
/// to the same version (as a slow `plugin deploy` beside a quick `run`
/// would be), so the build then finds its lane gone.
struct UntilRunCutsOver {
    db: Db,
    hash: String,
    held: AtomicBool,
}

impl host::runtime::Progress for UntilRunCutsOver {
    fn start(&self, _family: &str, _total: u64) {}

    fn advance(&self, _family: &str, _n: u64) {
        if self.held.swap(true, Ordering::SeqCst) {
            return;
        }
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async {
                let started = Instant::now();
                loop {
                    let deployments = registry::deployments(&self.db).await.unwrap();
                    if deployments.iter().any(|d| d.hash == self.hash && d.active) {
                        return;
                    }
                    assert!(
                        started.elapsed() < Duration::from_secs(60),
                        "run never cut over"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
        });
    }

    fn finish(&self, _report: &host::runtime::FamilyReport) {}
}

/// `plugin deploy` builds a version while `run` follows; `run` catches the
/// lane up and cuts over first. The deploy's build then finds its lane gone
/// and ends without error: what it was asked to do is done. The tables
/// equal a clean replay of the new version.
async fn run_cuts_over_first(store: Store) {
    let t = support::test_db(store).await;
    let events = org_events(0..300);
    for chunk in events.chunks(40) {
        support::import_json(&t.db, chunk).await;
    }
    let dir = support::plugin_dir(&["orgs"]);
    let cache = tempfile::tempdir().unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let follower = follower(&t.db, dir.path(), cache.path(), stop_rx);
    let v1 = support::plugins(&["orgs"]).remove(0);
    caught_up(&t.db, &v1, &follower).await;

    let mut v3 = stage_v3(&t.db, cache.path()).await;
    let hold = UntilRunCutsOver {
        db: t.db.clone(),
        hash: v3.hash.clone(),
        held: AtomicBool::new(false),
    };
    let options = deploy::BuildOptions {
        batch_size: 10,
        ..deploy::BuildOptions::default()
    };
    deploy::build_and_cut_over(&t.db, &mut v3, options, &hold)
        .await
        .unwrap();
    assert!(hold.held.load(Ordering::SeqCst), "the build was not held");
    v3.leave_lane();
    caught_up(&t.db, &v3, &follower).await;
    assert_eq!(
        all_rows(&t.db, std::slice::from_ref(&v3)).await,
        clean_replay(store, &events, "orgs_v3").await
    );
    assert_eq!(relations_like(&t.db, "projector_next_").await, 0);
    stop.send(true).unwrap();
    follower.await.unwrap().unwrap();
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_that_run_cuts_over_first_ends_without_error_on_sqlite() {
    run_cuts_over_first(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_that_run_cuts_over_first_ends_without_error_on_postgres() {
    run_cuts_over_first(Store::Postgres).await;
}
