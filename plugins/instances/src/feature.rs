//! `instance_features_projection`: the feature flags of an instance, one row
//! per (instance, key) (reference §1.5).
//!
//! Set events are `feature.<level>.<key>.set` with payload `{"Value": …}`;
//! the key is the event type's third segment and the stored value is the JSON
//! re-encoding of `Value`. Like Zitadel's reducer, the level segment is not
//! checked (only `instance` events are subscribed, but a `system` event given
//! directly is reduced the same way). The legacy v1 event
//! `feature.featurelogindefaultorg.set` carries `{"Value": {"Boolean": …}}`
//! and sets `login_default_org`.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, Value, delete,
    instance_removed, on, upsert,
};
use serde_json::Value as Json;

mod keys;

use keys::{legacy_value, set_key, set_value};

/// The table name.
pub(crate) const TABLE: &str = "instance_features_projection";

/// The set events of the instance level, one per key of [`keys::KEYS`], in
/// that order.
const SET: &[&str] = &[
    "feature.instance.login_default_org.set",
    "feature.instance.user_schema.set",
    "feature.instance.improved_performance.set",
    "feature.instance.debug_oidc_parent_error.set",
    "feature.instance.oidc_single_v1_session_termination.set",
    "feature.instance.login_v2.set",
    "feature.instance.permission_check_v2.set",
    "feature.instance.console_use_v2_user_api.set",
    "feature.instance.enable_relational_tables.set",
];

/// The legacy v1 event that sets `login_default_org`.
const LEGACY_LOGIN_DEFAULT_ORG: &str = "feature.featurelogindefaultorg.set";

/// The reset event of the instance level.
const RESET: &str = "feature.instance.reset";

/// The table and what each event does to it. Set events of any level are
/// reduced; only the instance level's are subscribed to.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("feature", SET, set).or_matching(|t| set_key(t).is_some()),
        on("feature", &[RESET], |event, _| {
            Ok(vec![
                delete(TABLE).eq("instance_id", &event.instance_id).build(),
            ])
        }),
        on("feature", &[LEGACY_LOGIN_DEFAULT_ORG], |event, _| {
            Ok(upsert_key(
                "login_default_org",
                &Json::Bool(legacy_value(event)?),
            ))
        }),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("instance_id", ColumnType::Text)
        .column("key", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("value", ColumnType::Json)
        .primary_key(&["instance_id", "key"])
}

/// Upsert one feature row of the event's instance.
fn upsert_key(key: &str, value: &Json) -> Vec<Mutation> {
    vec![
        upsert(TABLE, &["instance_id", "key"])
            .value("key", key)
            .value("value", Value::json(value))
            .keep_on_conflict(&["creation_date"])
            .build(),
    ]
}

/// `feature.<level>.<key>.set`: the key's value.
fn set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    match set_key(&event.event_type) {
        Some((key, shape)) => Ok(upsert_key(key, &set_value(event, key, shape)?)),
        None => Err(event.unhandled()),
    }
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, ProjectionError, Value, delete, upsert};

    use super::{MODULE, SET, TABLE};
    use projection_sdk::testing::event;

    fn row(key: &str, json: &str) -> projection_sdk::Mutation {
        upsert(TABLE, &["instance_id", "key"])
            .value("key", key)
            .value("value", Value::Json(json.to_owned()))
            .keep_on_conflict(&["creation_date"])
            .build()
    }

    #[test]
    fn the_set_events_subscribed_are_the_keys_at_the_instance_level() {
        let keys: Vec<String> = super::keys::KEYS
            .iter()
            .map(|(key, _)| format!("feature.instance.{key}.set"))
            .collect();
        assert_eq!(SET, keys);
    }

    #[test]
    fn set_takes_the_key_from_the_event_type_whatever_the_level() {
        let e = event(
            "feature",
            "feature.system.user_schema.set",
            Some(r#"{"value":true}"#),
        );
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![row("user_schema", "true")]))
        );
    }

    #[test]
    fn set_reencodes_value_in_any_case() {
        let e = event(
            "feature",
            "feature.instance.improved_performance.set",
            Some(r#"{"Value": [2, 3]}"#),
        );
        let expected = row("improved_performance", "[2,3]");
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn set_rejects_a_value_of_the_wrong_shape() {
        let e = event(
            "feature",
            "feature.instance.login_v2.set",
            Some(r#"{"Value":"x"}"#),
        );
        assert!(matches!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }

    #[test]
    fn unknown_keys_and_shapes_are_not_handled() {
        for event_type in [
            "feature.instance.unknown.set",
            "feature.instance.user_schema.set.extra",
            "feature.user_schema.set",
        ] {
            let e = event("feature", event_type, Some(r#"{"Value":true}"#));
            assert_eq!(
                MODULE.reduce(&e, &Context::new(&NoEvents)),
                Ok(None),
                "{event_type}"
            );
        }
    }

    #[test]
    fn legacy_login_default_org() {
        let e = event(
            "feature",
            "feature.featurelogindefaultorg.set",
            Some(r#"{"Value":{"Boolean":true}}"#),
        );
        let expected = row("login_default_org", "true");
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn reset_deletes_all_keys_of_the_instance() {
        let e = event("feature", "feature.instance.reset", None);
        let expected = delete(TABLE).eq("instance_id", "instance-id").build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
