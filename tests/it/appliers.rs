//! Several appliers of one family on one database: two followers (one with
//! three workers) and repeated replays beside them, with writers appending,
//! apply every event exactly once (each apply claims its tenants' checkpoints,
//! `store::claim`); a claim refuses a checkpoint that moved, and on
//! PostgreSQL a second claim of the same tenant waits for the first.

use std::time::Duration;

use host::runtime::follow::{FollowOptions, follow};
use host::runtime::{Quiet, ReplayOptions};
use host::store::claim::{self, Expected};
use host::store::{Db, StoreError, state};
use serde_json::{Value as Json, json};
use tokio::sync::watch;

use crate::differential::all_rows;
use crate::live::behind;
use crate::support::{self, Store};

const FAMILIES: &[&str] = &["instances", "orgs", "users", "projects"];

fn stream() -> Vec<Json> {
    support::unpositioned_stream(11, 5, 2500)
}

const CHUNK: usize = 50;

/// A follower of `FAMILIES` on a task of its own.
fn follower(
    db: &Db,
    batch_size: usize,
    workers: usize,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Result<(), host::runtime::RuntimeError>> {
    let db = db.clone();
    tokio::spawn(async move {
        let mut plugins = support::plugins(FAMILIES);
        let options = FollowOptions {
            batch_size,
            poll_interval: Duration::from_millis(3),
            workers,
            ..FollowOptions::default()
        };
        follow(&db, &mut plugins, &options, stop, None, &Quiet).await
    })
}

async fn several_appliers(store: Store) {
    let t = support::test_db(store).await;
    let events = stream();
    let (first, rest) = events.split_at(500);
    for chunk in first.chunks(CHUNK) {
        support::import_json(&t.db, chunk).await;
    }
    let (stop, stop_rx) = watch::channel(false);
    // Two followers of other batch sizes, one with three workers, so their
    // batches overlap in every way; writers and replays (one with two
    // workers) on tasks of their own.
    let followers = [
        follower(&t.db, 40, 1, stop_rx.clone()),
        follower(&t.db, 17, 3, stop_rx),
    ];
    let writers = {
        let db = t.db.clone();
        let rest = rest.to_vec();
        tokio::spawn(async move {
            for chunk in rest.chunks(CHUNK) {
                support::import_json(&db, chunk).await;
                tokio::time::sleep(Duration::from_millis(4)).await;
            }
        })
    };
    let replays = {
        let db = t.db.clone();
        tokio::spawn(async move {
            let mut plugins = support::plugins(FAMILIES);
            for (batch_size, workers) in [(23, 1), (60, 2), (9, 1), (31, 2)] {
                support::replay(
                    &db,
                    &mut plugins,
                    ReplayOptions {
                        batch_size,
                        workers,
                        ..ReplayOptions::default()
                    },
                )
                .await;
            }
        })
    };
    writers.await.unwrap();
    replays.await.unwrap();
    let following = support::plugins(FAMILIES);
    let started = std::time::Instant::now();
    while behind(&t.db, &following).await > 0 {
        for f in &followers {
            assert!(!f.is_finished(), "a follower stopped");
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "still {} events behind",
            behind(&t.db, &following).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    for f in followers {
        f.await.unwrap().unwrap();
    }
    // A second apply of an event would also count it twice.
    support::assert_all_applied(&t.db, &following).await;
    support::assert_equals_clean_replay(store, &t.db, FAMILIES, &events, CHUNK).await;
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_appliers_apply_every_event_once_on_sqlite() {
    several_appliers(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_appliers_apply_every_event_once_on_postgres() {
    several_appliers(Store::Postgres).await;
}

fn expect(entries: &[(&str, Option<i64>)]) -> Expected {
    entries
        .iter()
        .map(|(tenant, n)| ((*tenant).to_owned(), *n))
        .collect()
}

async fn a_claim_refuses_a_moved_checkpoint(store: Store) {
    let t = support::test_db(store).await;
    let org = |tenant: &str, id: &str| {
        json!({"instance_id": tenant, "aggregate_type": "org", "aggregate_id": id,
               "event_type": "org.added", "owner": id, "payload": {"name": id}})
    };
    support::import_json(&t.db, &[org("a", "o1"), org("a", "o2"), org("b", "o3")]).await;
    let mut plugins = support::plugins(&["orgs"]);
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    let cases = [
        (expect(&[("a", Some(2)), ("b", Some(1)), ("c", None)]), None),
        (expect(&[("a", Some(1))]), Some("a")),
        (expect(&[("a", Some(2)), ("b", None)]), Some("b")),
        (expect(&[("c", Some(0))]), Some("c")),
    ];
    for (expected, moved) in cases {
        let mut tx = t.db.begin().await.unwrap();
        let claimed = claim::claim(&mut tx, "orgs", &expected).await;
        tx.rollback().await.unwrap();
        match (claimed, moved) {
            (Ok(()), None) => {}
            (
                Err(StoreError::CheckpointMoved {
                    family,
                    instance_id,
                }),
                Some(tenant),
            ) => {
                assert_eq!((family.as_str(), instance_id.as_str()), ("orgs", tenant));
            }
            (other, moved) => panic!("{expected:?}: {other:?}, expected a move of {moved:?}"),
        }
    }
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_refuses_a_moved_checkpoint_on_sqlite() {
    a_claim_refuses_a_moved_checkpoint(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_refuses_a_moved_checkpoint_on_postgres() {
    a_claim_refuses_a_moved_checkpoint(Store::Postgres).await;
}

/// Two transactions claim a tenant that has no checkpoint yet: the second
/// waits for the first, and once the first has written the checkpoint and
/// committed, the second is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_claim_waits_for_the_first_on_postgres() {
    let t = support::test_db(Store::Postgres).await;
    let event = json!({"instance_id": "new", "aggregate_type": "org", "aggregate_id": "o",
                       "event_type": "org.added", "owner": "o", "payload": {"name": "o"}});
    support::import_json(&t.db, &[event]).await;
    let stored = host::source::read_batch(
        &t.db,
        &host::source::BatchQuery {
            aggregate_types: &["org".to_owned()],
            event_types: &["org.added".to_owned()],
            instance_id: Some("new"),
            skip_instances: &[],
            after: None,
            limit: 10,
            below: None,
        },
    )
    .await
    .unwrap()
    .events;
    let expected = expect(&[("new", None)]);
    let mut first = t.db.begin().await.unwrap();
    claim::claim(&mut first, "orgs", &expected).await.unwrap();
    let second = {
        let (db, expected) = (t.db.clone(), expected.clone());
        tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            let claimed = claim::claim(&mut tx, "orgs", &expected).await;
            tx.rollback().await.unwrap();
            claimed
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second claim did not wait");
    state::save_checkpoint(&mut first, "orgs", "test", &stored[0])
        .await
        .unwrap();
    first.commit().await.unwrap();
    match second.await.unwrap() {
        Err(StoreError::CheckpointMoved { instance_id, .. }) => assert_eq!(instance_id, "new"),
        other => panic!("the second claim went through: {other:?}"),
    }
    t.finish().await;
}

/// A replay on several workers leaves the tables and checkpoints of a
/// replay on one: the families side by side (as many as there are workers
/// or more: each family one group), or one family at a time, its units in
/// groups (more workers than families: a plugin instance per group).
async fn workers_replay_like_one(store: Store) {
    let events = streams::generate(&streams::Config {
        seed: 31,
        tenants: 9,
        events: 2500,
    });
    let mut projected = Vec::new();
    for (workers, one_at_a_time) in [(1, false), (4, false), (3, true)] {
        let t = support::test_db(store).await;
        support::import_json(&t.db, &events).await;
        let mut plugins = support::plugins(support::FAMILIES);
        let families: Vec<Option<String>> = if one_at_a_time {
            plugins
                .iter()
                .map(|p| Some(p.family().to_owned()))
                .collect()
        } else {
            vec![None]
        };
        let mut reports = Vec::new();
        for family in families {
            reports.extend(
                support::replay(
                    &t.db,
                    &mut plugins,
                    ReplayOptions {
                        family,
                        batch_size: 50,
                        workers,
                        ..ReplayOptions::default()
                    },
                )
                .await,
            );
        }
        let applied: u64 = reports.iter().map(|r| r.n_applied).sum();
        assert_eq!(state::failures(&t.db).await.unwrap(), Vec::new());
        let checkpoints: Vec<_> = state::checkpoints(&t.db)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (c.family, c.instance_id, c.position, c.n_consumed))
            .collect();
        projected.push((applied, checkpoints, all_rows(&t.db, &plugins).await));
        t.finish().await;
    }
    assert!(projected[0].0 > 0);
    for other in &projected[1..] {
        assert_eq!(projected[0].0, other.0, "events applied");
        assert_eq!(projected[0].1, other.1, "checkpoints");
        assert!(projected[0].2 == other.2, "the tables differ");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_replay_like_one_on_sqlite() {
    workers_replay_like_one(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_replay_like_one_on_postgres() {
    workers_replay_like_one(Store::Postgres).await;
}
