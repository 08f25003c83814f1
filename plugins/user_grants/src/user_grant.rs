//! `user_grants_projection`: grants of project roles to users (reference
//! §4.10).
//!
//! Project events reach into the roles of existing grants without bumping
//! them (reference §9.2, §9.4): a removed role is taken out of every grant of
//! the project, a changed project grant keeps only the roles still granted.

use projection_sdk::{
    ColumnOp, ColumnType, Context, Description, Event, Table, delete, insert, update,
};

use crate::lookup;
use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "user_grants_projection";

/// `state`: active.
const STATE_ACTIVE: i64 = 1;
/// `state`: inactive.
const STATE_INACTIVE: i64 = 2;

/// The `usergrant` events this table reduces.
const GRANT_EVENTS: &[&str] = &[
    "user.grant.added",
    "user.grant.changed",
    "user.grant.cascade.changed",
    "user.grant.removed",
    "user.grant.cascade.removed",
    "user.grant.deactivated",
    "user.grant.reactivated",
];

/// The `project` events this table reduces.
const PROJECT_EVENTS: &[&str] = &[
    "project.removed",
    "project.grant.removed",
    "project.role.removed",
    "project.grant.changed",
    "project.grant.cascade.changed",
];

/// The columns `org.removed` clears rows by: every org a grant depends on.
const ORG_COLUMNS: [&str; 4] = [
    "resource_owner",
    "resource_owner_user",
    "resource_owner_project",
    "granted_org",
];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("usergrant", GRANT_EVENTS)
        .subscribe("user", &["user.removed"])
        .subscribe("project", PROJECT_EVENTS)
        .subscribe("org", &["org.removed"])
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, ctx: &Context<'_>) -> Reduced {
    let agg = &event.aggregate_id;
    let grant = || update(TABLE).eq("id", agg);
    let mutations = match event.event_type.as_str() {
        "user.grant.added" => {
            let payload = event.payload()?;
            let user_id = payload.text_or_empty("userId")?;
            let project_id = payload.text_or_empty("projectId")?;
            let grant_id = payload.text_or_empty("grantId")?;
            let owners = lookup::owners(ctx, &user_id, &project_id, &grant_id)?;
            vec![
                insert(TABLE)
                    .value("id", agg)
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
            ]
        }
        "user.grant.changed" | "user.grant.cascade.changed" => {
            let roles = event.payload()?.text_array("roleKeys")?;
            vec![grant().set("roles", roles).build()]
        }
        "user.grant.removed" | "user.grant.cascade.removed" => {
            vec![delete(TABLE).eq("id", agg).build()]
        }
        "user.grant.deactivated" => vec![grant().set("state", STATE_INACTIVE).build()],
        "user.grant.reactivated" => vec![grant().set("state", STATE_ACTIVE).build()],
        "user.removed" => vec![delete(TABLE).eq("user_id", agg).build()],
        "project.removed" => vec![delete(TABLE).eq("project_id", agg).build()],
        "project.grant.removed" => {
            let grant_id = event.payload()?.text_or_empty("grantId")?;
            vec![delete(TABLE).eq("grant_id", grant_id).build()]
        }
        "project.role.removed" => {
            let key = event.payload()?.text_or_empty("key")?;
            vec![
                update(TABLE)
                    .op("roles", ColumnOp::ArrayRemove(key.into()))
                    .eq("project_id", agg)
                    .no_bump()
                    .build(),
            ]
        }
        "project.grant.changed" | "project.grant.cascade.changed" => {
            let payload = event.payload()?;
            let kept = payload.text_array("roleKeys")?.unwrap_or_default();
            vec![
                update(TABLE)
                    .op("roles", ColumnOp::ArrayIntersect(kept))
                    .eq("grant_id", payload.text_or_empty("grantId")?)
                    .no_bump()
                    .build(),
            ]
        }
        "org.removed" => ORG_COLUMNS
            .iter()
            .map(|column| delete(TABLE).eq(column, agg).build())
            .collect(),
        "instance.removed" => vec![delete(TABLE).eq("instance_id", &event.instance_id).build()],
        _ => return Ok(None),
    };
    Ok(Some(mutations))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, ProjectionError, update};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn added_without_the_users_creation_event_is_not_found() {
        let e = event(
            "usergrant",
            "user.grant.added",
            Some(r#"{"userId":"u","projectId":"p","roleKeys":["r"]}"#),
        );
        assert!(matches!(
            reduce(&e, &Context::new(&NoEvents)),
            Err(ProjectionError::NotFound(_))
        ));
    }

    #[test]
    fn deactivated_sets_the_state() {
        let e = event("usergrant", "user.grant.deactivated", None);
        let expected = update(TABLE).eq("id", "agg-id").set("state", 2).build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
