//! `instance_trusted_domains_projection`: the trusted domains of an instance
//! (reference §1.3).

use projection_sdk::{ColumnType, Table, TableModule, delete, insert, instance_removed, on};

/// The table name.
pub(crate) const TABLE: &str = "instance_trusted_domains_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on(
            "instance",
            &["instance.trusted_domains.added"],
            |event, _| {
                let domain = event.payload()?.text_or_empty("domain")?;
                Ok(vec![insert(TABLE).value("domain", domain).build()])
            },
        ),
        on(
            "instance",
            &["instance.trusted_domains.removed"],
            |event, _| {
                let domain = event.payload()?.text_or_empty("domain")?;
                Ok(vec![delete(TABLE).eq("domain", domain).build()])
            },
        ),
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
        .primary_key(&["instance_id", "domain"])
        .index(
            "instance_trusted_domain",
            &["domain"],
            &["creation_date", "change_date", "sequence"],
        )
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, delete, insert};

    use super::{MODULE, TABLE};
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
            MODULE.reduce(&e, &Context::new(&NoEvents)),
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
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn instance_removed_deletes_all_rows_of_the_instance() {
        let e = event("instance", "instance.removed", None);
        let expected = delete(TABLE).eq("instance_id", "instance-id").build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
