//! `auth_requests_projection`: pending auth requests of the login flow
//! (reference §5.2).
//!
//! A row lives from `auth_request.added` until the request succeeds or
//! fails; both delete it. The payload's keys are snake case
//! (`login_client`, `redirect_uri`, ...; §9.5), matched without regard to
//! letter case like every payload key.
//!
//! Absent fields: the required text columns read as '' (Go's zero value),
//! `scope` as an empty list, and the optional columns (`prompt`,
//! `ui_locales`, `max_age`, `login_hint`, `hint_user_id`) as NULL. `max_age`
//! is a duration in nanoseconds, stored as an interval.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, Payload, ProjectionError, Table, TableModule, Value,
    aggregate_removed, insert, instance_removed, on,
};
use serde_json::Value as Json;

/// The table name.
pub(crate) const TABLE: &str = "auth_requests_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("auth_request", &["auth_request.added"], added),
        aggregate_removed(
            "auth_request",
            &["auth_request.succeeded", "auth_request.failed"],
            &["id"],
        ),
        instance_removed(),
    ],
);

/// The table declaration, columns in the reference's order; no index
/// besides the primary key.
fn table() -> Table {
    Table::new(TABLE)
        .column("id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("login_client", ColumnType::Text)
        .column("client_id", ColumnType::Text)
        .column("redirect_uri", ColumnType::Text)
        .column("scope", ColumnType::TextArray)
        .nullable("prompt", ColumnType::SmallIntArray)
        .nullable("ui_locales", ColumnType::TextArray)
        .nullable("max_age", ColumnType::Interval)
        .nullable("login_hint", ColumnType::Text)
        .nullable("hint_user_id", ColumnType::Text)
        .primary_key(&["instance_id", "id"])
}

/// `auth_request.added`: the pending request.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        insert(TABLE)
            .value("id", &event.aggregate_id)
            .value("resource_owner", &event.owner)
            .value("login_client", payload.text_or_empty("login_client")?)
            .value("client_id", payload.text_or_empty("client_id")?)
            .value("redirect_uri", payload.text_or_empty("redirect_uri")?)
            .value("scope", payload.text_array("scope")?.unwrap_or_default())
            .value("prompt", int_array(&payload, "prompt")?)
            .value("ui_locales", payload.text_array("ui_locales")?)
            .value("max_age", payload.int("max_age")?.map(Value::Interval))
            .value("login_hint", payload.text("login_hint")?)
            .value("hint_user_id", payload.text("hint_user_id")?)
            .build(),
    ])
}

/// An array-of-integers field (an enum list), if present.
fn int_array(payload: &Payload, key: &str) -> Result<Option<Vec<i64>>, ProjectionError> {
    let invalid = || {
        ProjectionError::InvalidPayload(format!(
            "auth_request.added: field {key:?} is not an array of integers"
        ))
    };
    match payload.get(key) {
        None => Ok(None),
        Some(Json::Array(items)) => items
            .iter()
            .map(|item| item.as_i64().ok_or_else(invalid))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Context, Mutation, NoEvents, ProjectionError, Value, delete, insert};

    use super::{MODULE, TABLE};

    fn reduce(event_type: &str, payload: Option<&str>) -> Result<Vec<Mutation>, ProjectionError> {
        let e = event("auth_request", event_type, payload);
        MODULE
            .reduce(&e, &Context::new(&NoEvents))
            .map(Option::unwrap_or_default)
    }

    #[test]
    fn added_inserts_every_column() {
        let payload = r#"{"login_client":"login","client_id":"client","redirect_uri":"uri",
            "scope":["openid","email"],"prompt":[1,2],"ui_locales":["en"],"max_age":3600000000000,
            "login_hint":"hint","hint_user_id":"user","state":"s","nonce":"n"}"#;
        let expected = insert(TABLE)
            .value("id", "agg-id")
            .value("resource_owner", "ro-id")
            .value("login_client", "login")
            .value("client_id", "client")
            .value("redirect_uri", "uri")
            .value("scope", vec!["openid".to_owned(), "email".to_owned()])
            .value("prompt", vec![1_i64, 2])
            .value("ui_locales", vec!["en".to_owned()])
            .value("max_age", Value::Interval(3_600_000_000_000))
            .value("login_hint", "hint")
            .value("hint_user_id", "user")
            .build();
        assert_eq!(
            reduce("auth_request.added", Some(payload)),
            Ok(vec![expected])
        );
    }

    #[test]
    fn added_without_optional_fields_writes_nulls() {
        let expected = insert(TABLE)
            .value("id", "agg-id")
            .value("resource_owner", "ro-id")
            .value("login_client", "")
            .value("client_id", "")
            .value("redirect_uri", "")
            .value("scope", Vec::<String>::new())
            .value("prompt", Value::Null)
            .value("ui_locales", Value::Null)
            .value("max_age", Value::Null)
            .value("login_hint", Value::Null)
            .value("hint_user_id", Value::Null)
            .build();
        assert_eq!(
            reduce("auth_request.added", None),
            Ok(vec![expected.clone()])
        );
        let nulls = r#"{"scope":null,"prompt":null,"max_age":null,"login_hint":null}"#;
        assert_eq!(
            reduce("auth_request.added", Some(nulls)),
            Ok(vec![expected])
        );
    }

    #[test]
    fn added_rejects_a_prompt_that_is_no_enum_list() {
        for payload in [r#"{"prompt":["login"]}"#, r#"{"prompt":1}"#] {
            assert!(matches!(
                reduce("auth_request.added", Some(payload)),
                Err(ProjectionError::InvalidPayload(_))
            ));
        }
    }

    #[test]
    fn an_ended_request_is_deleted() {
        for event_type in ["auth_request.succeeded", "auth_request.failed"] {
            let expected = delete(TABLE).eq("id", "agg-id").build();
            assert_eq!(reduce(event_type, None), Ok(vec![expected]));
        }
    }
}
