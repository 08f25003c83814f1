//! `login_names_policies_projection`: whether login names must carry a
//! domain, per org (overrides) and per instance (the default).
//!
//! Rows are keyed by the event's resource owner: the org for org policies,
//! the instance for the default policy.

use projection_sdk::{
    ColumnType, Event, Mutation, ProjectionError, Table, TableModule, aggregate_removed, delete,
    insert, instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "login_names_policies_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("org", &["org.policy.domain.added"], |event, _| {
            added(event, false)
        }),
        on("org", &["org.policy.domain.changed"], |event, _| {
            changed(event)
        }),
        on("org", &["org.policy.domain.removed"], |event, _| {
            Ok(vec![
                delete(TABLE).eq("resource_owner", &event.owner).build(),
            ])
        }),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        on("instance", &["instance.policy.domain.added"], |event, _| {
            added(event, true)
        }),
        on(
            "instance",
            &["instance.policy.domain.changed"],
            |event, _| changed(event),
        ),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("must_be_domain", ColumnType::Boolean)
        .column("is_default", ColumnType::Boolean)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "resource_owner"])
        .index(
            "is_default_owner",
            &["instance_id", "is_default", "resource_owner"],
            &["must_be_domain"],
        )
}

/// The payload's `userLoginMustBeDomain`, if present.
fn must_be_domain(event: &Event) -> Result<Option<bool>, ProjectionError> {
    event.payload()?.boolean("userLoginMustBeDomain")
}

/// A policy added: the org's own, or the instance default.
fn added(event: &Event, is_default: bool) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        insert(TABLE)
            .value("must_be_domain", must_be_domain(event)?.unwrap_or_default())
            .value("is_default", is_default)
            .value("resource_owner", &event.owner)
            .build(),
    ])
}

/// A policy changed: `must_be_domain` when the event sets it.
fn changed(event: &Event) -> Result<Vec<Mutation>, ProjectionError> {
    let Some(must) = must_be_domain(event)? else {
        return Ok(Vec::new());
    };
    Ok(vec![
        update(TABLE)
            .set("must_be_domain", must)
            .eq("resource_owner", &event.owner)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, delete};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn removed_org_policy_falls_back_to_the_default() {
        let e = event("org", "org.policy.domain.removed", None);
        let expected = delete(TABLE).eq("resource_owner", "ro-id").build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
