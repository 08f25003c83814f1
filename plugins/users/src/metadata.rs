//! `user_metadata_projection`: key/value metadata of a user (reference §4.6).
//!
//! Not a sub-table of `users_projection`: like the reference, `user.removed`
//! deletes the rows explicitly.

use projection_sdk::{
    ColumnType, Context, Description, Event, Table, Value, delete, sha256, upsert,
};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "user_metadata_projection";

/// The `user` events this table reduces.
const EVENTS: &[&str] = &[
    "user.metadata.set",
    "user.metadata.removed",
    "user.metadata.removed.all",
    "user.removed",
];

/// The table declaration. Values can be long, so the value index holds
/// their sha256 (as the reference's does).
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("user", EVENTS)
        .subscribe("org", &["org.removed"])
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let user = &event.aggregate_id;
    let mutation = match event.event_type.as_str() {
        "user.metadata.set" => {
            let payload = event.payload()?;
            let value = payload.bytes("value")?.map_or(Value::Null, Value::Bytes);
            upsert(TABLE, &["instance_id", "user_id", "key"])
                .value("user_id", user)
                .value("key", payload.text_or_empty("key")?)
                .value("resource_owner", &event.owner)
                .value("value", value)
                .keep_on_conflict(&["creation_date"])
                .build()
        }
        "user.metadata.removed" => {
            let key = event.payload()?.text_or_empty("key")?;
            delete(TABLE).eq("user_id", user).eq("key", key).build()
        }
        "user.metadata.removed.all" | "user.removed" => delete(TABLE).eq("user_id", user).build(),
        "org.removed" => delete(TABLE).eq("resource_owner", user).build(),
        "instance.removed" => delete(TABLE).eq("instance_id", &event.instance_id).build(),
        _ => return Ok(None),
    };
    Ok(Some(vec![mutation]))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, Value, upsert};

    use super::{TABLE, reduce};
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
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
