//! `apps_saml_configs_projection`: the SAML configuration of an application
//! (reference §3.6).
//!
//! A sub-table of `apps_projection` (its row goes with the app's row). The
//! reference's table has no change_date/sequence; the canonical schema adds
//! them and the host stamps them from the event that last touched the row.
//!
//! The payload writes `metadata_url` in snake case next to camelCase keys
//! (reference §9.5); `metadata` is base64 bytes. A change sets the fields it
//! has, and `entityId` only when it is not empty.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, Payload, ProjectionError, Table, TableModule, Value,
    insert, on,
};

use crate::app;
use crate::field::{Columns, Field, Kind, app_id, changed, field, present, with_all};

/// The table name.
pub(crate) const TABLE: &str = "apps_saml_configs_projection";

/// A new SAML configuration.
pub(crate) const ADDED: &str = "project.application.config.saml.added";

/// A changed SAML configuration.
pub(crate) const CHANGED: &str = "project.application.config.saml.changed";

/// The payload fields of the added and changed events, besides the app and
/// the entity id.
const FIELDS: &[Field] = &[
    field("metadata", "metadata", Kind::Bytes),
    field("metadata_url", "metadata_url", Kind::Text),
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
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("app_id", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("entity_id", ColumnType::Text)
        .column("metadata", ColumnType::Bytes)
        .column("metadata_url", ColumnType::Text)
        .nullable("login_version", ColumnType::SmallInt)
        .nullable("login_base_uri", ColumnType::Text)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "app_id"])
        .index("entity_id", &["entity_id"], &[])
        .parent(app::TABLE)
}

/// The columns a SAML config change sets: the fields it has, the entity id
/// when not empty.
pub(crate) fn changes(payload: &Payload) -> Result<Columns, ProjectionError> {
    let mut changes = present(payload, FIELDS)?;
    let entity_id = payload.text_or_empty("entityId")?;
    if !entity_id.is_empty() {
        changes.push(("entity_id", Value::Text(entity_id)));
    }
    Ok(changes)
}

/// `project.application.config.saml.added`: every column; metadata left out
/// reads as empty bytes.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let row = insert(TABLE)
        .value("app_id", app_id(&payload)?)
        .value("entity_id", payload.text_or_empty("entityId")?);
    Ok(vec![with_all(row, &payload, FIELDS)?.build()])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{ProjectionError, Value, insert, update};

    use super::{MODULE, TABLE};
    use crate::tests::try_reduce;

    #[test]
    fn added_decodes_the_metadata() {
        let expected = insert(TABLE)
            .value("app_id", "app-id")
            .value("entity_id", "https://sp.example")
            .value("metadata", Value::Bytes(b"<xml/>".to_vec()))
            .value("metadata_url", "https://sp.example/metadata")
            .value("login_version", 2)
            .value("login_base_uri", "https://login.example/")
            .build();
        let payload = r#"{"appId":"app-id","entityId":"https://sp.example","metadata":"PHhtbC8+",
            "metadata_url":"https://sp.example/metadata","loginVersion":2,
            "loginBaseURI":"https://login.example/"}"#;
        assert_eq!(
            try_reduce(&MODULE, super::ADDED, payload),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn added_without_optional_fields_writes_empty_values() {
        let expected = insert(TABLE)
            .value("app_id", "app-id")
            .value("entity_id", "")
            .value("metadata", Value::Bytes(Vec::new()))
            .value("metadata_url", "")
            .value("login_version", 0)
            .value("login_base_uri", "")
            .build();
        assert_eq!(
            try_reduce(&MODULE, super::ADDED, r#"{"appId":"app-id"}"#),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn changed_ignores_an_empty_entity_id() {
        let expected = update(TABLE)
            .eq("app_id", "app-id")
            .set("metadata_url", "https://sp.example/m")
            .build();
        let payload = r#"{"appId":"app-id","entityId":"","metadata_url":"https://sp.example/m"}"#;
        assert_eq!(
            try_reduce(&MODULE, super::CHANGED, payload),
            Ok(Some(vec![expected]))
        );
        assert_eq!(
            try_reduce(
                &MODULE,
                super::CHANGED,
                r#"{"appId":"app-id","entityId":""}"#
            ),
            Ok(Some(vec![]))
        );
    }

    #[test]
    fn changed_sets_a_new_entity_id() {
        let expected = update(TABLE)
            .eq("app_id", "app-id")
            .set("entity_id", "https://new.example")
            .build();
        let payload = r#"{"appId":"app-id","entityId":"https://new.example"}"#;
        assert_eq!(
            try_reduce(&MODULE, super::CHANGED, payload),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn metadata_that_is_not_base64_is_rejected() {
        assert!(matches!(
            try_reduce(
                &MODULE,
                super::CHANGED,
                r#"{"appId":"app-id","metadata":"%%%"}"#
            ),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }
}
