//! `org_domains_projection`: the domains of an organization (reference §2.2).
//!
//! Zitadel keys the table by `(org_id, domain, instance_id)`; the canonical
//! schema puts `instance_id` first.

use projection_sdk::{ColumnType, Context, Description, Event, Table, delete, insert, update};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "org_domains_projection";

/// `validation_type`: unspecified.
const VALIDATION_UNSPECIFIED: i64 = 0;

/// The `org` events this table reduces.
const EVENTS: &[&str] = &[
    "org.domain.added",
    "org.domain.verification.added",
    "org.domain.verified",
    "org.domain.primary.set",
    "org.domain.removed",
    "org.removed",
];

/// The table declaration.
pub(crate) fn table() -> Table {
    Table::new(TABLE)
        .column("org_id", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("domain", ColumnType::Text)
        .column("is_verified", ColumnType::Boolean)
        .column("is_primary", ColumnType::Boolean)
        .column("validation_type", ColumnType::SmallInt)
        .column_default("owner_removed", ColumnType::Boolean, false)
        .primary_key(&["instance_id", "org_id", "domain"])
        .index("owner_removed", &["owner_removed"], &[])
}

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description
        .subscribe("org", EVENTS)
        .subscribe("instance", &["instance.removed"])
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let org = &event.aggregate_id;
    let domain = || event.payload()?.text_or_empty("domain");
    let mutations = match event.event_type.as_str() {
        "org.domain.added" => vec![
            insert(TABLE)
                .value("domain", domain()?)
                .value("org_id", org)
                .value("is_verified", false)
                .value("is_primary", false)
                .value("validation_type", VALIDATION_UNSPECIFIED)
                .build(),
        ],
        "org.domain.verification.added" => {
            let payload = event.payload()?;
            let validation = payload
                .int("validationType")?
                .unwrap_or(VALIDATION_UNSPECIFIED);
            vec![
                update(TABLE)
                    .set("validation_type", validation)
                    .eq("domain", payload.text_or_empty("domain")?)
                    .eq("org_id", org)
                    .build(),
            ]
        }
        "org.domain.verified" => vec![
            update(TABLE)
                .set("is_verified", true)
                .eq("domain", domain()?)
                .eq("org_id", org)
                .build(),
        ],
        "org.domain.primary.set" => {
            let domain = domain()?;
            vec![
                update(TABLE)
                    .set("is_primary", false)
                    .eq("org_id", org)
                    .eq("is_primary", true)
                    .build(),
                update(TABLE)
                    .set("is_primary", true)
                    .eq("domain", domain)
                    .eq("org_id", org)
                    .build(),
            ]
        }
        "org.domain.removed" => vec![
            delete(TABLE)
                .eq("domain", domain()?)
                .eq("org_id", org)
                .build(),
        ],
        "org.removed" => vec![delete(TABLE).eq("org_id", org).build()],
        "instance.removed" => vec![delete(TABLE).eq("instance_id", &event.instance_id).build()],
        _ => return Ok(None),
    };
    Ok(Some(mutations))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, insert, update};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn added_inserts_an_unverified_domain() {
        let e = event(
            "org",
            "org.domain.added",
            Some(r#"{"domain":"domain.new"}"#),
        );
        let expected = insert(TABLE)
            .value("domain", "domain.new")
            .value("org_id", "agg-id")
            .value("is_verified", false)
            .value("is_primary", false)
            .value("validation_type", 0)
            .build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn verification_added_sets_the_validation_type() {
        let e = event(
            "org",
            "org.domain.verification.added",
            Some(r#"{"domain":"domain.new","validationType":2}"#),
        );
        let expected = update(TABLE)
            .set("validation_type", 2)
            .eq("domain", "domain.new")
            .eq("org_id", "agg-id")
            .build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn primary_set_resets_then_sets() {
        let e = event(
            "org",
            "org.domain.primary.set",
            Some(r#"{"domain":"domain.new"}"#),
        );
        let expected = vec![
            update(TABLE)
                .set("is_primary", false)
                .eq("org_id", "agg-id")
                .eq("is_primary", true)
                .build(),
            update(TABLE)
                .set("is_primary", true)
                .eq("domain", "domain.new")
                .eq("org_id", "agg-id")
                .build(),
        ];
        assert_eq!(reduce(&e, &Context::new(&NoEvents)), Ok(Some(expected)));
    }
}
