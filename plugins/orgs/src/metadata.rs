//! `org_metadata_projection`: key/value metadata of an organization
//! (reference §2.4).
//!
//! Unlike the other tables, `org.removed` does not delete the rows: it flags
//! them `owner_removed = true`.

use projection_sdk::{
    ColumnType, Context, Description, Event, Table, Value, delete, update, upsert,
};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "org_metadata_projection";

/// The `org` events this table reduces.
const EVENTS: &[&str] = &[
    "org.metadata.set",
    "org.metadata.removed",
    "org.metadata.removed.all",
    "org.removed",
];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("org", EVENTS)
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let org = &event.aggregate_id;
    let mutation = match event.event_type.as_str() {
        "org.metadata.set" => {
            let payload = event.payload()?;
            let value = payload.bytes("value")?.map_or(Value::Null, Value::Bytes);
            upsert(TABLE, &["instance_id", "org_id", "key"])
                .value("org_id", org)
                .value("key", payload.text_or_empty("key")?)
                .value("resource_owner", &event.owner)
                .value("value", value)
                .keep_on_conflict(&["creation_date"])
                .build()
        }
        "org.metadata.removed" => {
            let key = event.payload()?.text_or_empty("key")?;
            delete(TABLE).eq("org_id", org).eq("key", key).build()
        }
        "org.metadata.removed.all" => delete(TABLE).eq("org_id", org).build(),
        "org.removed" => update(TABLE)
            .set("owner_removed", true)
            .eq("resource_owner", org)
            .build(),
        "instance.removed" => delete(TABLE).eq("instance_id", &event.instance_id).build(),
        _ => return Ok(None),
    };
    Ok(Some(vec![mutation]))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, ProjectionError, Value, delete, update, upsert};

    use super::{TABLE, reduce};
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
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
