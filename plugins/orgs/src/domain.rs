//! `org_domains_projection`: the domains of an organization (reference §2.2).
//!
//! Zitadel keys the table by `(org_id, domain, instance_id)`; the canonical
//! schema puts `instance_id` first.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, aggregate_removed,
    delete, insert, instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "org_domains_projection";

/// `validation_type`: unspecified.
const VALIDATION_UNSPECIFIED: i64 = 0;

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("org", &["org.domain.added"], added),
        on(
            "org",
            &["org.domain.verification.added"],
            verification_added,
        ),
        on("org", &["org.domain.verified"], verified),
        on("org", &["org.domain.primary.set"], primary_set),
        on("org", &["org.domain.removed"], removed),
        aggregate_removed("org", &["org.removed"], &["org_id"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
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

/// The payload's `domain`.
fn domain(event: &Event) -> Result<String, ProjectionError> {
    event.payload()?.text_or_empty("domain")
}

/// `org.domain.added`: an unverified, non-primary domain.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        insert(TABLE)
            .value("domain", domain(event)?)
            .value("org_id", &event.aggregate_id)
            .value("is_verified", false)
            .value("is_primary", false)
            .value("validation_type", VALIDATION_UNSPECIFIED)
            .build(),
    ])
}

/// `org.domain.verification.added`: the validation type.
fn verification_added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let validation = payload
        .int("validationType")?
        .unwrap_or(VALIDATION_UNSPECIFIED);
    Ok(vec![
        update(TABLE)
            .set("validation_type", validation)
            .eq("domain", payload.text_or_empty("domain")?)
            .eq("org_id", &event.aggregate_id)
            .build(),
    ])
}

/// `org.domain.verified`.
fn verified(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        update(TABLE)
            .set("is_verified", true)
            .eq("domain", domain(event)?)
            .eq("org_id", &event.aggregate_id)
            .build(),
    ])
}

/// `org.domain.primary.set`: the old primary domain is primary no more.
fn primary_set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let org = &event.aggregate_id;
    let domain = domain(event)?;
    Ok(vec![
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
    ])
}

/// `org.domain.removed`.
fn removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        delete(TABLE)
            .eq("domain", domain(event)?)
            .eq("org_id", &event.aggregate_id)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, insert, update};

    use super::{MODULE, TABLE};
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
            MODULE.reduce(&e, &Context::new(&NoEvents)),
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
            MODULE.reduce(&e, &Context::new(&NoEvents)),
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
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(expected))
        );
    }
}
