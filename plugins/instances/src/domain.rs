//! `instance_domains_projection`: the domains of an instance (reference §1.2).

use projection_sdk::{ColumnType, Context, Description, Event, Table, delete, insert, update};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "instance_domains_projection";

/// The `instance` events this table reduces.
const EVENTS: &[&str] = &[
    "instance.domain.added",
    "instance.domain.primary.set",
    "instance.domain.removed",
    "instance.removed",
];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description.subscribe("instance", EVENTS)
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let mutations = match event.event_type.as_str() {
        "instance.domain.added" => {
            let payload = event.payload()?;
            vec![
                insert(TABLE)
                    .value("domain", payload.text_or_empty("domain")?)
                    .value(
                        "is_generated",
                        payload.boolean("generated")?.unwrap_or(false),
                    )
                    .value("is_primary", false)
                    .build(),
            ]
        }
        "instance.domain.primary.set" => {
            let domain = event.payload()?.text_or_empty("domain")?;
            vec![
                update(TABLE)
                    .set("is_primary", false)
                    .eq("is_primary", true)
                    .build(),
                update(TABLE)
                    .set("is_primary", true)
                    .eq("domain", domain)
                    .build(),
            ]
        }
        "instance.domain.removed" => {
            let domain = event.payload()?.text_or_empty("domain")?;
            vec![delete(TABLE).eq("domain", domain).build()]
        }
        "instance.removed" => vec![delete(TABLE).eq("instance_id", &event.instance_id).build()],
        _ => return Ok(None),
    };
    Ok(Some(mutations))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, delete, insert, update};

    use super::{TABLE, reduce};
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
            reduce(&e, &Context::new(&NoEvents)),
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
        assert_eq!(reduce(&e, &Context::new(&NoEvents)), Ok(Some(expected)));
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
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
