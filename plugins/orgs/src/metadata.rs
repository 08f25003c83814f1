//! `org_metadata_projection`: key/value metadata of an organization
//! (reference §2.4).
//!
//! Unlike the other tables, `org.removed` does not delete the rows: it flags
//! them `owner_removed = true`.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, Value, delete,
    instance_removed, on, update, upsert,
};

/// The table name.
pub(crate) const TABLE: &str = "org_metadata_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("org", &["org.metadata.set"], set),
        on("org", &["org.metadata.removed"], removed),
        on("org", &["org.metadata.removed.all"], |event, _| {
            Ok(vec![
                delete(TABLE).eq("org_id", &event.aggregate_id).build(),
            ])
        }),
        on("org", &["org.removed"], |event, _| {
            Ok(vec![
                update(TABLE)
                    .set("owner_removed", true)
                    .eq("resource_owner", &event.aggregate_id)
                    .build(),
            ])
        }),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("org_id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("key", ColumnType::Text)
        .nullable("value", ColumnType::Bytes)
        .column_default("owner_removed", ColumnType::Boolean, false)
        .primary_key(&["instance_id", "org_id", "key"])
        .index("owner_removed", &["owner_removed"], &[])
}

/// `org.metadata.set`: the key's value, base64 in the payload.
fn set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let value = payload.bytes("value")?.map_or(Value::Null, Value::Bytes);
    Ok(vec![
        upsert(TABLE, &["instance_id", "org_id", "key"])
            .value("org_id", &event.aggregate_id)
            .value("key", payload.text_or_empty("key")?)
            .value("resource_owner", &event.owner)
            .value("value", value)
            .keep_on_conflict(&["creation_date"])
            .build(),
    ])
}

/// `org.metadata.removed`: one key.
fn removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let key = event.payload()?.text_or_empty("key")?;
    Ok(vec![
        delete(TABLE)
            .eq("org_id", &event.aggregate_id)
            .eq("key", key)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, ProjectionError, Value, delete, update, upsert};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn set_upserts_the_decoded_value() {
        let e = event(
            "org",
            "org.metadata.set",
            Some(r#"{"key":"key","value":"YmxhYg=="}"#),
        );
        let expected = upsert(TABLE, &["instance_id", "org_id", "key"])
            .value("org_id", "agg-id")
            .value("key", "key")
            .value("resource_owner", "ro-id")
            .value("value", Value::Bytes(b"blab".to_vec()))
            .keep_on_conflict(&["creation_date"])
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn set_rejects_a_value_that_is_not_base64() {
        let e = event(
            "org",
            "org.metadata.set",
            Some(r#"{"key":"key","value":"%%%"}"#),
        );
        assert!(matches!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }

    #[test]
    fn removed_deletes_one_key() {
        let e = event("org", "org.metadata.removed", Some(r#"{"key":"key"}"#));
        let expected = delete(TABLE)
            .eq("org_id", "agg-id")
            .eq("key", "key")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn org_removed_only_flags_the_rows() {
        let e = event("org", "org.removed", None);
        let expected = update(TABLE)
            .set("owner_removed", true)
            .eq("resource_owner", "agg-id")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
