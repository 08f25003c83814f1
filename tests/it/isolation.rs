//! A hostile plugin is refused before any SQL runs, with a recorded error and
//! no partial write, while other tenants and families keep projecting.
//! ARCHITECTURE.md ("Hostile plugins") lists each class and its outcome.

use host::runtime::ReplayOptions;
use host::store::state;
use serde_json::{Value as Json, json};

use crate::support::{self, Store};

/// (event type, a phrase the recorded error must contain)
const ATTACKS: &[(&str, &str)] = &[
    (
        "hostile.nul_text",
        "column hostile_projection.id: text with a NUL character",
    ),
    (
        "hostile.time_out_of_range",
        "column hostile_projection.change_date: a time outside the years 1 to 9999",
    ),
    (
        "hostile.foreign_table",
        "is not owned by family \"hostile\"",
    ),
    ("hostile.other_tenant", "names tenant \"someone-else\""),
    ("hostile.undeclared_column", "has no column \"secret\""),
    ("hostile.wrong_type", "got a text value"),
    ("hostile.partial", "is not owned by family \"hostile\""),
    ("hostile.duplicate", "database refused mutation"),
    ("hostile.error", "refusing on purpose"),
    (
        "hostile.loop",
        "plugin hostile exceeded its time limit: out of fuel",
    ),
    ("hostile.oom", "plugin hostile trapped"),
    (
        "hostile.huge",
        "plugin hostile returned too much output: 10001 mutations for one event (limit 10000)",
    ),
    (
        "hostile.panic",
        "plugin hostile trapped: panicked: hostile plugin panics on purpose",
    ),
    (
        "hostile.stack_overflow",
        "plugin hostile trapped: stack overflow (wasm call stack exhausted)",
    ),
    (
        "hostile.big_value",
        "plugin hostile exceeded its time limit: out of fuel (50000000 per event",
    ),
    (
        "hostile.lookup_loop",
        "plugin hostile: event look-up refused: more than 1000 look-ups for one event (limit 1000)",
    ),
    (
        "hostile.tenant_case",
        "names tenant \"TENANT_CASE\", the event's tenant is \"tenant_case\"",
    ),
    (
        "hostile.tenant_spaces",
        "names tenant \" tenant_spaces \", the event's tenant is \"tenant_spaces\"",
    ),
    (
        "hostile.update_tenant",
        "column hostile_projection.instance_id: the tenant column cannot be changed",
    ),
    (
        "hostile.delete_other_tenant",
        "names tenant \"someone-else\", the event's tenant is \"delete_other_tenant\"",
    ),
    (
        "hostile.system_table",
        "\"hostile_settings_projection\" is system-scoped: only events of the system tenant '' write it, not tenant \"system_table\"'s",
    ),
    (
        "hostile.sql_column",
        "table \"hostile_projection\" has no column \"id\\\"; DROP TABLE x; --\"",
    ),
];

fn event(tenant: &str, aggregate_type: &str, id: &str, event_type: &str, payload: Json) -> Json {
    json!({
        "instance_id": tenant, "aggregate_type": aggregate_type, "aggregate_id": id,
        "event_type": event_type, "owner": tenant, "payload": payload,
        "created_at": "2026-02-01T10:00:00Z"
    })
}

/// Per attacked tenant: a good event, the attack, a good event, and an org
/// for the orgs family; one tenant sees only good events.
fn stream() -> Vec<Json> {
    let mut events = Vec::new();
    for (attack, _) in ATTACKS {
        let tenant = attack.trim_start_matches("hostile.");
        events.push(event(tenant, "hostile", "h", "hostile.ok", json!({})));
        events.push(event(tenant, "hostile", "h", attack, json!({})));
        events.push(event(tenant, "hostile", "h", "hostile.ok", json!({})));
        events.push(event(
            tenant,
            "org",
            "o",
            "org.added",
            json!({"name": format!("org of {tenant}")}),
        ));
    }
    events.push(event("clean", "hostile", "h", "hostile.ok", json!({})));
    events.push(event("clean", "hostile", "h", "hostile.ok", json!({})));
    events
}

