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

use projection_sdk::{ColumnType, Context, Description, Event, Table, Value, delete, upsert};
use serde_json::Value as Json;

use projection_sdk::Reduced;

mod keys;

use keys::{KEYS, legacy_value, set_key, set_value};

/// The table name.
pub(crate) const TABLE: &str = "instance_features_projection";

/// The legacy v1 event that sets `login_default_org`.
const LEGACY_LOGIN_DEFAULT_ORG: &str = "feature.featurelogindefaultorg.set";

/// The reset event of the instance level.
const RESET: &str = "feature.instance.reset";

/// The table declaration.
pub(crate) fn table() -> Table {
    Table::new(TABLE)
        .column("instance_id", ColumnType::Text)
        .column("key", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("value", ColumnType::Json)
        .primary_key(&["instance_id", "key"])
}

/// Add the table's subscriptions (`instance.removed` is subscribed by the
/// other tables of the family).
pub(crate) fn subscribe(description: Description) -> Description {
    let set: Vec<String> = KEYS
        .iter()
        .map(|(key, _)| format!("feature.instance.{key}.set"))
        .collect();
    let mut types: Vec<&str> = set.iter().map(String::as_str).collect();
    types.extend([RESET, LEGACY_LOGIN_DEFAULT_ORG]);
    description
        .subscribe("feature", &types)
        .subscribe("instance", &["instance.removed"])
}

/// Upsert one feature row of the event's instance.
fn set(key: &str, value: &Json) -> Vec<projection_sdk::Mutation> {
    vec![
        upsert(TABLE, &["instance_id", "key"])
            .value("key", key)
            .value("value", Value::json(value))
            .keep_on_conflict(&["creation_date"])
            .build(),
    ]
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let mutations = match event.event_type.as_str() {
        RESET | "instance.removed" => {
            vec![delete(TABLE).eq("instance_id", &event.instance_id).build()]
        }
        LEGACY_LOGIN_DEFAULT_ORG => set("login_default_org", &Json::Bool(legacy_value(event)?)),
        other => match set_key(other) {
            Some((key, shape)) => set(key, &set_value(event, key, shape)?),
            None => return Ok(None),
        },
    };
    Ok(Some(mutations))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, ProjectionError, Value, delete, upsert};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    fn row(key: &str, json: &str) -> projection_sdk::Mutation {
        upsert(TABLE, &["instance_id", "key"])
            .value("key", key)
            .value("value", Value::Json(json.to_owned()))
            .keep_on_conflict(&["creation_date"])
            .build()
    }

    #[test]
    fn set_takes_the_key_from_the_event_type_whatever_the_level() {
        let e = event(
            "feature",
            "feature.system.user_schema.set",
            Some(r#"{"value":true}"#),
        );
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
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
                reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn reset_deletes_all_keys_of_the_instance() {
        let e = event("feature", "feature.instance.reset", None);
        let expected = delete(TABLE).eq("instance_id", "instance-id").build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
