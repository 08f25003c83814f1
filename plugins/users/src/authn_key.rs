//! `authn_keys_projection`: public keys of machine users, applications and
//! action targets (reference §4.11). No conformance file covers it.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, Value,
    aggregate_removed, delete, insert, instance_removed, on, update,
};

use crate::field::{GO_ZERO_TIME, enum_or_zero, timestamp};

/// The table name.
pub(crate) const TABLE: &str = "authn_keys_projection";

/// API app `authMethodType`: private key JWT.
const API_PRIVATE_KEY_JWT: i64 = 1;
/// OIDC app `authMethodType`: private key JWT.
const OIDC_PRIVATE_KEY_JWT: i64 = 3;

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("user", &["user.machine.key.added"], |event, _| {
            let user = &event.aggregate_id;
            Ok(vec![key_added(event, user, user)?])
        }),
        on("user", &["user.machine.key.removed"], key_removed),
        aggregate_removed("user", &["user.removed"], &["aggregate_id"]),
        on(
            "project",
            &["project.application.oidc.key.added"],
            |event, _| {
                let payload = event.payload()?;
                let app = payload.text_or_empty("applicationId")?;
                let client = payload.text_or_empty("clientId")?;
                Ok(vec![key_added(event, &app, &client)?])
            },
        ),
        on(
            "project",
            &["project.application.oidc.key.removed"],
            key_removed,
        ),
        on(
            "project",
            &["project.application.config.api.changed"],
            |event, _| enabled_changed(event, API_PRIVATE_KEY_JWT),
        ),
        on(
            "project",
            &["project.application.config.oidc.changed"],
            |event, _| enabled_changed(event, OIDC_PRIVATE_KEY_JWT),
        ),
        on("project", &["project.application.removed"], |event, _| {
            let app = event.payload()?.text_or_empty("appId")?;
            Ok(vec![delete(TABLE).eq("object_id", app).build()])
        }),
        aggregate_removed("project", &["project.removed"], &["aggregate_id"]),
        on("target", &["target.key.added"], |event, _| {
            Ok(vec![target_key_added(event)?])
        }),
        on("target", &["target.key.activated"], |event, _| {
            Ok(vec![
                update(TABLE)
                    .set("enabled", false)
                    .eq("aggregate_id", &event.aggregate_id)
                    .eq("enabled", true)
                    .build(),
                update(TABLE)
                    .set("enabled", true)
                    .eq("id", key_id(event)?)
                    .build(),
            ])
        }),
        on("target", &["target.key.deactivated"], |event, _| {
            Ok(vec![
                update(TABLE)
                    .set("enabled", false)
                    .eq("id", key_id(event)?)
                    .build(),
            ])
        }),
        on("target", &["target.key.removed"], key_removed),
        aggregate_removed("target", &["target.removed"], &["aggregate_id"]),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
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

/// The payload's `keyId`.
fn key_id(event: &Event) -> Result<String, ProjectionError> {
    event.payload()?.text_or_empty("keyId")
}

/// A machine, application or target key removed.
fn key_removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![delete(TABLE).eq("id", key_id(event)?).build()])
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

    use super::{MODULE, TABLE};
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
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn oidc_config_change_toggles_enabled_only_with_an_auth_method() {
        let ctx = Context::new(&NoEvents);
        let kind = "project.application.config.oidc.changed";
        let none = event("project", kind, Some(r#"{"appId":"a"}"#));
        assert_eq!(MODULE.reduce(&none, &ctx), Ok(Some(vec![])));
        let jwt = event("project", kind, Some(r#"{"appId":"a","authMethodType":3}"#));
        let expected = update(TABLE)
            .set("enabled", true)
            .eq("object_id", "a")
            .build();
        assert_eq!(MODULE.reduce(&jwt, &ctx), Ok(Some(vec![expected])));
    }
}
