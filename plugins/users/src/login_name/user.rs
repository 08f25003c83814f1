//! `login_names_users_projection`: user names and their orgs.

use projection_sdk::{ColumnType, Context, Description, Event, Table, delete, insert, update};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "login_names_users_projection";

/// The events that create a user (all of them carry `userName`).
const ADDED: &[&str] = &[
    "user.added",
    "user.human.added",
    "user.human.selfregistered",
    "user.selfregistered",
    "user.machine.added",
];

/// The events that change the user name.
const RENAMED: &[&str] = &["user.username.changed", "user.domain.claimed"];

/// The table declaration.
pub(crate) fn table() -> Table {
    Table::new(TABLE)
        .column("id", ColumnType::Text)
        .column("user_name", ColumnType::Text)
        .lower_of("user_name_lower", "user_name")
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "id"])
        .index(
            "instance_user_name",
            &["instance_id", "user_name"],
            &["resource_owner"],
        )
        .index(
            "lnu_instance_ro_id",
            &["instance_id", "resource_owner", "id"],
            &["user_name"],
        )
        .index(
            "search",
            &["instance_id", "user_name_lower"],
            &["resource_owner"],
        )
}

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("user", ADDED)
        .subscribe("user", RENAMED)
        .subscribe("user", &["user.removed"])
        .subscribe("org", &["org.removed"])
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let kind = event.event_type.as_str();
    let id = &event.aggregate_id;
    let user_name = || event.payload()?.text_or_empty("userName");
    let mutation = if ADDED.contains(&kind) {
        insert(TABLE)
            .value("id", id)
            .value("user_name", user_name()?)
            .value("resource_owner", &event.owner)
            .build()
    } else if RENAMED.contains(&kind) {
        update(TABLE)
            .set("user_name", user_name()?)
            .eq("id", id)
            .build()
    } else {
        match kind {
            "user.removed" => delete(TABLE).eq("id", id).build(),
            "org.removed" => delete(TABLE).eq("resource_owner", id).build(),
            "instance.removed" => delete(TABLE).eq("instance_id", &event.instance_id).build(),
            _ => return Ok(None),
        }
    };
    Ok(Some(vec![mutation]))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, insert, update};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn machine_added_and_claimed_domain_keep_the_user_name() {
        let ctx = Context::new(&NoEvents);
        let added = event("user", "user.machine.added", Some(r#"{"userName":"bot"}"#));
        let expected = insert(TABLE)
            .value("id", "agg-id")
            .value("user_name", "bot")
            .value("resource_owner", "ro-id")
            .build();
        assert_eq!(reduce(&added, &ctx), Ok(Some(vec![expected])));
        let claimed = event(
            "user",
            "user.domain.claimed",
            Some(r#"{"userName":"x@tmp"}"#),
        );
        let expected = update(TABLE)
            .set("user_name", "x@tmp")
            .eq("id", "agg-id")
            .build();
        assert_eq!(reduce(&claimed, &ctx), Ok(Some(vec![expected])));
    }
}
