//! `projects_projection`: one row per project (reference §3.1).

use projection_sdk::{
    ColumnType, Context, Event, Mutation, Payload, ProjectionError, Table, TableModule,
    UpdateBuilder, Value, aggregate_removed, insert, instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "projects_projection";

/// `state`: active.
const STATE_ACTIVE: i64 = 1;

/// `state`: inactive.
const STATE_INACTIVE: i64 = 2;

/// The payload's boolean settings and their columns.
const FLAGS: [(&str, &str); 3] = [
    ("projectRoleAssertion", "project_role_assertion"),
    ("projectRoleCheck", "project_role_check"),
    ("hasProjectCheck", "has_project_check"),
];

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("project", &["project.added"], added),
        on("project", &["project.changed"], changed),
        on("project", &["project.deactivated"], |event, _| {
            Ok(vec![row(event).set("state", STATE_INACTIVE).build()])
        }),
        on("project", &["project.reactivated"], |event, _| {
            Ok(vec![row(event).set("state", STATE_ACTIVE).build()])
        }),
        aggregate_removed("project", &["project.removed"], &["id"]),
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
        .column("state", ColumnType::SmallInt)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("name", ColumnType::Text)
        .column("project_role_assertion", ColumnType::Boolean)
        .column("project_role_check", ColumnType::Boolean)
        .column("has_project_check", ColumnType::Boolean)
        .column("private_labeling_setting", ColumnType::SmallInt)
        .primary_key(&["instance_id", "id"])
        .index("resource_owner", &["resource_owner"], &[])
}

/// An update of the event's project.
fn row(event: &Event) -> UpdateBuilder {
    update(TABLE).eq("id", &event.aggregate_id)
}

/// `project.added`: an active project; absent settings read as false / 0.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let mut project = insert(TABLE)
        .value("id", &event.aggregate_id)
        .value("resource_owner", &event.owner)
        .value("state", STATE_ACTIVE)
        .value("name", payload.text_or_empty("name")?);
    for (key, column) in FLAGS {
        project = project.value(column, payload.boolean(key)?.unwrap_or(false));
    }
    let labeling = payload.int("privateLabelingSetting")?.unwrap_or(0);
    Ok(vec![
        project.value("private_labeling_setting", labeling).build(),
    ])
}

/// `project.changed`: the fields present; none is a no-op.
fn changed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let changes = changes(&event.payload()?)?;
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let set = changes
        .into_iter()
        .fold(row(event), |u, (column, value)| u.set(column, value));
    Ok(vec![set.build()])
}

/// The columns a `project.changed` payload sets, in column order.
fn changes(payload: &Payload) -> Result<Vec<(&'static str, Value)>, ProjectionError> {
    let mut changes = Vec::new();
    if let Some(name) = payload.text("name")? {
        changes.push(("name", Value::from(name)));
    }
    for (key, column) in FLAGS {
        if let Some(flag) = payload.boolean(key)? {
            changes.push((column, Value::from(flag)));
        }
    }
    if let Some(labeling) = payload.int("privateLabelingSetting")? {
        changes.push(("private_labeling_setting", Value::from(labeling)));
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, Reduced, delete, insert, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    fn reduce(aggregate_type: &str, event_type: &str, payload: Option<&str>) -> Reduced {
        let e = event(aggregate_type, event_type, payload);
        MODULE.reduce(&e, &Context::new(&NoEvents))
    }

    #[test]
    fn added_inserts_an_active_project() {
        let payload = r#"{"name":"name","projectRoleAssertion":true,"projectRoleCheck":false,
            "hasProjectCheck":true,"privateLabelingSetting":2}"#;
        let expected = insert(TABLE)
            .value("id", "agg-id")
            .value("resource_owner", "ro-id")
            .value("state", 1)
            .value("name", "name")
            .value("project_role_assertion", true)
            .value("project_role_check", false)
            .value("has_project_check", true)
            .value("private_labeling_setting", 2)
            .build();
        assert_eq!(
            reduce("project", "project.added", Some(payload)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn added_without_settings_takes_the_zero_values() {
        let expected = insert(TABLE)
            .value("id", "agg-id")
            .value("resource_owner", "ro-id")
            .value("state", 1)
            .value("name", "")
            .value("project_role_assertion", false)
            .value("project_role_check", false)
            .value("has_project_check", false)
            .value("private_labeling_setting", 0)
            .build();
        assert_eq!(
            reduce("project", "project.added", None),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn changed_sets_only_the_fields_present() {
        let payload = r#"{"projectrolecheck":true,"privateLabelingSetting":1}"#;
        let expected = update(TABLE)
            .eq("id", "agg-id")
            .set("project_role_check", true)
            .set("private_labeling_setting", 1)
            .build();
        assert_eq!(
            reduce("project", "project.changed", Some(payload)),
            Ok(Some(vec![expected]))
        );
        let renamed = update(TABLE).eq("id", "agg-id").set("name", "").build();
        assert_eq!(
            reduce("project", "project.changed", Some(r#"{"name":""}"#)),
            Ok(Some(vec![renamed]))
        );
    }

    #[test]
    fn changed_without_fields_is_a_no_op() {
        for payload in [None, Some("{}"), Some(r#"{"name":null}"#)] {
            assert_eq!(
                reduce("project", "project.changed", payload),
                Ok(Some(vec![]))
            );
        }
    }

    #[test]
    fn changed_with_a_wrong_type_is_an_error() {
        assert!(
            reduce(
                "project",
                "project.changed",
                Some(r#"{"hasProjectCheck":"yes"}"#)
            )
            .is_err()
        );
    }

    #[test]
    fn org_removed_deletes_the_orgs_projects() {
        let expected = delete(TABLE).eq("resource_owner", "agg-id").build();
        assert_eq!(reduce("org", "org.removed", None), Ok(Some(vec![expected])));
    }
}
