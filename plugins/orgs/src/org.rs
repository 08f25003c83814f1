//! `orgs_projection`: one row per organization (reference §2.1).

use projection_sdk::{ColumnType, Context, Description, Event, Table, delete, insert, update};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "orgs_projection";

/// `org_state`: active.
const STATE_ACTIVE: i64 = 1;

/// `org_state`: inactive.
const STATE_INACTIVE: i64 = 2;

/// The `org` events this table reduces.
const EVENTS: &[&str] = &[
    "org.added",
    "org.changed",
    "org.deactivated",
    "org.reactivated",
    "org.removed",
    "org.domain.primary.set",
];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("org", EVENTS)
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let row = || update(TABLE).eq("id", &event.aggregate_id);
    let mutation = match event.event_type.as_str() {
        "org.added" => insert(TABLE)
            .value("id", &event.aggregate_id)
            .value("resource_owner", &event.owner)
            .value("name", event.payload()?.text_or_empty("name")?)
            .value("org_state", STATE_ACTIVE)
            .build(),
        "org.changed" => match event.payload()?.text("name")? {
            Some(name) if !name.is_empty() => row().set("name", name).build(),
            _ => return Ok(Some(Vec::new())),
        },
        "org.deactivated" => row().set("org_state", STATE_INACTIVE).build(),
        "org.reactivated" => row().set("org_state", STATE_ACTIVE).build(),
        "org.removed" => delete(TABLE).eq("id", &event.aggregate_id).build(),
        "org.domain.primary.set" => {
            let domain = event.payload()?.text_or_empty("domain")?;
            row().set("primary_domain", domain).build()
        }
        "instance.removed" => delete(TABLE).eq("instance_id", &event.instance_id).build(),
        _ => return Ok(None),
    };
    Ok(Some(vec![mutation]))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, insert, update};

    use super::{TABLE, reduce};
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
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn changed_with_empty_name_does_nothing() {
        let e = event("org", "org.changed", Some(r#"{"name":""}"#));
        assert_eq!(reduce(&e, &Context::new(&NoEvents)), Ok(Some(vec![])));
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
                reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
