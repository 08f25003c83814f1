//! The system tenant: `system_features_projection` has no `instance_id`
//! (system-scoped). Events of the system tenant `''` write it; a tenant's
//! event that tries is refused and recorded against that tenant, and the
//! table keeps its rows. A rebuild of the system tenant rebuilds the table;
//! a rebuild of another tenant leaves it alone.

use host::runtime::ReplayOptions;
use host::store::state;
use serde_json::{Value as Json, json};

use crate::support::{self, Store};

fn feature(tenant: &str, event_type: &str, value: Json) -> Json {
    json!({
        "instance_id": tenant, "aggregate_type": "feature", "aggregate_id": "SYSTEM",
        "event_type": event_type, "owner": "SYSTEM", "payload": {"value": value},
        "created_at": "2026-02-01T10:00:00Z"
    })
}

fn stream() -> Vec<Json> {
    vec![
        feature("", "feature.system.login_v2.set", json!({"required": true})),
        feature("", "feature.system.user_schema.set", json!(true)),
        // A tenant's writer forges a system event.
        feature(
            "acme",
            "feature.system.improved_performance.set",
            json!([1]),
        ),
        feature("", "feature.system.user_schema.set", json!(false)),
        feature("", "feature.system.reset", Json::Null),
        feature("", "feature.system.login_default_org.set", json!(true)),
        feature(
            "",
            "feature.system.login_v2.set",
            json!({"required": false}),
        ),
    ]
}

/// (key, value) of the table's rows.
async fn rows(t: &support::TestDb, plugins: &[host::plugin::Plugin]) -> Vec<(String, Json)> {
    let mut rows: Vec<(String, Json)> =
        support::dump_all(&t.db, plugins).await["system_features_projection"]
            .iter()
            .map(|r| (r["key"].as_str().unwrap().to_owned(), r["value"].clone()))
            .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

async fn only_the_system_tenant_writes_system_tables(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(&["system"]);
    support::import_json(&t.db, &stream()).await;
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    assert_eq!((reports[0].n_applied, reports[0].n_failed), (6, 1));
    let failures = state::failures(&t.db).await.unwrap();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].instance_id, "acme");
    assert!(
        failures[0].error.contains(
            "\"system_features_projection\" is system-scoped: only events of the system tenant '' write it, not tenant \"acme\"'s"
        ),
        "{}",
        failures[0].error
    );
    let expected = vec![
        ("login_default_org".to_owned(), json!(true)),
        ("login_v2".to_owned(), json!({"required": false})),
    ];
    assert_eq!(rows(&t, &plugins).await, expected);

    // Rebuilding another tenant leaves the installation's rows alone (its
    // forged event fails again).
    let acme = ReplayOptions {
        instance_id: Some("acme".into()),
        from_start: true,
        ..ReplayOptions::default()
    };
    let reports = support::replay(&t.db, &mut plugins, acme).await;
    assert_eq!((reports[0].n_applied, reports[0].n_failed), (0, 1));
    assert_eq!(rows(&t, &plugins).await, expected);
    // Rebuilding the system tenant replays the table from its first event.
    let system = ReplayOptions {
        instance_id: Some(String::new()),
        from_start: true,
        ..ReplayOptions::default()
    };
    let reports = support::replay(&t.db, &mut plugins, system).await;
    assert_eq!((reports[0].n_applied, reports[0].n_failed), (6, 0));
    assert_eq!(rows(&t, &plugins).await, expected);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_system_tenant_writes_system_tables_on_sqlite() {
    only_the_system_tenant_writes_system_tables(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_system_tenant_writes_system_tables_on_postgres() {
    only_the_system_tenant_writes_system_tables(Store::Postgres).await;
}
