//! `quotas_notifications_projection`: who to call when a quota's usage
//! reaches a percentage, and the next threshold due (reference §7.2).
//!
//! `quota.added` and `quota.set` carrying `notifications` replace the
//! unit's notifications (after the quota module upserted the quota);
//! without that key they leave them alone. `quota.notificationdue` records
//! the period and the next threshold; `quota.notified` changes nothing.
//! Removals are handled with the other quota tables in `mod.rs`.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, Value, delete,
    insert, on, update,
};
use serde_json::{Map, Value as Json};

use super::{ADDED, SET, unit};
use crate::field::{GO_ZERO_TIME, UINT16_MAX, invalid, nested, timestamp, unsigned, unsigned_json};

/// The table name.
pub(crate) const TABLE: &str = "quotas_notifications_projection";

/// A notification's threshold was reached.
pub(crate) const DUE: &str = "quota.notificationdue";

/// A due notification was sent.
pub(crate) const NOTIFIED: &str = "quota.notified";

/// What the next threshold adds to the one reached: the same percentage in
/// the next hundred.
const NEXT_THRESHOLD_STEP: i64 = 100;

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("quota", &[ADDED, SET], replaced),
        on("quota", &[DUE], due),
        on("quota", &[NOTIFIED], |_, _| Ok(Vec::new())),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("instance_id", ColumnType::Text)
        .column("unit", ColumnType::SmallInt)
        .column("id", ColumnType::Text)
        .column("call_url", ColumnType::Text)
        .column("percent", ColumnType::Int)
        .column("repeat", ColumnType::Boolean)
        .nullable("latest_due_period_start", ColumnType::Timestamp)
        .nullable("next_due_threshold", ColumnType::Int)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "unit", "id"])
}

/// `quota.added`, `quota.set` with `notifications`: delete the unit's
/// notifications, then insert each listed one (an empty list leaves none).
fn replaced(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let Some(listed) = payload.get("notifications") else {
        return Ok(Vec::new());
    };
    let Json::Array(listed) = listed else {
        return Err(invalid("notifications", "an array"));
    };
    let unit = unit(&payload)?;
    let mut mutations = vec![delete(TABLE).eq("unit", unit).build()];
    for notification in listed {
        let Json::Object(fields) = notification else {
            return Err(invalid("notifications", "an array of objects"));
        };
        mutations.push(inserted(unit, fields)?);
    }
    Ok(mutations)
}

/// One listed notification's row; a field left out reads as Go's zero
/// value.
fn inserted(unit: i64, fields: &Map<String, Json>) -> Result<Mutation, ProjectionError> {
    let text = |key: &str| match nested(fields, key) {
        None => Ok(String::new()),
        Some(Json::String(s)) => Ok(s.clone()),
        Some(_) => Err(invalid(key, "a string")),
    };
    let percent = nested(fields, "percent")
        .map(|json| unsigned_json(json, "percent", UINT16_MAX))
        .transpose()?
        .unwrap_or_default();
    let repeat = match nested(fields, "repeat") {
        None => false,
        Some(Json::Bool(b)) => *b,
        Some(_) => return Err(invalid("repeat", "a boolean")),
    };
    Ok(insert(TABLE)
        .value("unit", unit)
        .value("id", text("id")?)
        .value("call_url", text("callUrl")?)
        .value("percent", percent)
        .value("repeat", repeat)
        .build())
}

/// `quota.notificationdue`: the period it fell due in and the next
/// threshold.
fn due(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let period_start = timestamp(&payload, "periodStart")?.unwrap_or(GO_ZERO_TIME);
    let threshold = unsigned(&payload, "threshold", UINT16_MAX)?.unwrap_or_default();
    Ok(vec![
        update(TABLE)
            .set("latest_due_period_start", Value::Timestamp(period_start))
            .set("next_due_threshold", next_threshold(threshold))
            .eq("unit", unit(&payload)?)
            .eq("id", payload.text_or_empty("id")?)
            .build(),
    ])
}

