//! The provider declarations and the shared provider reducers.

use projection_sdk::testing::{CREATED_AT, event};
use projection_sdk::{
    ColumnType, Context, Description, Mutation, NoEvents, Reduced, Value, delete, insert, update,
};

use super::{Events, Module, Provider};
use crate::field::{Field, Kind, field};
use crate::template::IdpType;
use crate::template::{azure, github, jwt, oidc};

/// A provider with one field of each column shape.
struct Sample;

impl Provider for Sample {
    const TABLE: &'static str = "idp_templates_sample_projection";
    const TYPE: IdpType = IdpType::OAuth;
    const EVENTS: Events = events!("instance.idp.sample", "org.idp.sample");
    const FIELDS: &'static [Field] = &[
        field("clientId", "client_id", Kind::Text),
        field("scopes", "scopes", Kind::TextArray).nullable(),
    ];
}

fn reduce(aggregate_type: &str, event_type: &str, payload: &str) -> Reduced {
    let e = event(aggregate_type, event_type, Some(payload));
    Module::<Sample>::MODULE.reduce(&e, &Context::new(&NoEvents))
}

fn touch(id: &str) -> projection_sdk::UpdateBuilder {
    update("idp_templates_projection")
        .set("change_date", Value::Timestamp(CREATED_AT))
        .set("sequence", 15)
        .eq("id", id)
}

#[test]
fn the_stems_name_added_and_changed_at_both_levels() {
    let described = Module::<Sample>::MODULE.subscribe(Description::new("idps", "0"));
    for (aggregate_type, event_type) in [
        ("instance", "instance.idp.sample.added"),
        ("org", "org.idp.sample.added"),
        ("instance", "instance.idp.sample.changed"),
        ("org", "org.idp.sample.changed"),
    ] {
        assert!(described.wants(aggregate_type, event_type), "{event_type}");
    }
    let n_types: usize = described
        .subscriptions
        .iter()
        .map(|s| s.event_types.len())
        .sum();
    assert_eq!(n_types, 4);
}

#[test]
fn added_inserts_the_template_then_the_provider_row() {
    let template = insert("idp_templates_projection")
        .value("id", "idp")
        .value("state", 1)
        .value("owner_type", 1)
        .value("type", 3)
        .value("resource_owner", "ro-id")
        .value("name", "")
        .value("is_creation_allowed", false)
        .value("is_linking_allowed", false)
        .value("is_auto_creation", true)
        .value("is_auto_update", false)
        .value("auto_linking", 0)
        .build();
    let row = insert(Sample::TABLE)
        .value("idp_id", "idp")
        .value("client_id", "c")
        .value("scopes", Value::Null)
        .build();
    assert_eq!(
        reduce(
            "org",
            "org.idp.sample.added",
            r#"{"id":"idp","clientId":"c","isAutoCreation":true}"#
        ),
        Ok(Some(vec![template, row]))
    );
}

#[test]
fn changed_touches_the_template_and_sets_the_provider_fields_present() {
    let expected = vec![
        touch("idp").set("auto_linking", 2).build(),
        update(Sample::TABLE)
            .eq("idp_id", "idp")
            .set("scopes", Vec::<String>::new())
            .build(),
    ];
    assert_eq!(
        reduce(
            "instance",
            "instance.idp.sample.changed",
            r#"{"id":"idp","autoLinkingOption":2,"scopes":[]}"#
        ),
        Ok(Some(expected))
    );
}

#[test]
fn a_change_of_template_fields_only_leaves_the_provider_row() {
    let expected = vec![touch("idp").set("name", "n").build()];
    assert_eq!(
        reduce(
            "instance",
            "instance.idp.sample.changed",
            r#"{"id":"idp","name":"n"}"#
        ),
        Ok(Some(expected))
    );
}

#[test]
fn a_migration_retypes_the_template_and_moves_the_row() {
    let e = event(
        "org",
        "org.idp.oidc.migrated.azure",
        Some(r#"{"id":"idp","client_id":"c"}"#),
    );
    let Ok(Some(mutations)) = azure::MODULE.reduce(&e, &Context::new(&NoEvents)) else {
        panic!("the migration is reduced");
    };
    let expected: Vec<Mutation> = vec![
        touch("idp")
            .set("type", 5)
            .set("name", "")
            .set("is_creation_allowed", false)
            .set("is_linking_allowed", false)
            .set("is_auto_creation", false)
            .set("is_auto_update", false)
            .set("auto_linking", 0)
            .build(),
        delete("idp_templates_oidc_projection")
            .eq("idp_id", "idp")
            .build(),
        insert("idp_templates_azure_projection")
            .value("idp_id", "idp")
            .value("client_id", "c")
            .value("client_secret", Value::Json("null".to_owned()))
            .value("scopes", Value::Null)
            .value("tenant", "")
            .value("is_email_verified", false)
            .build(),
    ];
    assert_eq!(mutations, expected);
}

#[test]
fn a_kind_without_migration_or_legacy_events_subscribes_to_none() {
    let described = github::MODULE.subscribe(Description::new("idps", "0"));
    let types: Vec<&str> = described
        .subscriptions
        .iter()
        .flat_map(|s| s.event_types.iter().map(String::as_str))
        .collect();
    assert_eq!(
        types,
        [
            "instance.idp.github.added",
            "instance.idp.github.changed",
            "org.idp.github.added",
            "org.idp.github.changed"
        ]
    );
}

#[test]
fn legacy_fields_are_declared_like_the_provider_fields() {
    for (legacy, fields) in [
        (oidc::Oidc::LEGACY.fields, oidc::Oidc::FIELDS),
        (jwt::Jwt::LEGACY.fields, jwt::Jwt::FIELDS),
    ] {
        for f in legacy {
            assert!(fields.contains(f), "{}", f.column);
        }
    }
}

#[test]
fn a_legacy_oidc_config_maps_the_id_token_and_never_uses_pkce() {
    let e = event(
        "instance",
        "iam.idp.oidc.config.added",
        Some(r#"{"idpConfigId":"idp","issuer":"i","idpDisplayNameMapping":1}"#),
    );
    let expected = vec![
        touch("idp").set("type", 1).build(),
        insert(oidc::TABLE)
            .value("idp_id", "idp")
            .value("issuer", "i")
            .value("client_id", "")
            .value("client_secret", Value::Json("null".to_owned()))
            .value("scopes", Value::Null)
            .value("id_token_mapping", true)
            .value("use_pkce", false)
            .build(),
    ];
    assert_eq!(
        oidc::MODULE.reduce(&e, &Context::new(&NoEvents)),
        Ok(Some(expected))
    );
}

#[test]
fn the_table_is_the_keys_the_fields_and_the_stamps() {
    let table = Module::<Sample>::MODULE.table();
    let columns: Vec<(&str, ColumnType, bool)> = table
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.kind, c.nullable))
        .collect();
    assert_eq!(
        columns,
        [
            ("idp_id", ColumnType::Text, false),
            ("instance_id", ColumnType::Text, false),
            ("client_id", ColumnType::Text, false),
            ("scopes", ColumnType::TextArray, true),
            ("change_date", ColumnType::Timestamp, false),
            ("sequence", ColumnType::Int, false),
        ]
    );
    assert_eq!(table.primary_key, ["instance_id", "idp_id"]);
    assert_eq!(table.parent.as_deref(), Some("idp_templates_projection"));
}
