//! `login_names_users_projection`: user names and their orgs.

use projection_sdk::{
    ColumnType, Table, TableModule, aggregate_removed, insert, instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "login_names_users_projection";

/// The table and what each event does to it. The events that create a user
/// all carry `userName`.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on(
            "user",
            &[
                "user.added",
                "user.human.added",
                "user.human.selfregistered",
                "user.selfregistered",
                "user.machine.added",
            ],
            |event, _| {
                Ok(vec![
                    insert(TABLE)
                        .value("id", &event.aggregate_id)
                        .value("user_name", event.payload()?.text_or_empty("userName")?)
                        .value("resource_owner", &event.owner)
                        .build(),
                ])
            },
        ),
        on(
            "user",
            &["user.username.changed", "user.domain.claimed"],
            |event, _| {
                Ok(vec![
                    update(TABLE)
                        .set("user_name", event.payload()?.text_or_empty("userName")?)
                        .eq("id", &event.aggregate_id)
                        .build(),
                ])
            },
        ),
        aggregate_removed("user", &["user.removed"], &["id"]),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
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

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, insert, update};

    use super::{MODULE, TABLE};
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
        assert_eq!(MODULE.reduce(&added, &ctx), Ok(Some(vec![expected])));
        let claimed = event(
            "user",
            "user.domain.claimed",
            Some(r#"{"userName":"x@tmp"}"#),
        );
        let expected = update(TABLE)
            .set("user_name", "x@tmp")
            .eq("id", "agg-id")
            .build();
        assert_eq!(MODULE.reduce(&claimed, &ctx), Ok(Some(vec![expected])));
    }
}
