//! Family-wide tests: the description and events that reach several tables.

use projection_sdk::testing::{
    CREATED_AT, assert_describes, assert_every_subscription_scopes, assert_instance_removed_clears,
    assert_rejects_unknown, assert_subscribes, event, no_errors,
};
use projection_sdk::{
    Context, Family, Mutation, NoEvents, ProjectionError, TableModule, Value, delete, insert,
    update,
};

use crate::Apps;

/// What one table's `module` makes of a `project` event, without earlier
/// events.
pub(crate) fn try_reduce(
    module: &TableModule,
    event_type: &str,
    payload: &str,
) -> Result<Option<Vec<Mutation>>, ProjectionError> {
    let e = event("project", event_type, Some(payload));
    module.reduce(&e, &Context::new(&NoEvents))
}

/// [`try_reduce`] of an event the module takes without an error.
pub(crate) fn reduce(
    module: &TableModule,
    event_type: &str,
    payload: &str,
) -> Option<Vec<Mutation>> {
    try_reduce(module, event_type, payload).unwrap()
}

fn handle(aggregate_type: &str, event_type: &str, payload: Option<&str>) -> Vec<Mutation> {
    let e = event(aggregate_type, event_type, payload);
    Apps::handle(&e, &Context::new(&NoEvents)).unwrap()
}

fn touch() -> Mutation {
    update("apps_projection")
        .eq("id", "app-id")
        .set("change_date", Value::Timestamp(CREATED_AT))
        .set("sequence", 15)
        .build()
}

#[test]
fn describes_the_app_table_and_its_sub_tables() {
    let description = assert_describes::<Apps>(
        "apps",
        "0.1.0",
        &[
            "apps_projection",
            "apps_api_configs_projection",
            "apps_oidc_configs_projection",
            "apps_saml_configs_projection",
        ],
    );
    for table in &description.tables[1..] {
        assert_eq!(table.parent.as_deref(), Some("apps_projection"));
        assert_eq!(table.primary_key, ["instance_id", "app_id"]);
    }
    assert_subscribes::<Apps>(
        &[
            ("project", "project.application.added"),
            ("project", "project.application.config.oidc.secret.updated"),
            ("project", "project.application.config.saml.changed"),
            ("project", "project.removed"),
            ("org", "org.removed"),
            ("instance", "instance.removed"),
        ],
        &[("project", "project.application.key.added")],
    );
}

#[test]
fn every_mutation_passes_the_hosts_checks() {
    let full = r#"{"appId":"app-id","name":"n","authMethodType":1}"#;
    assert_every_subscription_scopes::<Apps>(&[None, Some("{}"), Some(full)], no_errors);
}

#[test]
fn a_config_event_writes_the_config_then_touches_the_app() {
    let mutations = handle(
        "project",
        "project.application.config.saml.added",
        Some(r#"{"appId":"app-id","entityId":"e"}"#),
    );
    let config = insert("apps_saml_configs_projection")
        .value("app_id", "app-id")
        .value("entity_id", "e")
        .value("metadata", Value::Bytes(Vec::new()))
        .value("metadata_url", "")
        .value("login_version", 0)
        .value("login_base_uri", "")
        .build();
    assert_eq!(mutations, vec![config, touch()]);
}

#[test]
fn a_saml_change_writes_the_config_then_touches_the_app() {
    let mutations = handle(
        "project",
        "project.application.config.saml.changed",
        Some(r#"{"appId":"app-id","loginVersion":1}"#),
    );
    let config = update("apps_saml_configs_projection")
        .eq("app_id", "app-id")
        .set("login_version", 1)
        .build();
    assert_eq!(mutations, vec![config, touch()]);
}

#[test]
fn config_changes_without_changes_are_no_ops() {
    for event_type in [
        "project.application.config.api.changed",
        "project.application.config.oidc.changed",
        "project.application.config.saml.changed",
    ] {
        let payload = Some(r#"{"appId":"app-id","clientId":"c","entityId":""}"#);
        assert_eq!(
            handle("project", event_type, payload),
            vec![],
            "{event_type}"
        );
    }
}

#[test]
fn removals_delete_app_rows_only() {
    for (aggregate, event_type, column) in [
        ("project", "project.removed", "project_id"),
        ("org", "org.removed", "resource_owner"),
    ] {
        let expected = delete("apps_projection").eq(column, "agg-id").build();
        assert_eq!(handle(aggregate, event_type, None), vec![expected]);
    }
    assert_instance_removed_clears::<Apps>();
}

#[test]
fn rejects_unknown_and_empty_events() {
    assert_rejects_unknown::<Apps>(&[("project", "project.application.key.added")]);
}
