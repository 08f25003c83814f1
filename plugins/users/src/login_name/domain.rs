//! `login_names_domains_projection`: the verified domains of each org.
//!
//! Unverified domains (`org.domain.added`) never take part in login names,
//! so the table only learns of a domain when it is verified.

use projection_sdk::{ColumnType, Context, Description, Event, Table, delete, insert, update};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "login_names_domains_projection";

/// The `org` events this table reduces.
const EVENTS: &[&str] = &[
    "org.domain.verified",
    "org.domain.primary.set",
    "org.domain.removed",
    "org.removed",
];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("org", EVENTS)
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let org = &event.owner;
    let domain = || event.payload()?.text_or_empty("domain");
    let mutations = match event.event_type.as_str() {
        "org.domain.verified" => vec![
            insert(TABLE)
                .value("name", domain()?)
                .value("resource_owner", org)
                .build(),
        ],
        "org.domain.primary.set" => vec![
            update(TABLE)
                .set("is_primary", false)
                .eq("resource_owner", org)
                .eq("is_primary", true)
                .build(),
            update(TABLE)
                .set("is_primary", true)
                .eq("name", domain()?)
                .eq("resource_owner", org)
                .build(),
        ],
        "org.domain.removed" => vec![
            delete(TABLE)
                .eq("name", domain()?)
                .eq("resource_owner", org)
                .build(),
        ],
        "org.removed" => vec![
            delete(TABLE)
                .eq("resource_owner", &event.aggregate_id)
                .build(),
        ],
        "instance.removed" => vec![delete(TABLE).eq("instance_id", &event.instance_id).build()],
        _ => return Ok(None),
    };
    Ok(Some(mutations))
}
