//! `user_metadata_projection`: key/value metadata of a user (reference §4.6).
//!
//! Not a sub-table of `users_projection`: like the reference, `user.removed`
//! deletes the rows explicitly.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, Value,
    aggregate_removed, delete, instance_removed, on, sha256, upsert,
};

/// The table name.
pub(crate) const TABLE: &str = "user_metadata_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("user", &["user.metadata.set"], set),
        on("user", &["user.metadata.removed"], |event, _| {
            let key = event.payload()?.text_or_empty("key")?;
            Ok(vec![
                delete(TABLE)
                    .eq("user_id", &event.aggregate_id)
                    .eq("key", key)
                    .build(),
            ])
        }),
        on("user", &["user.metadata.removed.all"], |event, _| {
            Ok(vec![
                delete(TABLE).eq("user_id", &event.aggregate_id).build(),
            ])
        }),
        aggregate_removed("user", &["user.removed"], &["user_id"]),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration. Values can be long, so the value index holds
/// their sha256 (as the reference's does).
fn table() -> Table {
    Table::new(TABLE)
        .column("user_id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("key", ColumnType::Text)
        .nullable("value", ColumnType::Bytes)
        .primary_key(&["instance_id", "user_id", "key"])
        .index("resource_owner", &["resource_owner"], &[])
        .index("key", &["key"], &[])
        .index_keys("value", &[sha256("value")], &[])
}

/// `user.metadata.set`: the key's value, base64 in the payload.
fn set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let value = payload.bytes("value")?.map_or(Value::Null, Value::Bytes);
    Ok(vec![
        upsert(TABLE, &["instance_id", "user_id", "key"])
            .value("user_id", &event.aggregate_id)
            .value("key", payload.text_or_empty("key")?)
            .value("resource_owner", &event.owner)
            .value("value", value)
            .keep_on_conflict(&["creation_date"])
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, Value, upsert};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn set_without_a_value_stores_null() {
        let e = event("user", "user.metadata.set", Some(r#"{"key":"k"}"#));
        let expected = upsert(TABLE, &["instance_id", "user_id", "key"])
            .value("user_id", "agg-id")
            .value("key", "k")
            .value("resource_owner", "ro-id")
            .value("value", Value::Null)
            .keep_on_conflict(&["creation_date"])
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
