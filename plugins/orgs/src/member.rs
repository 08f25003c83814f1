//! `org_members_projection`: the members of an organization (reference §2.3).
//!
//! `user_resource_owner` is not in the member event: like Zitadel, the
//! reducer looks up the member user's creation event in the event store and
//! takes its owner.

use projection_sdk::{
    ColumnType, Context, Event, EventFilter, Mutation, ProjectionError, Table, TableModule, Value,
    aggregate_removed, delete, insert, instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "org_members_projection";

/// The user events that create a user; their owner is the user's org.
const USER_CREATED: &[&str] = &[
    "user.human.added",
    "user.human.selfregistered",
    "user.machine.added",
];

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("org", &["org.member.added"], added),
        on("org", &["org.member.changed"], changed),
        on(
            "org",
            &["org.member.cascade.removed", "org.member.removed"],
            removed,
        ),
        aggregate_removed(
            "org",
            &["org.removed"],
            &["resource_owner", "user_resource_owner"],
        ),
        instance_removed(),
        aggregate_removed("user", &["user.removed"], &["user_id"]),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("user_id", ColumnType::Text)
        .column("user_resource_owner", ColumnType::Text)
        .nullable("roles", ColumnType::TextArray)
        .column("sequence", ColumnType::Int)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("org_id", ColumnType::Text)
        .primary_key(&["instance_id", "org_id", "user_id"])
        .index("user_id", &["user_id"], &[])
        .index(
            "om_instance",
            &["instance_id"],
            &[
                "creation_date",
                "change_date",
                "roles",
                "sequence",
                "resource_owner",
            ],
        )
}

/// The owner (org) of the user's latest creation event.
fn user_resource_owner(ctx: &Context<'_>, user_id: &str) -> Result<String, ProjectionError> {
    let filter = EventFilter {
        aggregate_type: "user".to_owned(),
        aggregate_ids: vec![user_id.to_owned()],
        event_types: USER_CREATED.iter().map(|t| (*t).to_owned()).collect(),
    };
    ctx.find_events(&filter)
        .pop()
        .map(|created| created.owner)
        .ok_or_else(|| ProjectionError::NotFound(format!("creation event of user {user_id:?}")))
}

/// The `roles` payload field: NULL when absent.
fn roles(event: &Event) -> Result<Value, ProjectionError> {
    Ok(event.payload()?.text_array("roles")?.into())
}

/// The payload's `userId`.
fn user_id(event: &Event) -> Result<String, ProjectionError> {
    event.payload()?.text_or_empty("userId")
}

/// `org.member.added`: the member, with the owner of their user.
fn added(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let user_id = user_id(event)?;
    let owner = user_resource_owner(ctx, &user_id)?;
    Ok(vec![
        insert(TABLE)
            .value("org_id", &event.aggregate_id)
            .value("user_id", user_id)
            .value("user_resource_owner", owner)
            .value("roles", roles(event)?)
            .value("resource_owner", &event.owner)
            .build(),
    ])
}

/// `org.member.changed`: the roles.
fn changed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        update(TABLE)
            .set("roles", roles(event)?)
            .eq("user_id", user_id(event)?)
            .eq("org_id", &event.aggregate_id)
            .build(),
    ])
}

/// `org.member.removed` and its cascade.
fn removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        delete(TABLE)
            .eq("user_id", user_id(event)?)
            .eq("org_id", &event.aggregate_id)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, EventList, NoEvents, ProjectionError, delete, insert, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    const ADDED: &str = r#"{"userId":"user-id","roles":["role"]}"#;

    fn user_created(event_type: &str, owner: &str) -> projection_sdk::Event {
        let mut user = event("user", event_type, Some(r#"{"userName":"u"}"#));
        user.aggregate_id = "user-id".to_owned();
        user.owner = owner.to_owned();
        user
    }

    fn member_row(user_owner: &str) -> projection_sdk::Mutation {
        insert(TABLE)
            .value("org_id", "agg-id")
            .value("user_id", "user-id")
            .value("user_resource_owner", user_owner)
            .value("roles", vec!["role".to_owned()])
            .value("resource_owner", "ro-id")
            .build()
    }

    #[test]
    fn added_takes_the_owner_of_the_latest_creation_event() {
        let e = event("org", "org.member.added", Some(ADDED));
        let store = EventList(vec![
            user_created("user.human.added", "org2"),
            user_created("user.username.changed", "org3"),
            user_created("user.machine.added", "org1"),
        ]);
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&store)),
            Ok(Some(vec![member_row("org1")]))
        );
    }

    #[test]
    fn added_without_user_is_not_found() {
        let e = event("org", "org.member.added", Some(ADDED));
        let store = EventList(vec![user_created("user.added", "org1")]);
        assert!(matches!(
            MODULE.reduce(&e, &Context::new(&store)),
            Err(ProjectionError::NotFound(_))
        ));
    }

    #[test]
    fn changed_replaces_the_roles() {
        let e = event(
            "org",
            "org.member.changed",
            Some(r#"{"userId":"user-id","roles":["role","changed"]}"#),
        );
        let expected = update(TABLE)
            .set("roles", vec!["role".to_owned(), "changed".to_owned()])
            .eq("user_id", "user-id")
            .eq("org_id", "agg-id")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn user_removed_deletes_the_users_memberships() {
        let e = event("user", "user.removed", None);
        let expected = delete(TABLE).eq("user_id", "agg-id").build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
