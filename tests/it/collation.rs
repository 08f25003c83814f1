//! Events that share a position and an order in their transaction are read,
//! applied and checkpointed in one order, whatever the database's collation:
//! on a PostgreSQL database whose text sorts by ICU's `en-US` ("a" before
//! "B", where bytes put "B" first), each such event is applied once, in
//! batches of every size and across stops after every batch.

use host::runtime::{Control, ReplayOptions};
use host::store::Db;
use serde_json::{Value as Json, json};

use crate::support;

/// Aggregate ids whose order by bytes differs from `en-US`'s.
const IDS: &[&str] = &["a", "B", "c", "D", "e_f", "ef", "Z", "_z", "Ab", "aB"];

/// An instance, then one org per id, all at one position and one order in
/// their transaction (two writers' commits stamped alike).
fn stream() -> Vec<Json> {
    let mut events = vec![json!({
        "instance_id": "t1", "aggregate_type": "instance", "aggregate_id": "t1",
        "event_type": "instance.added", "owner": "t1", "payload": {"name": "T"},
        "created_at": "2026-02-01T10:00:00Z", "position": 10, "in_tx_order": 0,
    })];
    events.extend(IDS.iter().map(|id| {
        json!({
            "instance_id": "t1", "aggregate_type": "org", "aggregate_id": id,
            "event_type": "org.added", "owner": id, "payload": {"name": format!("org {id}")},
            "created_at": "2026-02-01T10:00:01Z", "position": 11, "in_tx_order": 0,
        })
    }));
    events
}

async fn org_ids(db: &Db) -> Vec<String> {
    let Db::Postgres(pool) = db else {
        panic!("a PostgreSQL store")
    };
    sqlx::query_scalar("SELECT id FROM orgs_projection ORDER BY id COLLATE \"C\"")
        .fetch_all(pool)
        .await
        .unwrap()
}

fn every_id() -> Vec<String> {
    let mut ids: Vec<String> = IDS.iter().map(|id| (*id).to_owned()).collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ties_are_applied_once_under_a_collation_that_is_not_bytes_on_postgres() {
    for batch_size in [1, 2, 3, 7, 100] {
        for stop_after_each in [false, true] {
            let t = support::test_db_collated("en-US").await;
            let Db::Postgres(pool) = &t.db else {
                panic!("a PostgreSQL store")
            };
            let sorted: Vec<String> =
                sqlx::query_scalar("SELECT id FROM unnest(ARRAY['a', 'B']) AS u(id) ORDER BY id")
                    .fetch_all(pool)
                    .await
                    .unwrap();
            assert_eq!(sorted, ["a", "B"], "the database sorts text by en-US");
            support::import_json(&t.db, &stream()).await;
            let mut plugins = support::plugins(&["orgs"]);
            let options = ReplayOptions {
                batch_size,
                ..ReplayOptions::default()
            };
            let control = Control {
                max_batches: stop_after_each.then_some(1),
                ..Control::default()
            };
            let (mut applied, mut failed, mut rounds) = (0, 0, 0);
            loop {
                let reports = support::replay_controlled(
                    &t.db,
                    &mut plugins,
                    options.clone(),
                    control.clone(),
                )
                .await;
                applied += reports.iter().map(|r| r.n_applied).sum::<u64>();
                failed += reports.iter().map(|r| r.n_failed).sum::<u64>();
                rounds += 1;
                if reports.iter().all(|r| r.n_batches == 0) || !stop_after_each {
                    break;
                }
                assert!(rounds < 50, "the replay does not converge");
            }
            let case = format!("batches of {batch_size}, a stop after each: {stop_after_each}");
            assert_eq!(failed, 0, "{case}");
            assert_eq!(applied, IDS.len() as u64, "{case}");
            assert_eq!(org_ids(&t.db).await, every_id(), "{case}");
            t.finish().await;
        }
    }
}
