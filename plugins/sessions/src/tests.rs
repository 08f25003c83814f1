//! Family-wide tests: the description, the event that reaches both tables,
//! every mutation against the host's checks.

use projection_sdk::testing::{
    assert_describes, assert_every_subscription_scopes, assert_instance_removed_clears,
    assert_rejects_unknown, assert_subscribes, no_errors,
};

use crate::Sessions;

#[test]
fn describes_two_tenant_scoped_tables() {
    let description = assert_describes::<Sessions>(
        "sessions",
        "0.1.0",
        &["sessions_projection", "auth_requests_projection"],
    );
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
    assert_subscribes::<Sessions>(
        &[
            ("session", "session.added"),
            ("session", "session.webAuthN.checked"),
            ("session", "session.recoveryCode.checked"),
            ("session", "session.terminated"),
            ("user", "user.human.password.changed"),
            ("user", "user.locked"),
            ("auth_request", "auth_request.failed"),
            ("instance", "instance.removed"),
        ],
        &[("org", "org.removed"), ("user", "user.human.added")],
    );
}

#[test]
fn instance_removed_clears_sessions_then_auth_requests() {
    assert_instance_removed_clears::<Sessions>();
}

#[test]
fn every_mutation_passes_the_hosts_checks() {
    let full = r#"{"user_agent":{"fingerprint_id":"fp","ip":"::1","description":"d",
        "header":{"Accept":["*/*"]}},"userID":"u","userResourceOwner":"o",
        "checkedAt":"2023-05-04T00:00:00Z","userVerified":true,"tokenID":"t",
        "metadata":{"k":"dg=="},"lifetime":60000000000,"login_client":"l","client_id":"c",
        "redirect_uri":"r","scope":["openid"],"prompt":[2],"ui_locales":["de"],
        "max_age":0,"login_hint":"h","hint_user_id":"u"}"#;
    assert_every_subscription_scopes::<Sessions>(&[None, Some("{}"), Some(full)], no_errors);
}

#[test]
fn rejects_unknown_and_empty_events() {
    assert_rejects_unknown::<Sessions>(&[("user", "user.human.added"), ("org", "org.removed")]);
}
