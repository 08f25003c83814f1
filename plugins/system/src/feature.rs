//! `system_features_projection`: the installation-wide default of each
//! feature key (reference §1.6), one row per key, no `instance_id`.
//!
//! The system API writes `feature.system.<key>.set` with aggregate id and
//! owner `SYSTEM` and the system tenant `''`. A set upserts the key's row
//! with the JSON of the payload's `Value` (`null` when absent), keeping its
//! `creation_date`; `feature.system.reset` deletes every row. The reference
//! subscribes to five keys: other system keys never reach the table.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, Value, delete, on,
    upsert,
};
use serde_json::Value as Json;

/// The table name.
pub(crate) const TABLE: &str = "system_features_projection";

/// The set events the reference subscribes to.
const SET: &[&str] = &[
    "feature.system.login_default_org.set",
    "feature.system.user_schema.set",
    "feature.system.improved_performance.set",
    "feature.system.login_v2.set",
    "feature.system.permission_check_v2.set",
];

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("feature", SET, set),
        on("feature", &["feature.system.reset"], |_, _| {
            Ok(vec![delete(TABLE).is_not_null("key").build()])
        }),
    ],
);

/// The table declaration: system-scoped, keyed by the feature key alone.
fn table() -> Table {
    Table::new(TABLE)
        .column("key", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("value", ColumnType::Json)
        .primary_key(&["key"])
}

/// The key of a set event: the third segment of its type.
fn key(event_type: &str) -> Option<&str> {
    match event_type.split('.').collect::<Vec<_>>().as_slice() {
        ["feature", "system", key, "set"] => Some(key),
        _ => None,
    }
}

/// `feature.system.<key>.set`: the key's row with the payload's `Value`.
fn set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let key = key(&event.event_type).ok_or_else(|| event.unhandled())?;
    let value = event.payload()?.get("value").cloned().unwrap_or(Json::Null);
    Ok(vec![
        upsert(TABLE, &["key"])
            .value("key", key)
            .value("value", Value::json(&value))
            .keep_on_conflict(&["creation_date"])
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Context, NoEvents, Value, delete, upsert};

    use super::{MODULE, TABLE};

    fn row(key: &str, json: &str) -> projection_sdk::Mutation {
        upsert(TABLE, &["key"])
            .value("key", key)
            .value("value", Value::Json(json.to_owned()))
            .keep_on_conflict(&["creation_date"])
            .build()
    }

    #[test]
    fn set_upserts_the_key_with_its_value_in_any_case() {
        let ctx = Context::new(&NoEvents);
        let e = event(
            "feature",
            "feature.system.login_v2.set",
            Some(r#"{"Value":{"required":true,"baseUri":"https://login.example.com"}}"#),
        );
        assert_eq!(
            MODULE.reduce(&e, &ctx),
            Ok(Some(vec![row(
                "login_v2",
                r#"{"baseUri":"https://login.example.com","required":true}"#
            )]))
        );
        let absent = event("feature", "feature.system.user_schema.set", Some("{}"));
        assert_eq!(
            MODULE.reduce(&absent, &ctx),
            Ok(Some(vec![row("user_schema", "null")]))
        );
    }

    #[test]
    fn reset_deletes_every_row() {
        let e = event("feature", "feature.system.reset", None);
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![delete(TABLE).is_not_null("key").build()]))
        );
    }
}
