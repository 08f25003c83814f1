//! `project_roles_projection`: the roles a project defines (reference §3.2).

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, Value,
    aggregate_removed, delete, insert, instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "project_roles_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("project", &["project.role.added"], added),
        on("project", &["project.role.changed"], changed),
        on("project", &["project.role.removed"], removed),
        aggregate_removed("project", &["project.removed"], &["project_id"]),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("project_id", ColumnType::Text)
        .column("role_key", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("display_name", ColumnType::Text)
        .column("group_name", ColumnType::Text)
        .primary_key(&["instance_id", "project_id", "role_key"])
}

/// `project.role.added`: the role with its display name and group.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        insert(TABLE)
            .value("role_key", payload.text_or_empty("key")?)
            .value("project_id", &event.aggregate_id)
            .value("display_name", payload.text_or_empty("displayName")?)
            .value("group_name", payload.text_or_empty("group")?)
            .value("resource_owner", &event.owner)
            .build(),
    ])
}

/// `project.role.changed`: the display name and group present; neither is
/// a no-op.
fn changed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let mut changes: Vec<(&str, Value)> = Vec::new();
    if let Some(display_name) = payload.text("displayName")? {
        changes.push(("display_name", display_name.into()));
    }
    if let Some(group) = payload.text("group")? {
        changes.push(("group_name", group.into()));
    }
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let role = update(TABLE)
        .eq("role_key", payload.text_or_empty("key")?)
        .eq("project_id", &event.aggregate_id);
    let set = changes
        .into_iter()
        .fold(role, |u, (column, value)| u.set(column, value));
    Ok(vec![set.build()])
}

/// `project.role.removed`.
fn removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        delete(TABLE)
            .eq("role_key", event.payload()?.text_or_empty("key")?)
            .eq("project_id", &event.aggregate_id)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, Reduced, delete, insert, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    fn reduce(event_type: &str, payload: Option<&str>) -> Reduced {
        let e = event("project", event_type, payload);
        MODULE.reduce(&e, &Context::new(&NoEvents))
    }

    #[test]
    fn added_inserts_the_role() {
        let payload = r#"{"key":"key","displayName":"Key","group":"Group"}"#;
        let expected = insert(TABLE)
            .value("role_key", "key")
            .value("project_id", "agg-id")
            .value("display_name", "Key")
            .value("group_name", "Group")
            .value("resource_owner", "ro-id")
            .build();
        assert_eq!(
            reduce("project.role.added", Some(payload)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn changed_sets_the_fields_present() {
        let payload = r#"{"key":"key","group":"Other"}"#;
        let expected = update(TABLE)
            .eq("role_key", "key")
            .eq("project_id", "agg-id")
            .set("group_name", "Other")
            .build();
        assert_eq!(
            reduce("project.role.changed", Some(payload)),
            Ok(Some(vec![expected]))
        );
        assert_eq!(
            reduce("project.role.changed", Some(r#"{"key":"key"}"#)),
            Ok(Some(vec![]))
        );
    }

    #[test]
    fn removed_deletes_the_role_of_the_project() {
        let expected = delete(TABLE)
            .eq("role_key", "key")
            .eq("project_id", "agg-id")
            .build();
        assert_eq!(
            reduce("project.role.removed", Some(r#"{"key":"key"}"#)),
            Ok(Some(vec![expected]))
        );
    }
}
