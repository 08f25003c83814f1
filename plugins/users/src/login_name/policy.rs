//! `login_names_policies_projection`: whether login names must carry a
//! domain, per org (overrides) and per instance (the default).
//!
//! Rows are keyed by the event's resource owner: the org for org policies,
//! the instance for the default policy.

use projection_sdk::{ColumnType, Context, Description, Event, Table, delete, insert, update};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "login_names_policies_projection";

/// The `org` events this table reduces.
const ORG_EVENTS: &[&str] = &[
    "org.policy.domain.added",
    "org.policy.domain.changed",
    "org.policy.domain.removed",
    "org.removed",
];

/// The `instance` events this table reduces.
const INSTANCE_EVENTS: &[&str] = &[
    "instance.policy.domain.added",
    "instance.policy.domain.changed",
    "instance.removed",
];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("org", ORG_EVENTS)
        .subscribe("instance", INSTANCE_EVENTS)
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let owner = &event.owner;
    let must_be_domain = || event.payload()?.boolean("userLoginMustBeDomain");
    let added = |is_default: bool| -> Reduced {
        let mutation = insert(TABLE)
            .value("must_be_domain", must_be_domain()?.unwrap_or_default())
            .value("is_default", is_default)
            .value("resource_owner", owner)
            .build();
        Ok(Some(vec![mutation]))
    };
    let mutation = match event.event_type.as_str() {
        "org.policy.domain.added" => return added(false),
        "instance.policy.domain.added" => return added(true),
        "org.policy.domain.changed" | "instance.policy.domain.changed" => {
            let Some(must) = must_be_domain()? else {
                return Ok(Some(Vec::new()));
            };
            update(TABLE)
                .set("must_be_domain", must)
                .eq("resource_owner", owner)
                .build()
        }
        "org.policy.domain.removed" => delete(TABLE).eq("resource_owner", owner).build(),
        "org.removed" => delete(TABLE)
            .eq("resource_owner", &event.aggregate_id)
            .build(),
        "instance.removed" => delete(TABLE).eq("instance_id", &event.instance_id).build(),
        _ => return Ok(None),
    };
    Ok(Some(vec![mutation]))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, delete};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn removed_org_policy_falls_back_to_the_default() {
        let e = event("org", "org.policy.domain.removed", None);
        let expected = delete(TABLE).eq("resource_owner", "ro-id").build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
