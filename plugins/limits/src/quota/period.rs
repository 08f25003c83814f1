//! `quotas_periods_projection`: how much of a quota each period has used
//! (reference §7.2, §9.2).
//!
//! No event writes this table. The rows come from the usage reporting of
//! the system the quotas limit (the reference's runtime counts
//! authenticated requests and action run seconds): per counted amount it
//! inserts the period's row (`instance_id`, `unit`, `start`, `usage`) or, on
//! conflict of that key, adds the amount to `usage` and reads the new
//! total. Events only delete rows, through `quota.removed` and
//! `instance.removed` (handled with the other quota tables in `mod.rs`);
//! a rebuild of the family therefore starts the periods over.
//!
//! The canonical schema adds change_date/sequence to every table; since no
//! event touches a period's row, they are nullable here and stay NULL unless
//! the usage writer sets them.

use projection_sdk::{ColumnType, Table, TableModule};

/// The table name.
pub(crate) const TABLE: &str = "quotas_periods_projection";

/// The table; its rows are deleted by the quota module's handlers only.
pub(crate) const MODULE: TableModule = TableModule::new(TABLE, table, &[]);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("instance_id", ColumnType::Text)
        .column("unit", ColumnType::SmallInt)
        .column("start", ColumnType::Timestamp)
        .column("usage", ColumnType::Int)
        .nullable("change_date", ColumnType::Timestamp)
        .nullable("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "unit", "start"])
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Context, NoEvents};

    use super::MODULE;

    #[test]
    fn no_event_is_reduced_here() {
        for event_type in ["quota.added", "quota.removed", "instance.removed"] {
            let e = event("quota", event_type, Some(r#"{"unit":1}"#));
            assert_eq!(MODULE.reduce(&e, &Context::new(&NoEvents)), Ok(None));
        }
    }

    #[test]
    fn usage_is_kept_with_the_quotas_key() {
        let table = MODULE.table();
        assert_eq!(table.primary_key, ["instance_id", "unit", "start"]);
        // The reference has no foreign key between the quota tables: the
        // quota module deletes the sub-tables' rows itself.
        assert_eq!(table.parent, None);
        assert!(table.find_column("usage").is_some_and(|c| !c.nullable));
    }
}
