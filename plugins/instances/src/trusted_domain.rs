//! `instance_trusted_domains_projection`: the trusted domains of an instance
//! (reference §1.3).

use projection_sdk::{ColumnType, Context, Description, Event, Table, delete, insert};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "instance_trusted_domains_projection";

/// The `instance` events this table reduces.
const EVENTS: &[&str] = &[
    "instance.trusted_domains.added",
    "instance.trusted_domains.removed",
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
        .primary_key(&["instance_id", "domain"])
        .index(
            "instance_trusted_domain",
            &["domain"],
            &["creation_date", "change_date", "sequence"],
        )
}

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description.subscribe("instance", EVENTS)
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let mutation = match event.event_type.as_str() {
        "instance.trusted_domains.added" => {
            let domain = event.payload()?.text_or_empty("domain")?;
            insert(TABLE).value("domain", domain).build()
        }
        "instance.trusted_domains.removed" => {
            let domain = event.payload()?.text_or_empty("domain")?;
            delete(TABLE).eq("domain", domain).build()
        }
        "instance.removed" => delete(TABLE).eq("instance_id", &event.instance_id).build(),
        _ => return Ok(None),
    };
    Ok(Some(vec![mutation]))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, delete, insert};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn added_inserts_the_domain() {
        let e = event(
            "instance",
            "instance.trusted_domains.added",
            Some(r#"{"domain":"domain.new"}"#),
        );
        let expected = insert(TABLE).value("domain", "domain.new").build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn removed_deletes_the_domain() {
        let e = event(
            "instance",
            "instance.trusted_domains.removed",
            Some(r#"{"Domain":"d"}"#),
        );
        let expected = delete(TABLE).eq("domain", "d").build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn instance_removed_deletes_all_rows_of_the_instance() {
        let e = event("instance", "instance.removed", None);
        let expected = delete(TABLE).eq("instance_id", "instance-id").build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
