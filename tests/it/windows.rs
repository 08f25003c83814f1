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
