//! `personal_access_tokens_projection`: personal access tokens of users
//! (reference §4.9).

use projection_sdk::{ColumnType, Context, Description, Event, Table, Value, delete, insert};

use crate::field::{GO_ZERO_TIME, timestamp};
use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "personal_access_tokens_projection";

/// The `user` events this table reduces.
const EVENTS: &[&str] = &["user.pat.added", "user.pat.removed", "user.removed"];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("user", EVENTS)
        .subscribe("org", &["org.removed"])
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let mutation = match event.event_type.as_str() {
        "user.pat.added" => {
            let payload = event.payload()?;
            let expiration = timestamp(&payload, "expiration")?.unwrap_or(GO_ZERO_TIME);
            insert(TABLE)
                .value("id", payload.text_or_empty("tokenId")?)
                .value("user_id", &event.aggregate_id)
                .value("resource_owner", &event.owner)
                .value("expiration", Value::Timestamp(expiration))
                .value("scopes", payload.text_array("scopes")?)
                .build()
        }
        "user.pat.removed" => {
            let token = event.payload()?.text_or_empty("tokenId")?;
            delete(TABLE).eq("id", token).build()
        }
        "user.removed" => delete(TABLE).eq("user_id", &event.aggregate_id).build(),
        "org.removed" => delete(TABLE)
            .eq("resource_owner", &event.aggregate_id)
            .build(),
        "instance.removed" => delete(TABLE).eq("instance_id", &event.instance_id).build(),
        _ => return Ok(None),
    };
    Ok(Some(vec![mutation]))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, ProjectionError, delete};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn user_removed_deletes_the_users_tokens() {
        let e = event("user", "user.removed", None);
        let expected = delete(TABLE).eq("user_id", "agg-id").build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn org_removed_deletes_the_orgs_tokens() {
        let e = event("org", "org.removed", None);
        let expected = delete(TABLE).eq("resource_owner", "agg-id").build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }
}
