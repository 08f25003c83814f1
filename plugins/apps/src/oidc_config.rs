//! `apps_oidc_configs_projection`: the OIDC configuration of an application
//! (reference §3.6).
//!
//! A sub-table of `apps_projection` (its row goes with the app's row). The
//! reference's table has no change_date/sequence; the canonical schema adds
//! them and the host stamps them from the event that last touched the row.
//!
//! The added event writes every column of [`FIELDS`] (Go's zero value for a
//! field it leaves out), the changed event only the fields it has. Enum lists
//! are SMALLINT arrays, `clock_skew` an interval. The reference declares
//! `clock_skew` with `DEFAULT 0`; every insert here writes it, so the column
//! is declared without a default.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, Payload, ProjectionError, Table, TableModule, on,
};

use crate::app;
use crate::field::{
    Columns, Field, Kind, changed, client_row, field, present, secret_changed, secret_updated,
    with_all,
};

/// The table name.
pub(crate) const TABLE: &str = "apps_oidc_configs_projection";

/// A new OIDC configuration.
pub(crate) const ADDED: &str = "project.application.config.oidc.added";

/// A changed OIDC configuration (any subset of [`FIELDS`]).
pub(crate) const CHANGED: &str = "project.application.config.oidc.changed";

/// A new client secret: a legacy CryptoValue or a hash.
pub(crate) const SECRET_CHANGED: &str = "project.application.config.oidc.secret.changed";

/// A rehashed client secret.
pub(crate) const SECRET_UPDATED: &str = "project.application.config.oidc.secret.updated";

/// The payload fields of the added and changed events, besides the app, the
/// client id and the secret.
const FIELDS: &[Field] = &[
    field("oidcVersion", "version", Kind::Enum),
    field("redirectUris", "redirect_uris", Kind::TextArray),
    field("responseTypes", "response_types", Kind::EnumArray),
    field("grantTypes", "grant_types", Kind::EnumArray),
    field("applicationType", "application_type", Kind::Enum),
    field("authMethodType", "auth_method_type", Kind::Enum),
    field(
        "postLogoutRedirectUris",
        "post_logout_redirect_uris",
        Kind::TextArray,
    ),
    field("devMode", "is_dev_mode", Kind::Bool),
    field("accessTokenType", "access_token_type", Kind::Enum),
    field(
        "accessTokenRoleAssertion",
        "access_token_role_assertion",
        Kind::Bool,
    ),
    field(
        "idTokenRoleAssertion",
        "id_token_role_assertion",
        Kind::Bool,
    ),
    field(
        "idTokenUserinfoAssertion",
        "id_token_userinfo_assertion",
        Kind::Bool,
    ),
    field("clockSkew", "clock_skew", Kind::Duration),
    field("additionalOrigins", "additional_origins", Kind::TextArray),
    field(
        "skipNativeAppSuccessPage",
        "skip_native_app_success_page",
        Kind::Bool,
    ),
    field(
        "backChannelLogoutURI",
        "back_channel_logout_uri",
        Kind::Text,
    ),
    field("loginVersion", "login_version", Kind::Enum),
    field("loginBaseURI", "login_base_uri", Kind::Text),
];

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
        .column("version", ColumnType::SmallInt)
        .column("client_id", ColumnType::Text)
        .nullable("client_secret", ColumnType::Text)
        .nullable("redirect_uris", ColumnType::TextArray)
        .nullable("response_types", ColumnType::SmallIntArray)
        .nullable("grant_types", ColumnType::SmallIntArray)
        .column("application_type", ColumnType::SmallInt)
        .column("auth_method_type", ColumnType::SmallInt)
        .nullable("post_logout_redirect_uris", ColumnType::TextArray)
        .column("is_dev_mode", ColumnType::Boolean)
        .column("access_token_type", ColumnType::SmallInt)
        .column_default("access_token_role_assertion", ColumnType::Boolean, false)
        .column_default("id_token_role_assertion", ColumnType::Boolean, false)
        .column_default("id_token_userinfo_assertion", ColumnType::Boolean, false)
        .column("clock_skew", ColumnType::Interval)
        .nullable("additional_origins", ColumnType::TextArray)
        .column_default("skip_native_app_success_page", ColumnType::Boolean, false)
        .nullable("back_channel_logout_uri", ColumnType::Text)
        .nullable("login_version", ColumnType::SmallInt)
        .nullable("login_base_uri", ColumnType::Text)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "app_id"])
        .index("client_id", &["client_id"], &[])
        .parent(app::TABLE)
}

/// The columns an OIDC config change sets: those of the fields it has.
pub(crate) fn changes(payload: &Payload) -> Result<Columns, ProjectionError> {
    present(payload, FIELDS)
}

/// `project.application.config.oidc.added`: every column.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let row = client_row(TABLE, &payload)?;
    Ok(vec![with_all(row, &payload, FIELDS)?.build()])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Value, insert, update};

    use super::{MODULE, TABLE};
    use crate::tests::{reduce, try_reduce};

    #[test]
    fn added_without_optional_fields_writes_go_zero_values() {
        let expected = insert(TABLE)
            .value("app_id", "app-id")
            .value("client_id", "client-id")
            .value("client_secret", "")
            .value("version", 0)
            .value("redirect_uris", Value::Null)
            .value("response_types", Value::Null)
            .value("grant_types", Value::Null)
            .value("application_type", 0)
            .value("auth_method_type", 0)
            .value("post_logout_redirect_uris", Value::Null)
            .value("is_dev_mode", false)
            .value("access_token_type", 0)
            .value("access_token_role_assertion", false)
            .value("id_token_role_assertion", false)
            .value("id_token_userinfo_assertion", false)
            .value("clock_skew", Value::Interval(0))
            .value("additional_origins", Value::Null)
            .value("skip_native_app_success_page", false)
            .value("back_channel_logout_uri", "")
            .value("login_version", 0)
            .value("login_base_uri", "")
            .build();
        assert_eq!(
            reduce(
                &MODULE,
                super::ADDED,
                r#"{"appId":"app-id","clientId":"client-id"}"#
            ),
            Some(vec![expected])
        );
    }

    #[test]
    fn changed_sets_only_the_fields_it_has() {
        let expected = update(TABLE)
            .eq("app_id", "app-id")
            .set("grant_types", vec![0_i64, 2])
            .set("post_logout_redirect_uris", Value::Null)
            .set("clock_skew", Value::Interval(2_000_000_000))
            .set("login_base_uri", "")
            .build();
        let payload = r#"{"appId":"app-id","grantTypes":[0,2],"postLogoutRedirectUris":[],
            "clockSkew":2000000000,"loginBaseURI":"","devMode":null}"#;
        assert_eq!(
            reduce(&MODULE, super::CHANGED, payload),
            Some(vec![expected])
        );
    }

    #[test]
    fn changed_without_fields_does_nothing() {
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
    fn changed_rejects_a_clock_skew_that_is_not_an_integer() {
        let payload = r#"{"appId":"app-id","clockSkew":"1s"}"#;
        assert!(try_reduce(&MODULE, super::CHANGED, payload).is_err());
    }
}
