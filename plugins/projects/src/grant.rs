//! `project_grants_projection`: the grants of a project to other orgs
//! (reference §3.3).
//!
//! `project.owner.corrected` moves the project's grants to the event's
//! owner where they have another one, without bumping them (reference §9.2,
//! §9.4).

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, UpdateBuilder,
    aggregate_removed, delete, insert, instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "project_grants_projection";

/// `state`: active.
const STATE_ACTIVE: i64 = 1;

/// `state`: inactive.
const STATE_INACTIVE: i64 = 2;

/// The table and what each event does to it. `org.removed` takes the grants
/// the org made and the grants made to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("project", &["project.grant.added"], added),
        on(
            "project",
            &["project.grant.changed", "project.grant.cascade.changed"],
            |event, _| {
                let role_keys = event.payload()?.text_array("roleKeys")?;
                Ok(vec![
                    grant(event)?.set("granted_role_keys", role_keys).build(),
                ])
            },
        ),
        on("project", &["project.grant.deactivated"], |event, _| {
            Ok(vec![grant(event)?.set("state", STATE_INACTIVE).build()])
        }),
        on("project", &["project.grant.reactivated"], |event, _| {
            Ok(vec![grant(event)?.set("state", STATE_ACTIVE).build()])
        }),
        on("project", &["project.grant.removed"], removed),
        aggregate_removed("project", &["project.removed"], &["project_id"]),
        on("project", &["project.owner.corrected"], owner_corrected),
        aggregate_removed(
            "org",
            &["org.removed"],
            &["resource_owner", "granted_org_id"],
        ),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("grant_id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("state", ColumnType::SmallInt)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("project_id", ColumnType::Text)
        .column("granted_org_id", ColumnType::Text)
        .nullable("granted_role_keys", ColumnType::TextArray)
        .primary_key(&["instance_id", "grant_id"])
        .index("resource_owner", &["resource_owner"], &[])
        .index("granted_org", &["granted_org_id"], &[])
}

/// The payload's `grantId`.
fn grant_id(event: &Event) -> Result<String, ProjectionError> {
    event.payload()?.text_or_empty("grantId")
}

/// An update of the event's grant (`grantId`) of the event's project.
fn grant(event: &Event) -> Result<UpdateBuilder, ProjectionError> {
    Ok(update(TABLE)
        .eq("grant_id", grant_id(event)?)
        .eq("project_id", &event.aggregate_id))
}

/// `project.grant.added`: an active grant; absent role keys are NULL.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        insert(TABLE)
            .value("grant_id", payload.text_or_empty("grantId")?)
            .value("project_id", &event.aggregate_id)
            .value("resource_owner", &event.owner)
            .value("state", STATE_ACTIVE)
            .value("granted_org_id", payload.text_or_empty("grantedOrgId")?)
            .value("granted_role_keys", payload.text_array("roleKeys")?)
            .build(),
    ])
}

/// `project.grant.removed`.
fn removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        delete(TABLE)
            .eq("grant_id", grant_id(event)?)
            .eq("project_id", &event.aggregate_id)
            .build(),
    ])
}

/// `project.owner.corrected`: the event's owner on the project's grants
/// that have another one, not bumped.
fn owner_corrected(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        update(TABLE)
            .set("resource_owner", &event.owner)
            .eq("project_id", &event.aggregate_id)
            .not_eq("resource_owner", &event.owner)
            .no_bump()
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, Reduced, Value, delete, insert, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    fn reduce(aggregate_type: &str, event_type: &str, payload: Option<&str>) -> Reduced {
        let e = event(aggregate_type, event_type, payload);
        MODULE.reduce(&e, &Context::new(&NoEvents))
    }

    #[test]
    fn added_without_role_keys_writes_null() {
        let payload = r#"{"grantId":"grant-id","grantedOrgId":"org2"}"#;
        let expected = insert(TABLE)
            .value("grant_id", "grant-id")
            .value("project_id", "agg-id")
            .value("resource_owner", "ro-id")
            .value("state", 1)
            .value("granted_org_id", "org2")
            .value("granted_role_keys", Value::Null)
            .build();
        assert_eq!(
            reduce("project", "project.grant.added", Some(payload)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn changed_replaces_the_role_keys() {
        let payload = r#"{"grantId":"grant-id","roleKeys":["a"]}"#;
        let expected = update(TABLE)
            .eq("grant_id", "grant-id")
            .eq("project_id", "agg-id")
            .set("granted_role_keys", vec!["a".to_owned()])
            .build();
        assert_eq!(
            reduce("project", "project.grant.changed", Some(payload)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn owner_corrected_moves_grants_with_another_owner_without_bumping() {
        let expected = update(TABLE)
            .set("resource_owner", "ro-id")
            .eq("project_id", "agg-id")
            .not_eq("resource_owner", "ro-id")
            .no_bump()
            .build();
        assert_eq!(
            reduce("project", "project.owner.corrected", None),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn project_removed_deletes_its_grants() {
        let expected = delete(TABLE).eq("project_id", "agg-id").build();
        assert_eq!(
            reduce("project", "project.removed", None),
            Ok(Some(vec![expected]))
        );
    }
}
