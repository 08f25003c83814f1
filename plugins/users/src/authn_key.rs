//! `authn_keys_projection`: public keys of machine users, applications and
//! action targets (reference §4.11). No conformance file covers it.

use projection_sdk::{
    ColumnType, Context, Description, Event, Mutation, ProjectionError, Table, Value, delete,
    insert, update,
};

use crate::field::{GO_ZERO_TIME, enum_or_zero, timestamp};
use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "authn_keys_projection";

/// API app `authMethodType`: private key JWT.
const API_PRIVATE_KEY_JWT: i64 = 1;
/// OIDC app `authMethodType`: private key JWT.
const OIDC_PRIVATE_KEY_JWT: i64 = 3;

/// The `user` events of the table.
const USER_EVENTS: &[&str] = &[
    "user.machine.key.added",
    "user.machine.key.removed",
    "user.removed",
];

/// The `project` events of the table.
const PROJECT_EVENTS: &[&str] = &[
    "project.application.oidc.key.added",
    "project.application.oidc.key.removed",
    "project.application.config.api.changed",
    "project.application.config.oidc.changed",
    "project.application.removed",
    "project.removed",
];

/// The `target` events of the table.
const TARGET_EVENTS: &[&str] = &[
    "target.key.added",
    "target.key.activated",
    "target.key.deactivated",
    "target.key.removed",
    "target.removed",
];

/// The table declaration.
pub(crate) fn table() -> Table {
    Table::new(TABLE)
        .column("id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("aggregate_id", ColumnType::Text)
        .column("sequence", ColumnType::Int)
        .column("object_id", ColumnType::Text)
        .nullable("expiration", ColumnType::Timestamp)
        .column("identifier", ColumnType::Text)
        .column("public_key", ColumnType::Bytes)
        .column_default("enabled", ColumnType::Boolean, true)
        .column_default("type", ColumnType::SmallInt, 0)
        .nullable("fingerprint", ColumnType::Text)
        .primary_key(&["instance_id", "id"])
        .index("enabled", &["enabled"], &[])
        .index("identifier", &["identifier"], &[])
        .index("resource_owner", &["resource_owner"], &[])
        .index("creation_date", &["creation_date"], &[])
        .index("expiration_date", &["expiration"], &[])
}

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("user", USER_EVENTS)
        .subscribe("project", PROJECT_EVENTS)
        .subscribe("target", TARGET_EVENTS)
        .subscribe("org", &["org.removed"])
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let agg = &event.aggregate_id;
    let key_id = || event.payload()?.text_or_empty("keyId");
    let mutations = match event.event_type.as_str() {
        "user.machine.key.added" => vec![key_added(event, agg, agg)?],
        "project.application.oidc.key.added" => {
            let payload = event.payload()?;
            let app = payload.text_or_empty("applicationId")?;
            let client = payload.text_or_empty("clientId")?;
            vec![key_added(event, &app, &client)?]
        }
        "target.key.added" => vec![target_key_added(event)?],
        "user.machine.key.removed"
        | "project.application.oidc.key.removed"
        | "target.key.removed" => vec![delete(TABLE).eq("id", key_id()?).build()],
        "user.removed" | "project.removed" | "target.removed" => {
            vec![delete(TABLE).eq("aggregate_id", agg).build()]
        }
        "project.application.removed" => {
            let app = event.payload()?.text_or_empty("appId")?;
            vec![delete(TABLE).eq("object_id", app).build()]
        }
        "project.application.config.api.changed" => enabled_changed(event, API_PRIVATE_KEY_JWT)?,
        "project.application.config.oidc.changed" => enabled_changed(event, OIDC_PRIVATE_KEY_JWT)?,
        "target.key.activated" => vec![
            update(TABLE)
                .set("enabled", false)
                .eq("aggregate_id", agg)
                .eq("enabled", true)
                .build(),
            update(TABLE)
                .set("enabled", true)
                .eq("id", key_id()?)
                .build(),
        ],
        "target.key.deactivated" => {
            vec![
                update(TABLE)
                    .set("enabled", false)
                    .eq("id", key_id()?)
                    .build(),
            ]
        }
        "org.removed" => vec![delete(TABLE).eq("resource_owner", agg).build()],
        "instance.removed" => vec![delete(TABLE).eq("instance_id", &event.instance_id).build()],
        _ => return Ok(None),
    };
    Ok(Some(mutations))
}

