//! `login_names_domains_projection`: the verified domains of each org.
//!
//! Unverified domains (`org.domain.added`) never take part in login names,
//! so the table only learns of a domain when it is verified.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, aggregate_removed,
    delete, insert, instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "login_names_domains_projection";

/// The table and what each event does to it. The org is the event's
/// resource owner.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("org", &["org.domain.verified"], |event, _| {
            Ok(vec![
                insert(TABLE)
                    .value("name", domain(event)?)
                    .value("resource_owner", &event.owner)
                    .build(),
            ])
        }),
        on("org", &["org.domain.primary.set"], primary_set),
        on("org", &["org.domain.removed"], |event, _| {
            Ok(vec![
                delete(TABLE)
                    .eq("name", domain(event)?)
                    .eq("resource_owner", &event.owner)
                    .build(),
            ])
        }),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("name", ColumnType::Text)
        .lower_of("name_lower", "name")
        .column_default("is_primary", ColumnType::Boolean, false)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "resource_owner", "name"])
        .index(
            "search",
            &["instance_id", "resource_owner", "name_lower"],
            &[],
        )
        .index(
            "search_result",
            &["instance_id", "resource_owner"],
            &["is_primary"],
        )
}

/// The payload's `domain`.
fn domain(event: &Event) -> Result<String, ProjectionError> {
    event.payload()?.text_or_empty("domain")
}

/// `org.domain.primary.set`: the org's old primary domain is primary no more.
fn primary_set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let org = &event.owner;
    Ok(vec![
        update(TABLE)
            .set("is_primary", false)
            .eq("resource_owner", org)
            .eq("is_primary", true)
            .build(),
        update(TABLE)
            .set("is_primary", true)
            .eq("name", domain(event)?)
            .eq("resource_owner", org)
            .build(),
    ])
}
