//! Helpers for testing families natively.

use crate::Event;

/// The creation time of [`event`]s (2026-01-01T00:00:00Z).
pub const CREATED_AT: i64 = 1_767_225_600_000_000;

/// An event with the conformance cases' defaults: tenant `instance-id`,
/// aggregate `agg-id`, sequence 15, owner `ro-id`, creator `editor-user`.
pub fn event(aggregate_type: &str, event_type: &str, payload: Option<&str>) -> Event {
    Event {
        position: "1".to_owned(),
        in_tx_order: 0,
        instance_id: "instance-id".to_owned(),
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: "agg-id".to_owned(),
        event_type: event_type.to_owned(),
        sequence: 15,
        revision: 1,
        created_at: CREATED_AT,
        payload: payload.map(str::to_owned),
        creator: "editor-user".to_owned(),
        owner: "ro-id".to_owned(),
    }
}

/// Assert what the host requires of every table: `instance_id` (text) first
/// in the primary key, `change_date` and `sequence` stamps, and a primary key
/// made of declared columns.
pub fn assert_tenant_scoped(description: &crate::Description) {
    use crate::ColumnType;
    for table in &description.tables {
        assert_eq!(
            table.primary_key.first().map(String::as_str),
            Some("instance_id"),
            "{} must lead its primary key with instance_id",
            table.name
        );
        for (column, kind) in [
            ("instance_id", ColumnType::Text),
            ("change_date", ColumnType::Timestamp),
            ("sequence", ColumnType::Int),
        ] {
            let found = table.find_column(column);
            assert_eq!(found.map(|c| c.kind), Some(kind), "{}.{column}", table.name);
        }
        for key in &table.primary_key {
            assert!(table.find_column(key).is_some(), "{}.{key}", table.name);
        }
    }
}