async fn hostile_plugin_is_contained(store: Store) {
    let t = support::test_db(store).await;
    let mut plugins = support::plugins(&["orgs", "hostile"]);
    support::import_json(&t.db, &stream()).await;
    let reports = support::replay(
        &t.db,
        &mut plugins,
        ReplayOptions {
            batch_size: 5,
            ..ReplayOptions::default()
        },
    )
    .await;
    let hostile = reports.iter().find(|r| r.family == "hostile").unwrap();
    assert_eq!(hostile.n_failed, ATTACKS.len() as u64);
    assert_eq!(hostile.n_applied, ATTACKS.len() as u64 + 2);

    let tables = support::dump_all(&t.db, &plugins).await;
    // No tenant's event reached the system-scoped table.
    assert_eq!(tables["hostile_settings_projection"], Vec::new());
    // Each attacked tenant kept exactly its first good row; the clean one both.
    let rows: Vec<(String, String)> = tables["hostile_projection"]
        .iter()
        .map(|r| {
            (
                r["instance_id"].as_str().unwrap().to_owned(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected: Vec<(String, String)> = ATTACKS
        .iter()
        .map(|(a, _)| {
            (
                a.trim_start_matches("hostile.").to_owned(),
                "h-1".to_owned(),
            )
        })
        .collect();
    expected.push(("clean".into(), "h-1".into()));
    expected.push(("clean".into(), "h-2".into()));
    expected.sort();
    assert_eq!(rows, expected);
    // The orgs family projected every tenant's org; nothing was stolen.
    let orgs: Vec<&str> = tables["orgs_projection"]
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(orgs.len(), ATTACKS.len());
    assert!(orgs.iter().all(|n| n.starts_with("org of ")), "{orgs:?}");

    // Every attack is recorded against its tenant, with a readable error.
    let failures = state::failures(&t.db).await.unwrap();
    assert_eq!(failures.len(), ATTACKS.len());
    for (attack, phrase) in ATTACKS {
        let tenant = attack.trim_start_matches("hostile.");
        let f = failures.iter().find(|f| f.instance_id == tenant).unwrap();
        assert_eq!(
            (f.family.as_str(), f.event_type.as_str(), f.failure_count),
            ("hostile", *attack, 1)
        );
        assert!(f.error.contains(phrase), "{attack}: {}", f.error);
    }
    // The stuck tenants stay before the failed event; a new run retries it.
    let checkpoints = state::checkpoints(&t.db).await.unwrap();
    let stuck = checkpoints
        .iter()
        .filter(|c| c.family == "hostile" && c.instance_id != "clean");
    assert!(stuck.clone().count() == ATTACKS.len());
    support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    let failures = state::failures(&t.db).await.unwrap();
    assert!(
        failures.iter().all(|f| f.failure_count == 2),
        "{failures:?}"
    );
    assert_eq!(support::dump_all(&t.db, &plugins).await, tables);
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugin_is_contained_on_sqlite() {
    hostile_plugin_is_contained(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plugin_is_contained_on_postgres() {
    hostile_plugin_is_contained(Store::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_families_cannot_share_a_table() {
    let t = support::test_db(Store::Sqlite).await;
    // wrong_orgs is a second plugin of family orgs: neither is installed.
    let mut plugins = support::plugins(&["orgs", "wrong_orgs"]);
    let reports = support::replay(&t.db, &mut plugins, ReplayOptions::default()).await;
    assert_eq!(reports.len(), 2);
    for report in &reports {
        let error = report.refused.as_deref().unwrap_or_default();
        assert!(error.contains("family \"orgs\" is loaded twice"), "{error}");
        assert_eq!(report.n_applied, 0);
    }
    assert!(state::owned_relations(&t.db).await.unwrap().is_empty());
    assert!(
        state::stored_description(&t.db, "orgs")
            .await
            .unwrap()
            .is_none()
    );
    t.finish().await;
}
