//! `apps_api_configs_projection`: the API configuration of an application
//! (reference §3.6).
//!
//! A sub-table of `apps_projection` (its row goes with the app's row). The
//! reference's table has no change_date/sequence; the canonical schema adds
//! them and the host stamps them from the event that last touched the row.
//! The app's own row is touched by `app.rs`.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, Payload, ProjectionError, Table, TableModule, Value, on,
};

use crate::app;
use crate::field::{Columns, changed, client_row, secret_changed, secret_updated};

/// The table name.
pub(crate) const TABLE: &str = "apps_api_configs_projection";

/// A new API configuration.
pub(crate) const ADDED: &str = "project.application.config.api.added";

/// A changed API configuration (the auth method).
pub(crate) const CHANGED: &str = "project.application.config.api.changed";

/// A new client secret: a legacy CryptoValue or a hash.
pub(crate) const SECRET_CHANGED: &str = "project.application.config.api.secret.changed";

/// A rehashed client secret.
pub(crate) const SECRET_UPDATED: &str = "project.application.config.api.secret.updated";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("project", &[ADDED], added),
        on("project", &[CHANGED], |event, _| {
            changed(TABLE, event, changes)
        }),
        on("project", &[SECRET_CHANGED], |event, _| {
            secret_changed(TABLE, event)
        }),
        on("project", &[SECRET_UPDATED], |event, _| {
            secret_updated(TABLE, event)
        }),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("app_id", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("client_id", ColumnType::Text)
        .nullable("client_secret", ColumnType::Text)
        .column("auth_method", ColumnType::SmallInt)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "app_id"])
        .index("client_id", &["client_id"], &[])
        .parent(app::TABLE)
}

/// The columns an API config change sets: the auth method when present.
pub(crate) fn changes(payload: &Payload) -> Result<Columns, ProjectionError> {
    Ok(payload
        .int("authMethodType")?
        .map(|method| ("auth_method", Value::Int(method)))
        .into_iter()
        .collect())
}

/// `project.application.config.api.added`.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let row = client_row(TABLE, &payload)?;
    let method = payload.int("authMethodType")?.unwrap_or_default();
    Ok(vec![row.value("auth_method", method).build()])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{insert, update};

    use super::{MODULE, TABLE};
    use crate::tests::reduce;

    #[test]
    fn added_stores_the_legacy_secrets_crypted_bytes_as_text() {
        let expected = insert(TABLE)
            .value("app_id", "app-id")
            .value("client_id", "client-id")
            .value("client_secret", "secret")
            .value("auth_method", 0)
            .build();
        assert_eq!(
            reduce(
                &MODULE,
                super::ADDED,
                r#"{"appId":"app-id","clientId":"client-id",
                    "clientSecret":{"CryptoType":1,"Algorithm":"bcrypt","Crypted":"c2VjcmV0"}}"#
            ),
            Some(vec![expected])
        );
    }

    #[test]
    fn added_without_a_secret_stores_an_empty_one() {
        let expected = insert(TABLE)
            .value("app_id", "app-id")
            .value("client_id", "")
            .value("client_secret", "")
            .value("auth_method", 0)
            .build();
        assert_eq!(
            reduce(&MODULE, super::ADDED, r#"{"appId":"app-id"}"#),
            Some(vec![expected])
        );
    }

    #[test]
    fn changed_without_an_auth_method_does_nothing() {
        assert_eq!(
            reduce(
                &MODULE,
                super::CHANGED,
                r#"{"appId":"app-id","clientId":"c"}"#
            ),
            Some(vec![])
        );
    }

    #[test]
    fn secret_updated_takes_the_hash() {
        let expected = update(TABLE)
            .eq("app_id", "app-id")
            .set("client_secret", "new-hash")
            .build();
        assert_eq!(
            reduce(
                &MODULE,
                super::SECRET_UPDATED,
                r#"{"appId":"app-id","hashedSecret":"new-hash"}"#
            ),
            Some(vec![expected])
        );
    }
}
