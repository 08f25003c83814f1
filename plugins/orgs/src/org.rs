//! `orgs_projection`: one row per organization (reference §2.1).

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, UpdateBuilder,
    aggregate_removed, insert, instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "orgs_projection";

/// `org_state`: active.
const STATE_ACTIVE: i64 = 1;

/// `org_state`: inactive.
const STATE_INACTIVE: i64 = 2;

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("org", &["org.added"], added),
        on("org", &["org.changed"], changed),
        on("org", &["org.deactivated"], |event, _| {
            Ok(vec![row(event).set("org_state", STATE_INACTIVE).build()])
        }),
        on("org", &["org.reactivated"], |event, _| {
            Ok(vec![row(event).set("org_state", STATE_ACTIVE).build()])
        }),
        aggregate_removed("org", &["org.removed"], &["id"]),
        on("org", &["org.domain.primary.set"], primary_domain_set),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("org_state", ColumnType::SmallInt)
        .column("sequence", ColumnType::Int)
        .column("name", ColumnType::Text)
        .column_default("primary_domain", ColumnType::Text, "")
        .primary_key(&["instance_id", "id"])
        .index("domain", &["primary_domain"], &[])
        .index("name", &["name"], &[])
}

/// An update of the event's org.
fn row(event: &Event) -> UpdateBuilder {
    update(TABLE).eq("id", &event.aggregate_id)
}

/// `org.added`: an active org.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        insert(TABLE)
            .value("id", &event.aggregate_id)
            .value("resource_owner", &event.owner)
            .value("name", event.payload()?.text_or_empty("name")?)
            .value("org_state", STATE_ACTIVE)
            .build(),
    ])
}

/// `org.changed`: a new name, when it has one.
fn changed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(match event.payload()?.text("name")? {
        Some(name) if !name.is_empty() => vec![row(event).set("name", name).build()],
        _ => Vec::new(),
    })
}

/// `org.domain.primary.set`.
fn primary_domain_set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let domain = event.payload()?.text_or_empty("domain")?;
    Ok(vec![row(event).set("primary_domain", domain).build()])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, insert, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn added_inserts_an_active_org() {
        let e = event("org", "org.added", Some(r#"{"name":"name"}"#));
        let expected = insert(TABLE)
            .value("id", "agg-id")
            .value("resource_owner", "ro-id")
            .value("name", "name")
            .value("org_state", 1)
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn changed_renames() {
        let e = event("org", "org.changed", Some(r#"{"name":"new name"}"#));
        let expected = update(TABLE)
            .eq("id", "agg-id")
            .set("name", "new name")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn changed_with_empty_name_does_nothing() {
        let e = event("org", "org.changed", Some(r#"{"name":""}"#));
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![]))
        );
    }

    #[test]
    fn deactivated_and_reactivated_switch_the_state() {
        for (event_type, state) in [("org.deactivated", 2), ("org.reactivated", 1)] {
            let e = event("org", event_type, None);
            let expected = update(TABLE)
                .eq("id", "agg-id")
                .set("org_state", state)
                .build();
            assert_eq!(
                MODULE.reduce(&e, &Context::new(&NoEvents)),
                Ok(Some(vec![expected]))
            );
        }
    }

    #[test]
    fn primary_domain_set() {
        let e = event(
            "org",
            "org.domain.primary.set",
            Some(r#"{"domain":"domain.new"}"#),
        );
        let expected = update(TABLE)
            .eq("id", "agg-id")
            .set("primary_domain", "domain.new")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
