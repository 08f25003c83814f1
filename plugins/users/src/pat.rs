//! `personal_access_tokens_projection`: personal access tokens of users
//! (reference §4.9).

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, Value,
    aggregate_removed, delete, insert, instance_removed, on,
};

use crate::field::{GO_ZERO_TIME, timestamp};

/// The table name.
pub(crate) const TABLE: &str = "personal_access_tokens_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("user", &["user.pat.added"], added),
        on("user", &["user.pat.removed"], |event, _| {
            let token = event.payload()?.text_or_empty("tokenId")?;
            Ok(vec![delete(TABLE).eq("id", token).build()])
        }),
        aggregate_removed("user", &["user.removed"], &["user_id"]),
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
        .column("sequence", ColumnType::Int)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("user_id", ColumnType::Text)
        .column("expiration", ColumnType::Timestamp)
        .nullable("scopes", ColumnType::TextArray)
        .column_default("owner_removed", ColumnType::Boolean, false)
        .primary_key(&["instance_id", "id"])
        .index("user_id", &["user_id"], &[])
        .index("resource_owner", &["resource_owner"], &[])
        .index("owner_removed", &["owner_removed"], &[])
        .index("creation_date", &["creation_date"], &[])
        .index("expiration_date", &["expiration"], &[])
}

/// `user.pat.added`: the token, expiring at Go's zero time when the event
/// says nothing.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let expiration = timestamp(&payload, "expiration")?.unwrap_or(GO_ZERO_TIME);
    Ok(vec![
        insert(TABLE)
            .value("id", payload.text_or_empty("tokenId")?)
            .value("user_id", &event.aggregate_id)
            .value("resource_owner", &event.owner)
            .value("expiration", Value::Timestamp(expiration))
            .value("scopes", payload.text_array("scopes")?)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, ProjectionError, delete};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn user_removed_deletes_the_users_tokens() {
        let e = event("user", "user.removed", None);
        let expected = delete(TABLE).eq("user_id", "agg-id").build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn org_removed_deletes_the_orgs_tokens() {
        let e = event("org", "org.removed", None);
        let expected = delete(TABLE).eq("resource_owner", "agg-id").build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn added_rejects_an_expiration_that_is_no_time() {
        let e = event(
            "user",
            "user.pat.added",
            Some(r#"{"tokenId":"t","expiration":"tomorrow"}"#),
        );
        assert!(matches!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }
}