/// The threshold after `reached`: 100 more, added as the reference adds it,
/// in a `uint16`, so a sum beyond 65535 wraps around.
fn next_threshold(reached: i64) -> i64 {
    let modulus = i64::from(u16::MAX) + 1;
    (reached + NEXT_THRESHOLD_STEP).rem_euclid(modulus)
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Context, NoEvents, ProjectionError, Reduced, Value};
    use projection_sdk::{delete, insert, update};

    use super::{DUE, MODULE, NOTIFIED, TABLE, next_threshold};

    fn reduce(event_type: &str, payload: &str) -> Reduced {
        let e = event("quota", event_type, Some(payload));
        MODULE.reduce(&e, &Context::new(&NoEvents))
    }

    #[test]
    fn listed_notifications_replace_the_units() {
        let payload = r#"{"unit":2,"notifications":[
            {"id":"a","percent":50,"repeat":false,"callUrl":"https://a"},
            {"ID":"b","Percent":100,"Repeat":true,"callURL":"https://b"}]}"#;
        let expected = vec![
            delete(TABLE).eq("unit", 2).build(),
            insert(TABLE)
                .value("unit", 2)
                .value("id", "a")
                .value("call_url", "https://a")
                .value("percent", 50)
                .value("repeat", false)
                .build(),
            insert(TABLE)
                .value("unit", 2)
                .value("id", "b")
                .value("call_url", "https://b")
                .value("percent", 100)
                .value("repeat", true)
                .build(),
        ];
        assert_eq!(reduce("quota.set", payload), Ok(Some(expected)));
    }

    #[test]
    fn an_empty_list_deletes_and_an_absent_one_keeps() {
        assert_eq!(
            reduce("quota.set", r#"{"unit":1,"notifications":[]}"#),
            Ok(Some(vec![delete(TABLE).eq("unit", 1).build()]))
        );
        assert_eq!(
            reduce("quota.set", r#"{"unit":1,"amount":3}"#),
            Ok(Some(vec![]))
        );
        assert_eq!(
            reduce("quota.set", r#"{"unit":1,"notifications":null}"#),
            Ok(Some(vec![]))
        );
    }

    #[test]
    fn a_notifications_missing_fields_read_as_zero_values() {
        let expected = vec![
            delete(TABLE).eq("unit", 0).build(),
            insert(TABLE)
                .value("unit", 0)
                .value("id", "")
                .value("call_url", "")
                .value("percent", 0)
                .value("repeat", false)
                .build(),
        ];
        assert_eq!(
            reduce("quota.added", r#"{"notifications":[{}]}"#),
            Ok(Some(expected))
        );
    }

    #[test]
    fn malformed_notifications_are_refused() {
        for payload in [
            r#"{"notifications":{}}"#,
            r#"{"notifications":[null]}"#,
            r#"{"notifications":[{"percent":70000}]}"#,
            r#"{"notifications":[{"repeat":"yes"}]}"#,
            r#"{"notifications":[{"id":1}]}"#,
        ] {
            assert!(
                matches!(
                    reduce("quota.set", payload),
                    Err(ProjectionError::InvalidPayload(_))
                ),
                "{payload}"
            );
        }
    }

    #[test]
    fn due_records_the_period_and_the_next_threshold() {
        let expected = update(TABLE)
            .set("latest_due_period_start", Value::Timestamp(0))
            .set("next_due_threshold", 190)
            .eq("unit", 1)
            .eq("id", "n")
            .build();
        assert_eq!(
            reduce(
                DUE,
                r#"{"unit":1,"id":"n","periodStart":"1970-01-01T00:00:00Z","threshold":90}"#
            ),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn due_without_fields_reads_go_zero_values() {
        let expected = update(TABLE)
            .set(
                "latest_due_period_start",
                Value::Timestamp(crate::field::GO_ZERO_TIME),
            )
            .set("next_due_threshold", 100)
            .eq("unit", 0)
            .eq("id", "")
            .build();
        assert_eq!(reduce(DUE, "{}"), Ok(Some(vec![expected])));
    }

    #[test]
    fn the_next_threshold_wraps_like_a_uint16() {
        assert_eq!(next_threshold(200), 300);
        assert_eq!(next_threshold(65_435), 65_535);
        assert_eq!(next_threshold(65_500), 64);
    }

    #[test]
    fn notified_changes_nothing() {
        assert_eq!(reduce(NOTIFIED, r#"{"unit":1,"id":"n"}"#), Ok(Some(vec![])));
    }
}
