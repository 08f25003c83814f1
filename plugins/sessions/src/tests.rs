//! Family-wide tests: the description, the event that reaches both tables,
//! every mutation against the host's checks.

use projection_sdk::testing::event;
use projection_sdk::validate::scope;
use projection_sdk::{Context, Family, Mutation, NoEvents, ProjectionError, delete};

use crate::Sessions;

const TABLES: [&str; 2] = ["sessions_projection", "auth_requests_projection"];

fn handle(aggregate_type: &str, event_type: &str, payload: Option<&str>) -> Vec<Mutation> {
    let e = event(aggregate_type, event_type, payload);
    Sessions::handle(&e, &Context::new(&NoEvents)).unwrap()
}

#[test]
fn describes_two_tenant_scoped_tables() {
    let description = Sessions::describe();
    assert_eq!(description.name, "sessions");
    assert_eq!(description.version, "0.1.0");
    let names: Vec<&str> = description.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, TABLES);
    projection_sdk::testing::assert_tenant_scoped(&description);
    for table in &description.tables {
        assert_eq!(table.primary_key, ["instance_id", "id"]);
        assert_eq!(table.parent, None);
    }
    let sessions = &description.tables[0];
    let indexes: Vec<&str> = sessions.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(indexes, ["user_agent_fingerprint_id_idx", "user_id_idx"]);
    assert!(description.tables[1].indexes.is_empty());
}

#[test]
fn subscribes_to_session_user_auth_request_and_instance_events() {
    let description = Sessions::describe();
    for (aggregate, event_type) in [
        ("session", "session.added"),
        ("session", "session.webAuthN.checked"),
        ("session", "session.recoveryCode.checked"),
        ("session", "session.terminated"),
        ("user", "user.human.password.changed"),
        ("user", "user.locked"),
        ("auth_request", "auth_request.failed"),
        ("instance", "instance.removed"),
    ] {
        assert!(description.wants(aggregate, event_type), "{event_type}");
    }
    assert!(!description.wants("org", "org.removed"));
    assert!(!description.wants("user", "user.human.added"));
}

#[test]
fn instance_removed_clears_sessions_then_auth_requests() {
    let expected = TABLES.map(|t| delete(t).eq("instance_id", "instance-id").build());
    assert_eq!(
        handle("instance", "instance.removed", None),
        expected.to_vec()
    );
}

#[test]
fn every_mutation_passes_the_hosts_checks() {
    let description = Sessions::describe();
    let full = r#"{"user_agent":{"fingerprint_id":"fp","ip":"::1","description":"d",
        "header":{"Accept":["*/*"]}},"userID":"u","userResourceOwner":"o",
        "checkedAt":"2023-05-04T00:00:00Z","userVerified":true,"tokenID":"t",
        "metadata":{"k":"dg=="},"lifetime":60000000000,"login_client":"l","client_id":"c",
        "redirect_uri":"r","scope":["openid"],"prompt":[2],"ui_locales":["de"],
        "max_age":0,"login_hint":"h","hint_user_id":"u"}"#;
    for sub in &description.subscriptions {
        for event_type in &sub.event_types {
            for payload in [None, Some("{}"), Some(full)] {
                let e = event(&sub.aggregate_type, event_type, payload);
                for m in Sessions::handle(&e, &Context::new(&NoEvents)).unwrap() {
                    scope(&description, &e, m).unwrap();
                }
            }
        }
    }
}

#[test]
fn rejects_unknown_and_empty_events() {
    let ctx = Context::new(&NoEvents);
    let mut empty = event("", "", None);
    empty.instance_id.clear();
    empty.aggregate_id.clear();
    for e in [
        empty,
        event("user", "user.human.added", None),
        event("org", "org.removed", None),
    ] {
        assert!(matches!(
            Sessions::handle(&e, &ctx),
            Err(ProjectionError::UnhandledEvent(_))
        ));
    }
}
