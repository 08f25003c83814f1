//! `user_grants_projection`: grants of project roles to users (reference
//! §4.10).
//!
//! Project events reach into the roles of existing grants without bumping
//! them (reference §9.2, §9.4): a removed role is taken out of every grant of
//! the project, a changed project grant keeps only the roles still granted.

use projection_sdk::{
    ColumnOp, ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule,
    UpdateBuilder, aggregate_removed, delete, insert, instance_removed, on, update,
};

use crate::lookup;

/// The table name.
pub(crate) const TABLE: &str = "user_grants_projection";

/// `state`: active.
const STATE_ACTIVE: i64 = 1;
/// `state`: inactive.
const STATE_INACTIVE: i64 = 2;

/// The table and what each event does to it. `org.removed` clears the rows
/// of every org a grant depends on.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("usergrant", &["user.grant.added"], added),
        on(
            "usergrant",
            &["user.grant.changed", "user.grant.cascade.changed"],
            |event, _| {
                let roles = event.payload()?.text_array("roleKeys")?;
                Ok(vec![grant(event).set("roles", roles).build()])
            },
        ),
        aggregate_removed(
            "usergrant",
            &["user.grant.removed", "user.grant.cascade.removed"],
            &["id"],
        ),
        on("usergrant", &["user.grant.deactivated"], |event, _| {
            Ok(vec![grant(event).set("state", STATE_INACTIVE).build()])
        }),
        on("usergrant", &["user.grant.reactivated"], |event, _| {
            Ok(vec![grant(event).set("state", STATE_ACTIVE).build()])
        }),
        aggregate_removed("user", &["user.removed"], &["user_id"]),
        aggregate_removed("project", &["project.removed"], &["project_id"]),
        on("project", &["project.grant.removed"], |event, _| {
            let grant_id = event.payload()?.text_or_empty("grantId")?;
            Ok(vec![delete(TABLE).eq("grant_id", grant_id).build()])
        }),
        on("project", &["project.role.removed"], role_removed),
        on(
            "project",
            &["project.grant.changed", "project.grant.cascade.changed"],
            project_grant_changed,
        ),
        aggregate_removed(
            "org",
            &["org.removed"],
            &[
                "resource_owner",
                "resource_owner_user",
                "resource_owner_project",
                "granted_org",
            ],
        ),
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
        .column("state", ColumnType::SmallInt)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("user_id", ColumnType::Text)
        .column("resource_owner_user", ColumnType::Text)
        .column("project_id", ColumnType::Text)
        .column("resource_owner_project", ColumnType::Text)
        .column("grant_id", ColumnType::Text)
        .column("granted_org", ColumnType::Text)
        .nullable("roles", ColumnType::TextArray)
        .primary_key(&["instance_id", "id"])
        .index("user_id", &["user_id"], &[])
        .index("resource_owner", &["resource_owner"], &[])
}

/// An update of the event's grant.
fn grant(event: &Event) -> UpdateBuilder {
    update(TABLE).eq("id", &event.aggregate_id)
}

/// `user.grant.added`: the grant, with the owners looked up.
fn added(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let user_id = payload.text_or_empty("userId")?;
    let project_id = payload.text_or_empty("projectId")?;
    let grant_id = payload.text_or_empty("grantId")?;
    let owners = lookup::owners(ctx, &user_id, &project_id, &grant_id)?;
    Ok(vec![
        insert(TABLE)
            .value("id", &event.aggregate_id)
            .value("resource_owner", &event.owner)
            .value("user_id", user_id)
            .value("resource_owner_user", owners.user)
            .value("project_id", project_id)
            .value("resource_owner_project", owners.project)
            .value("grant_id", grant_id)
            .value("granted_org", owners.granted_org)
            .value("roles", payload.text_array("roleKeys")?)
            .value("state", STATE_ACTIVE)
            .build(),
    ])
}

/// `project.role.removed`: the role leaves every grant of the project.
fn role_removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let key = event.payload()?.text_or_empty("key")?;
    Ok(vec![
        update(TABLE)
            .op("roles", ColumnOp::ArrayRemove(key.into()))
            .eq("project_id", &event.aggregate_id)
            .no_bump()
            .build(),
    ])
}

/// A project grant changed: its grants keep only the roles still granted.
fn project_grant_changed(
    event: &Event,
    _ctx: &Context<'_>,
) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let kept = payload.text_array("roleKeys")?.unwrap_or_default();
    Ok(vec![
        update(TABLE)
            .op("roles", ColumnOp::ArrayIntersect(kept))
            .eq("grant_id", payload.text_or_empty("grantId")?)
            .no_bump()
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, ProjectionError, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn added_without_the_users_creation_event_is_not_found() {
        let e = event(
            "usergrant",
            "user.grant.added",
            Some(r#"{"userId":"u","projectId":"p","roleKeys":["r"]}"#),
        );
        assert!(matches!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Err(ProjectionError::NotFound(_))
        ));
    }

    #[test]
    fn deactivated_sets_the_state() {
        let e = event("usergrant", "user.grant.deactivated", None);
        let expected = update(TABLE).eq("id", "agg-id").set("state", 2).build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
