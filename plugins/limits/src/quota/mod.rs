//! Quotas (reference §7.2): `quotas_projection`, one row per quota unit of
//! an instance, and its two sub-tables.
//!
//! | table | module |
//! |---|---|
//! | `quotas_projection` | `mod.rs` |
//! | `quotas_periods_projection` (sub-table) | `period.rs` |
//! | `quotas_notifications_projection` (sub-table) | `notification.rs` |
//!
//! The sub-tables are keyed by the quota's key (`instance_id`, `unit`) plus
//! their own column and declared as children of `quotas_projection`, so a
//! quota's periods and notifications go with its row.
//!
//! `quota.added` and `quota.set` write the quota's row here, then replace
//! its notifications (`notification.rs`), the reference's order: the family
//! runs this module's handlers before the notification module's.
//! `quota.removed` and `instance.removed` delete from all three tables in
//! the reference's order (periods, notifications, quotas), the opposite of
//! that module order, so both are handled here, whole.
//!
//! None of the reference's three tables has change_date/sequence; the
//! canonical schema adds them and the host stamps them from the event that
//! last touched the row.

pub(crate) mod notification;
pub(crate) mod period;

use projection_sdk::{
    ColumnType, Context, Event, Mutation, Payload, ProjectionError, Table, TableModule, Value,
    delete, on, upsert,
};

use crate::field::{BIGINT_MAX, SMALLINT_MAX, timestamp, unsigned};

/// The table name.
pub(crate) const TABLE: &str = "quotas_projection";

/// A new quota: every field present.
pub(crate) const ADDED: &str = "quota.added";

/// A changed quota: only the changed fields present.
pub(crate) const SET: &str = "quota.set";

/// A removed quota.
pub(crate) const REMOVED: &str = "quota.removed";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("quota", &[ADDED, SET], set),
        on("quota", &[REMOVED], removed),
        on("instance", &["instance.removed"], |event, _| {
            Ok(delete_everywhere(|table| {
                delete(table).eq("instance_id", &event.instance_id).build()
            }))
        }),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("id", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("unit", ColumnType::SmallInt)
        .nullable("amount", ColumnType::Int)
        .nullable("from_anchor", ColumnType::Timestamp)
        .nullable("interval", ColumnType::Interval)
        .nullable("limit_usage", ColumnType::Boolean)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "unit"])
}

/// The payload's quota `unit` (Go's unsigned `Unit`); absent reads as 0,
/// Go's zero value.
pub(crate) fn unit(payload: &Payload) -> Result<i64, ProjectionError> {
    Ok(unsigned(payload, "unit", SMALLINT_MAX)?.unwrap_or_default())
}

/// The quota columns a set event changes, in the reference's order: the
/// present ones of `limit`, `amount`, `from` and `interval`.
fn changes(payload: &Payload) -> Result<Vec<(&'static str, Value)>, ProjectionError> {
    let present = [
        ("limit_usage", payload.boolean("limit")?.map(Value::Boolean)),
        (
            "amount",
            unsigned(payload, "amount", BIGINT_MAX)?.map(Value::Int),
        ),
        (
            "from_anchor",
            timestamp(payload, "from")?.map(Value::Timestamp),
        ),
        ("interval", payload.int("interval")?.map(Value::Interval)),
    ];
    Ok(present
        .into_iter()
        .filter_map(|(column, value)| value.map(|v| (column, v)))
        .collect())
}

/// `quota.added`, `quota.set`: upsert the quota with the fields present and
/// the quota's id; nothing when only notifications change.
fn set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let changes = changes(&payload)?;
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let row = changes
        .into_iter()
        .fold(
            upsert(TABLE, &["instance_id", "unit"]),
            |row, (column, value)| row.value(column, value),
        )
        .value("id", &event.aggregate_id)
        .value("unit", unit(&payload)?);
    Ok(vec![row.build()])
}

/// `quota.removed`: the unit's periods, notifications and quota.
fn removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let unit = unit(&event.payload()?)?;
    Ok(delete_everywhere(|table| {
        delete(table).eq("unit", unit).build()
    }))
}

/// One delete per quota table, in the reference's order: periods,
/// notifications, quotas.
fn delete_everywhere(delete: impl Fn(&str) -> Mutation) -> Vec<Mutation> {
    [period::TABLE, notification::TABLE, TABLE]
        .into_iter()
        .map(delete)
        .collect()
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Context, Mutation, NoEvents, ProjectionError, Reduced, Value};
    use projection_sdk::{delete, upsert};

    use super::{ADDED, MODULE, REMOVED, SET, TABLE};

    fn reduce(event_type: &str, payload: &str) -> Reduced {
        let e = event("quota", event_type, Some(payload));
        MODULE.reduce(&e, &Context::new(&NoEvents))
    }

    #[test]
    fn added_upserts_every_field_in_the_references_order() {
        let expected = upsert(TABLE, &["instance_id", "unit"])
            .value("limit_usage", false)
            .value("amount", 7)
            .value("from_anchor", Value::Timestamp(0))
            .value("interval", Value::Interval(60_000_000_000))
            .value("id", "agg-id")
            .value("unit", 2)
            .build();
        let payload = r#"{"unit":2,"limit":false,"amount":7,
            "from":"1970-01-01T00:00:00Z","interval":60000000000}"#;
        assert_eq!(reduce(ADDED, payload), Ok(Some(vec![expected])));
    }

    #[test]
    fn set_upserts_only_the_present_fields() {
        let expected = upsert(TABLE, &["instance_id", "unit"])
            .value("amount", 20)
            .value("id", "agg-id")
            .value("unit", 1)
            .build();
        assert_eq!(
            reduce(SET, r#"{"unit":1,"amount":20}"#),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn set_with_notifications_only_leaves_the_quota_alone() {
        assert_eq!(
            reduce(SET, r#"{"unit":1,"notifications":[]}"#),
            Ok(Some(vec![]))
        );
        assert_eq!(reduce(SET, "{}"), Ok(Some(vec![])));
    }

    #[test]
    fn a_negative_amount_or_unit_is_refused() {
        for payload in [r#"{"unit":1,"amount":-1}"#, r#"{"unit":-1,"amount":1}"#] {
            assert!(
                matches!(
                    reduce(SET, payload),
                    Err(ProjectionError::InvalidPayload(_))
                ),
                "{payload}"
            );
        }
    }

    fn deletes(column: &str, value: Value) -> Vec<Mutation> {
        [
            "quotas_periods_projection",
            "quotas_notifications_projection",
            TABLE,
        ]
        .map(|table| delete(table).eq(column, value.clone()).build())
        .to_vec()
    }

    #[test]
    fn removed_deletes_the_units_periods_notifications_and_quota() {
        assert_eq!(
            reduce(REMOVED, r#"{"unit":1}"#),
            Ok(Some(deletes("unit", Value::Int(1))))
        );
    }

    #[test]
    fn instance_removed_deletes_the_tenants_rows_of_all_three_tables() {
        let e = event("instance", "instance.removed", None);
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(deletes(
                "instance_id",
                Value::Text("instance-id".to_owned())
            )))
        );
    }
}
