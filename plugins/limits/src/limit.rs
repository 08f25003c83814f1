//! `limits_projection`: the limits set for a resource owner (reference
//! §7.3): how long the audit log is kept and whether access is blocked.
//!
//! One row per resource owner (the `limits` aggregate's owner, the
//! instance); the row keeps the limits aggregate's id and its creation date
//! across later sets.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, Value, delete,
    instance_removed, on, upsert,
};

/// The table name.
pub(crate) const TABLE: &str = "limits_projection";

/// Limits set: only the changed fields present.
pub(crate) const SET: &str = "limits.set";

/// Limits back to the defaults.
pub(crate) const RESET: &str = "limits.reset";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("limits", &[SET], set),
        on("limits", &[RESET], |event, _| {
            Ok(vec![
                delete(TABLE).eq("resource_owner", &event.owner).build(),
            ])
        }),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("aggregate_id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("sequence", ColumnType::Int)
        .nullable("audit_log_retention", ColumnType::Interval)
        .nullable("block", ColumnType::Boolean)
        .primary_key(&["instance_id", "resource_owner"])
}

/// `limits.set`: upsert the owner's row with the aggregate id and the
/// fields present (`auditLogRetention` in nanoseconds, `block`), keeping
/// the creation date of an existing row.
fn set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let mut row = upsert(TABLE, &["instance_id", "resource_owner"])
        .value("resource_owner", &event.owner)
        .value("aggregate_id", &event.aggregate_id);
    if let Some(retention) = payload.int("auditLogRetention")? {
        row = row.value("audit_log_retention", Value::Interval(retention));
    }
    if let Some(block) = payload.boolean("block")? {
        row = row.value("block", block);
    }
    Ok(vec![row.keep_on_conflict(&["creation_date"]).build()])
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Context, NoEvents, ProjectionError, Reduced, Value, delete, upsert};

    use super::{MODULE, RESET, SET, TABLE};

    fn reduce(event_type: &str, payload: &str) -> Reduced {
        let e = event("limits", event_type, Some(payload));
        MODULE.reduce(&e, &Context::new(&NoEvents))
    }

    #[test]
    fn set_upserts_the_present_fields() {
        let expected = upsert(TABLE, &["instance_id", "resource_owner"])
            .value("resource_owner", "ro-id")
            .value("aggregate_id", "agg-id")
            .value("audit_log_retention", Value::Interval(1_000))
            .value("block", true)
            .keep_on_conflict(&["creation_date"])
            .build();
        assert_eq!(
            reduce(SET, r#"{"auditLogRetention":1000,"block":true}"#),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn set_without_fields_only_touches_the_row() {
        let expected = upsert(TABLE, &["instance_id", "resource_owner"])
            .value("resource_owner", "ro-id")
            .value("aggregate_id", "agg-id")
            .keep_on_conflict(&["creation_date"])
            .build();
        assert_eq!(reduce(SET, "{}"), Ok(Some(vec![expected])));
    }

    #[test]
    fn set_refuses_a_retention_that_is_not_nanoseconds() {
        assert!(matches!(
            reduce(SET, r#"{"auditLogRetention":"5m"}"#),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }

    #[test]
    fn reset_deletes_the_owners_row() {
        let expected = delete(TABLE).eq("resource_owner", "ro-id").build();
        assert_eq!(reduce(RESET, "{}"), Ok(Some(vec![expected])));
    }
}
