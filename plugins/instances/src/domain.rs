//! `instance_domains_projection`: the domains of an instance (reference §1.2).

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, delete, insert,
    instance_removed, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "instance_domains_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("instance", &["instance.domain.added"], added),
        on("instance", &["instance.domain.primary.set"], primary_set),
        on("instance", &["instance.domain.removed"], |event, _| {
            let domain = event.payload()?.text_or_empty("domain")?;
            Ok(vec![delete(TABLE).eq("domain", domain).build()])
        }),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("instance_id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("domain", ColumnType::Text)
        .column("is_generated", ColumnType::Boolean)
        .column("is_primary", ColumnType::Boolean)
        .primary_key(&["instance_id", "domain"])
        .index(
            "instance_domain",
            &["domain"],
            &[
                "creation_date",
                "change_date",
                "sequence",
                "is_generated",
                "is_primary",
            ],
        )
}

/// `instance.domain.added`: a domain that is not primary.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        insert(TABLE)
            .value("domain", payload.text_or_empty("domain")?)
            .value(
                "is_generated",
                payload.boolean("generated")?.unwrap_or(false),
            )
            .value("is_primary", false)
            .build(),
    ])
}

/// `instance.domain.primary.set`: the old primary domain is primary no more.
fn primary_set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let domain = event.payload()?.text_or_empty("domain")?;
    Ok(vec![
        update(TABLE)
            .set("is_primary", false)
            .eq("is_primary", true)
            .build(),
        update(TABLE)
            .set("is_primary", true)
            .eq("domain", domain)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, delete, insert, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn added_inserts_a_non_primary_domain() {
        let e = event(
            "instance",
            "instance.domain.added",
            Some(r#"{"domain":"domain.new","generated":true}"#),
        );
        let expected = insert(TABLE)
            .value("domain", "domain.new")
            .value("is_generated", true)
            .value("is_primary", false)
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn primary_set_resets_then_sets() {
        let e = event(
            "instance",
            "instance.domain.primary.set",
            Some(r#"{"domain":"d.new"}"#),
        );
        let expected = vec![
            update(TABLE)
                .set("is_primary", false)
                .eq("is_primary", true)
                .build(),
            update(TABLE)
                .set("is_primary", true)
                .eq("domain", "d.new")
                .build(),
        ];
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(expected))
        );
    }

    #[test]
    fn removed_deletes_the_domain() {
        let e = event(
            "instance",
            "instance.domain.removed",
            Some(r#"{"domain":"domain.new"}"#),
        );
        let expected = delete(TABLE).eq("domain", "domain.new").build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
