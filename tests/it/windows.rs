//! Reading the whole stream in windows: a family whose events are rare
//! finds every one of them, each read walks at most a window, and a replay
//! gathers several windows into one batch.

use host::runtime::ReplayOptions;
use host::source::{self, BatchQuery, WINDOW_ROWS};
use serde_json::{Value as Json, json};

use crate::support::{self, Store};

fn org(i: usize) -> Json {
    json!({"instance_id": "t", "aggregate_type": "org", "aggregate_id": format!("o{i}"),
           "event_type": "org.added", "owner": format!("o{i}"), "payload": {"name": format!("org {i}")}})
}

fn noise(i: usize) -> Json {
    json!({"instance_id": "t", "aggregate_type": "noise", "aggregate_id": format!("n{i}"),
           "event_type": "noise.happened", "owner": "x", "payload": {}})
}

async fn rare_events_are_read_across_windows(store: Store) {
    let t = support::test_db(store).await;
    let w = usize::try_from(WINDOW_ROWS).unwrap();
    let total = 2 * w + 500;
    let orgs = [0, w + 3, total - 1];
    let events: Vec<Json> = (0..total)
        .map(|i| if orgs.contains(&i) { org(i) } else { noise(i) })
        .collect();
    support::import_json(&t.db, &events).await;
    let read = |after: Option<Json>, limit: i64| {
        let db = t.db.clone();
        async move {
            let after = after.map(|e| serde_json::from_value(e).unwrap());
            let (aggregate_types, event_types) = (["org".to_owned()], ["org.added".to_owned()]);
            let query = BatchQuery {
                aggregate_types: &aggregate_types,
                event_types: &event_types,
                instance_id: None,
                skip_instances: &[],
                after: after.as_ref(),
                limit,
                below: None,
            };
            source::read_batch(&db, &query).await.unwrap()
        }
    };

    // Window by window: two full windows, then the rest, then nothing.
    let mut after = None;
    let mut reads = Vec::new();
    loop {
        let batch = read(after.clone(), 1000).await;
        let Some(through) = batch.through else {
            break;
        };
        let ids: Vec<String> = batch
            .events
            .iter()
            .map(|e| e.aggregate_id.clone())
            .collect();
        reads.push((ids, through.aggregate_id.clone(), batch.more));
        after = Some(serde_json::to_value(&through).unwrap());
    }
    let last_noise = |i: usize| format!("n{i}");
    assert_eq!(
        reads,
        vec![
            (vec!["o0".to_owned()], last_noise(w - 1), true),
            (vec![format!("o{}", w + 3)], last_noise(2 * w - 1), true),
            (
                vec![format!("o{}", total - 1)],
                format!("o{}", total - 1),
                false
            ),
        ]
    );

    // The limit ends a read before its window does.
    let first = read(None, 1).await;
    assert_eq!(first.events.len(), 1);
    assert_eq!(first.through.map(|e| e.aggregate_id), Some("o0".to_owned()));
    assert!(first.more);

    // A replay gathers the windows into one batch and projects every org.
    let mut plugins = support::plugins(&["orgs"]);
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    assert_eq!((reports[0].n_applied, reports[0].n_batches), (3, 1));
    let tables = support::dump_all(&t.db, &plugins).await;
    assert_eq!(tables.get("orgs_projection").map(Vec::len), Some(3));
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rare_events_are_read_across_windows_on_sqlite() {
    rare_events_are_read_across_windows(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rare_events_are_read_across_windows_on_postgres() {
    rare_events_are_read_across_windows(Store::Postgres).await;
}

/// A generated stream: per event its tenant, aggregate (type, id), event
/// type and place (position step, order in its transaction). Positions
/// repeat and orders in a transaction collide across aggregates, so every
/// column of the global order breaks ties somewhere.
type Stream = Vec<(usize, usize, usize, usize, bool, u32)>;

const TENANTS: [&str; 3] = ["a", "b", "c"];
const AGGREGATES: [(&str, [&str; 2]); 3] = [
    ("org", ["org.added", "org.changed"]),
    ("user", ["user.added", "user.removed"]),
    ("noise", ["noise.happened", "noise.faded"]),
];

/// What a windowed read asks: subscribed aggregate types and event types
/// (indexes into [`AGGREGATES`]), skipped tenants, limit, window size.
#[derive(Debug, Clone)]
struct Ask {
    aggregate_types: Vec<usize>,
    event_types: Vec<(usize, usize)>,
    skip: Vec<usize>,
    limit: i64,
    window: i64,
}

fn stream_events(stream: &Stream) -> Vec<Json> {
    let mut position = 1_700_000_000_u64;
    stream
        .iter()
        .map(|&(tenant, aggregate, id, kind, step, in_tx_order)| {
            if step {
                position += 1;
            }
            let (aggregate_type, kinds) = AGGREGATES[aggregate];
            json!({"instance_id": TENANTS[tenant], "aggregate_type": aggregate_type,
                   "aggregate_id": format!("{aggregate_type}{id}"), "event_type": kinds[kind],
                   "owner": "o", "position": format!("{position}.5"), "in_tx_order": in_tx_order,
                   "payload": {}})
        })
        .collect()
}

/// Every stored event's key (tenant, aggregate type, aggregate id,
/// sequence) and event type, in the database's own global order.
async fn stored_order(db: &host::store::Db) -> Vec<(String, String, String, i64, String)> {
    let sql = format!(
        "SELECT e.instance_id, e.aggregate_type, e.aggregate_id, e.\"sequence\", e.event_type \
         FROM {} e ORDER BY {}",
        db.events_table(),
        host::event_order::order_by("e", db.dialect())
    );
    match db {
        host::store::Db::Sqlite(pool) => sqlx::query_as(&sql).fetch_all(pool).await.unwrap(),
        host::store::Db::Postgres(pool) => sqlx::query_as(&sql).fetch_all(pool).await.unwrap(),
    }
}

async fn clear_events(db: &host::store::Db) {
    let sql = format!("DELETE FROM {}", db.events_table());
    match db {
        host::store::Db::Sqlite(pool) => sqlx::query(&sql).execute(pool).await.map(|_| ()),
        host::store::Db::Postgres(pool) => sqlx::query(&sql).execute(pool).await.map(|_| ()),
    }
    .unwrap();
}

/// Walk a generated stream read after read: every read keeps the
/// contract (at most the limit, at most a window walked, `through` the
/// stream's last event when nothing may follow), and the reads together
/// take exactly the subscribed events of the tenants not skipped, in the
/// database's global order.
async fn windowed_reads_check(
    db: &host::store::Db,
    stream: Stream,
    ask: Ask,
) -> Result<(), proptest::test_runner::TestCaseError> {
    use proptest::prop_assert;
    use proptest::prop_assert_eq;
    clear_events(db).await;
    support::import_json(db, &stream_events(&stream)).await;
    let order = stored_order(db).await;
    let aggregate_types: Vec<String> = ask
        .aggregate_types
        .iter()
        .map(|&a| AGGREGATES[a].0.to_owned())
        .collect();
    let event_types: Vec<String> = ask
        .event_types
        .iter()
        .map(|&(a, k)| AGGREGATES[a].1[k].to_owned())
        .collect();
    let skip: Vec<String> = ask.skip.iter().map(|&t| TENANTS[t].to_owned()).collect();
    let key = |e: &projection_sdk::Event| {
        (
            e.instance_id.clone(),
            e.aggregate_type.clone(),
            e.aggregate_id.clone(),
            e.sequence,
        )
    };
    let index_of = |e: &projection_sdk::Event| {
        order
            .iter()
            .position(|(i, t, a, s, _)| (i.clone(), t.clone(), a.clone(), *s) == key(e))
    };
    let wanted: Vec<_> = order
        .iter()
        .filter(|(i, t, _, _, kind)| {
            aggregate_types.contains(t) && event_types.contains(kind) && !skip.contains(i)
        })
        .map(|(i, t, a, s, _)| (i.clone(), t.clone(), a.clone(), *s))
        .collect();
    let mut taken = Vec::new();
    let mut after: Option<projection_sdk::Event> = None;
    for _ in 0..=order.len() + 1 {
        let query = BatchQuery {
            aggregate_types: &aggregate_types,
            event_types: &event_types,
            instance_id: None,
            skip_instances: &skip,
            after: after.as_ref(),
            limit: ask.limit,
            below: None,
        };
        let batch = source::read_batch_in_windows(db, &query, ask.window)
            .await
            .unwrap();
        let start = after
            .as_ref()
            .map_or(Some(0), |a| index_of(a).map(|i| i + 1));
        prop_assert!(start.is_some(), "the cursor is a stored event");
        let start = start.unwrap_or(0);
        let Some(through) = batch.through else {
            prop_assert_eq!(start, order.len(), "nothing read while events follow");
            prop_assert!(batch.events.is_empty());
            break;
        };
        let end = index_of(&through);
        prop_assert!(end.is_some(), "through is a stored event");
        let end = end.unwrap_or(0);
        prop_assert!(end >= start, "through goes forward");
        prop_assert!(
            (end + 1 - start) as i64 <= ask.window,
            "a read walked {} events, more than its window of {}",
            end + 1 - start,
            ask.window
        );
        prop_assert!(batch.events.len() as i64 <= ask.limit);
        let expected: Vec<_> = wanted
            .iter()
            .filter(|k| {
                order
                    .iter()
                    .position(|(i, t, a, s, _)| (i, t, a, s) == (&k.0, &k.1, &k.2, &k.3))
                    .is_some_and(|at| at >= start && at <= end)
            })
            .cloned()
            .collect();
        let got: Vec<_> = batch.events.iter().map(key).collect();
        prop_assert_eq!(&got, &expected, "the events between the cursor and through");
        if !batch.more {
            prop_assert_eq!(end + 1, order.len(), "no more, yet events follow");
        }
        taken.extend(got);
        after = Some(through);
        if !batch.more {
            break;
        }
    }
    prop_assert_eq!(taken, wanted);
    Ok(())
}

fn windowed_reads_equal_the_plain_order(store: Store) {
    use proptest::prelude::*;
    let support::Proptest {
        cases,
        seed,
        mut runner,
        rt,
    } = support::proptest_run(64);
    let t = rt.block_on(support::test_db(store));
    let event = (
        0..3_usize,
        0..3_usize,
        0..3_usize,
        0..2_usize,
        any::<bool>(),
        0..3_u32,
    );
    let stream = prop::collection::vec(event, 0..60);
    let ask = (
        prop::collection::btree_set(0..3_usize, 1..=3),
        prop::collection::btree_set((0..3_usize, 0..2_usize), 1..=6),
        prop::collection::btree_set(0..3_usize, 0..=2),
        1..8_i64,
        1..12_i64,
    )
        .prop_map(|(aggregate_types, event_types, skip, limit, window)| Ask {
            aggregate_types: aggregate_types.into_iter().collect(),
            event_types: event_types.into_iter().collect(),
            skip: skip.into_iter().collect(),
            limit,
            window,
        });
    let started = std::time::Instant::now();
    let result = runner.run(&(stream, ask), |(stream, ask)| {
        rt.block_on(windowed_reads_check(&t.db, stream, ask))
    });
    println!(
        "{store:?}: {cases} cases in {:.1} s (seed {seed})",
        started.elapsed().as_secs_f64()
    );
    rt.block_on(t.finish());
    if let Err(e) = result {
        panic!("{e} (repeat with PROJECTOR_PROPTEST_SEED={seed})");
    }
}

#[test]
fn windowed_reads_equal_the_plain_order_on_sqlite() {
    windowed_reads_equal_the_plain_order(Store::Sqlite);
}

#[test]
fn windowed_reads_equal_the_plain_order_on_postgres() {
    windowed_reads_equal_the_plain_order(Store::Postgres);
}
