//! Hostile look-ups: past the cap, and on a failing store. Neither is ever
//! answered with a wrong list (ARCHITECTURE.md, "Hostile plugins").

use host::plugin::{LookupSource, PluginError};
use host::runtime::ReplayOptions;
use host::source::{self, BatchQuery, MAX_LOOKUP_EVENTS};
use host::store::state;
use serde_json::{Value as Json, json};

use crate::support::{self, Store};

fn event(tenant: &str, aggregate_type: &str, id: &str, event_type: &str) -> Json {
    json!({
        "instance_id": tenant, "aggregate_type": aggregate_type, "aggregate_id": id,
        "event_type": event_type, "owner": tenant, "payload": {},
        "created_at": "2026-02-01T10:00:00Z"
    })
}

/// `n` events of the `bulk` aggregate (which the hostile family does not
/// subscribe to) for `tenant`.
fn bulk(tenant: &str, n: usize) -> impl Iterator<Item = Json> + '_ {
    (0..n).map(move |i| event(tenant, "bulk", &format!("b{i}"), "bulk.added"))
}

/// A look-up that matches more events than the cap fails the event with a
/// recorded error naming the cap; exactly the cap is answered in full.
async fn lookup_past_the_cap_fails_the_event(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(&["hostile"]);
    let cap = usize::try_from(MAX_LOOKUP_EVENTS).unwrap();
    let mut events: Vec<Json> = bulk("over", cap + 1).chain(bulk("at", cap)).collect();
    for tenant in ["over", "at"] {
        events.push(event(tenant, "hostile", "h", "hostile.lookup_all"));
        events.push(event(tenant, "hostile", "h", "hostile.ok"));
    }
    support::import_json(&t.db, &events).await;
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    assert_eq!((reports[0].n_applied, reports[0].n_failed), (2, 1));
    let failures = state::failures(&t.db).await.unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let failure = &failures[0];
    assert_eq!(
        (
            failure.family.as_str(),
            failure.instance_id.as_str(),
            failure.event_type.as_str()
        ),
        ("hostile", "over", "hostile.lookup_all")
    );
    let expected = format!(
        "plugin hostile: event look-up refused: an event look-up matched more than {cap} events \
         (the look-up cap)"
    );
    assert!(failure.error.contains(&expected), "{}", failure.error);
    let rows = &support::dump_all(&t.db, &plugins).await["hostile_projection"];
    let rows: Vec<(&str, &str, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["instance_id"].as_str().unwrap(),
                r["id"].as_str().unwrap(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("at", "h-1", MAX_LOOKUP_EVENTS), ("at", "h-2", 1)]);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_lookup_past_the_cap_fails_the_event_on_sqlite() {
    lookup_past_the_cap_fails_the_event(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_lookup_past_the_cap_fails_the_event_on_postgres() {
    lookup_past_the_cap_fails_the_event(Store::Postgres).await;
}

/// A store failure during a look-up fails the call as the host's fault (the
/// batch fails and is tried again); the plugin never gets an empty answer.
async fn store_failure_in_a_lookup_is_not_an_empty_answer(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(&["hostile"]);
    support::import_json(&t.db, &[event("t", "hostile", "h", "hostile.lookup_all")]).await;
    let batch = source::read_batch(
        &t.db,
        &BatchQuery {
            aggregate_types: &["hostile".to_owned()],
            event_types: &["hostile.lookup_all".to_owned()],
            instance_id: None,
            skip_instances: &[],
            after: None,
            limit: 10,
            below: None,
        },
    )
    .await
    .unwrap()
    .events;
    assert_eq!(batch.len(), 1);
    let db = t.db.clone();
    let plugin = &mut plugins[0];
    // The call answers while the store is up ...
    let answered =
        tokio::task::block_in_place(|| plugin.handle(&batch, LookupSource::Store(db.clone())))
            .unwrap();
    assert!(answered[0].is_ok(), "{answered:?}");
    // ... and fails, as the host's fault, once it is not.
    db.close().await;
    let err =
        tokio::task::block_in_place(|| plugin.handle(&batch, LookupSource::Store(db))).unwrap_err();
    assert!(
        matches!(&err, PluginError::Lookup(m) if m.starts_with("database error")),
        "{err:?}"
    );
    assert!(!err.is_plugin_fault());
    // The plugin runs again afterwards (its trapped instance was replaced).
    let again = plugin.handle(&batch, LookupSource::Nothing).unwrap();
    assert!(again[0].is_ok(), "{again:?}");
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_store_failure_in_a_lookup_is_not_an_empty_answer_on_sqlite() {
    store_failure_in_a_lookup_is_not_an_empty_answer(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_store_failure_in_a_lookup_is_not_an_empty_answer_on_postgres() {
    store_failure_in_a_lookup_is_not_an_empty_answer(Store::Postgres).await;
}