/// A machine or application key: enabled, expiring at `expirationDate`.
fn key_added(
    event: &Event,
    object_id: &str,
    identifier: &str,
) -> Result<Mutation, ProjectionError> {
    let payload = event.payload()?;
    let expiration = timestamp(&payload, "expirationDate")?.unwrap_or(GO_ZERO_TIME);
    Ok(insert(TABLE)
        .value("id", payload.text_or_empty("keyId")?)
        .value("resource_owner", &event.owner)
        .value("aggregate_id", &event.aggregate_id)
        .value("object_id", object_id)
        .value("identifier", identifier)
        .value("expiration", Value::Timestamp(expiration))
        .value(
            "public_key",
            Value::Bytes(payload.bytes("publicKey")?.unwrap_or_default()),
        )
        .value("type", enum_or_zero(&payload, "type")?)
        .value("enabled", true)
        .build())
}

/// A target key: disabled until activated, expiration NULL when zero.
fn target_key_added(event: &Event) -> Result<Mutation, ProjectionError> {
    let payload = event.payload()?;
    let expiration = timestamp(&payload, "expirationDate")?.filter(|t| *t != GO_ZERO_TIME);
    Ok(insert(TABLE)
        .value("id", payload.text_or_empty("keyId")?)
        .value("resource_owner", &event.owner)
        .value("aggregate_id", &event.aggregate_id)
        .value("object_id", &event.aggregate_id)
        .value("identifier", &event.aggregate_id)
        .value(
            "expiration",
            expiration.map_or(Value::Null, Value::Timestamp),
        )
        .value(
            "public_key",
            Value::Bytes(payload.bytes("publicKey")?.unwrap_or_default()),
        )
        .value("fingerprint", payload.text("fingerprint")?)
        .value("type", 0)
        .value("enabled", false)
        .build())
}

/// App auth method changed: keys are enabled only for private key JWT.
fn enabled_changed(event: &Event, private_key_jwt: i64) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let Some(method) = payload.int("authMethodType")? else {
        return Ok(Vec::new());
    };
    Ok(vec![
        update(TABLE)
            .set("enabled", method == private_key_jwt)
            .eq("object_id", payload.text_or_empty("appId")?)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, Value, insert, update};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn machine_key_added_is_enabled_and_identified_by_the_user() {
        let e = event(
            "user",
            "user.machine.key.added",
            Some(
                r#"{"keyId":"k","type":1,"expirationDate":"1970-01-01T00:00:01Z","publicKey":"cHVi"}"#,
            ),
        );
        let expected = insert(TABLE)
            .value("id", "k")
            .value("resource_owner", "ro-id")
            .value("aggregate_id", "agg-id")
            .value("object_id", "agg-id")
            .value("identifier", "agg-id")
            .value("expiration", Value::Timestamp(1_000_000))
            .value("public_key", Value::Bytes(b"pub".to_vec()))
            .value("type", 1)
            .value("enabled", true)
            .build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn oidc_config_change_toggles_enabled_only_with_an_auth_method() {
        let ctx = Context::new(&NoEvents);
        let kind = "project.application.config.oidc.changed";
        let none = event("project", kind, Some(r#"{"appId":"a"}"#));
        assert_eq!(reduce(&none, &ctx), Ok(Some(vec![])));
        let jwt = event("project", kind, Some(r#"{"appId":"a","authMethodType":3}"#));
        let expected = update(TABLE)
            .set("enabled", true)
            .eq("object_id", "a")
            .build();
        assert_eq!(reduce(&jwt, &ctx), Ok(Some(vec![expected])));
    }
}
