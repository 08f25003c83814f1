//! `milestones_projection`: when an instance reached each milestone and when
//! that was last reported (reference §7.1).
//!
//! The `milestone` aggregate's id and owner are the instance's. The table
//! has no `instance.removed` handler: an instance's deletion arrives as the
//! milestone `InstanceDeleted` being pushed, which deletes the instance's
//! rows.
//!
//! The reference's table has no change_date/sequence; the canonical schema
//! adds them and the host stamps them from the event that last touched the
//! row.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, Payload, ProjectionError, Table, TableModule, Value,
    delete, insert, on, update,
};
use serde_json::Value as Json;

use crate::field::{invalid, timestamp};

/// The table name.
pub(crate) const TABLE: &str = "milestones_projection";

/// A milestone was reached.
pub(crate) const REACHED: &str = "milestone.v2.reached";

/// A reached milestone was reported.
pub(crate) const PUSHED: &str = "milestone.v2.pushed";

/// The milestone types in enum order: `type` 1 is the first. The payload
/// names them (Go's enum is encoded by name).
const TYPES: [&str; 6] = [
    "InstanceCreated",
    "AuthenticationSucceededOnInstance",
    "ProjectCreated",
    "ApplicationCreated",
    "AuthenticationSucceededOnApplication",
    "InstanceDeleted",
];

/// `type` of the milestone `InstanceDeleted`.
const INSTANCE_DELETED: i64 = 6;

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("milestone", &[REACHED], reached),
        on("milestone", &[PUSHED], pushed),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("instance_id", ColumnType::Text)
        .column("type", ColumnType::SmallInt)
        .nullable("reached_date", ColumnType::Timestamp)
        .nullable("last_pushed_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "type"])
}

/// The payload's milestone `type`: its name (any letter case) or its
/// number; absent reads as 0, Go's zero value.
fn milestone_type(payload: &Payload) -> Result<i64, ProjectionError> {
    let expected = "a milestone type";
    match payload.get("type") {
        None => Ok(0),
        Some(Json::String(name)) => TYPES
            .iter()
            .zip(1..)
            .find(|(known, _)| known.eq_ignore_ascii_case(name))
            .map(|(_, number)| number)
            .ok_or_else(|| invalid("type", expected)),
        Some(json) => json.as_i64().ok_or_else(|| invalid("type", expected)),
    }
}

/// The time in field `key`, or the event's creation time without one.
fn date_or_created(event: &Event, payload: &Payload, key: &str) -> Result<Value, ProjectionError> {
    Ok(timestamp(payload, key)?.map_or_else(|| event.created_at_value(), Value::Timestamp))
}

/// `milestone.v2.reached`: a new row, reached at `reachedDate` or when the
/// event was created.
fn reached(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        insert(TABLE)
            .value("type", milestone_type(&payload)?)
            .value(
                "reached_date",
                date_or_created(event, &payload, "reachedDate")?,
            )
            .build(),
    ])
}

/// `milestone.v2.pushed`: the milestone's `last_pushed_date` (`pushedDate`
/// or when the event was created); `InstanceDeleted` deletes the instance's
/// rows instead.
fn pushed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let milestone = milestone_type(&payload)?;
    if milestone == INSTANCE_DELETED {
        return Ok(vec![
            delete(TABLE).eq("instance_id", &event.instance_id).build(),
        ]);
    }
    Ok(vec![
        update(TABLE)
            .set(
                "last_pushed_date",
                date_or_created(event, &payload, "pushedDate")?,
            )
            .eq("type", milestone)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::{CREATED_AT, event};
    use projection_sdk::{Context, Mutation, NoEvents, ProjectionError, Value, delete, insert};
    use projection_sdk::{Reduced, update};

    use super::{MODULE, PUSHED, REACHED, TABLE};

    fn reduce(event_type: &str, payload: &str) -> Reduced {
        let e = event("milestone", event_type, Some(payload));
        MODULE.reduce(&e, &Context::new(&NoEvents))
    }

    fn inserted(milestone: i64, reached: i64) -> Mutation {
        insert(TABLE)
            .value("type", milestone)
            .value("reached_date", Value::Timestamp(reached))
            .build()
    }

    #[test]
    fn reached_takes_the_named_type_and_the_events_time() {
        assert_eq!(
            reduce(
                REACHED,
                r#"{"type":"AuthenticationSucceededOnApplication"}"#
            ),
            Ok(Some(vec![inserted(5, CREATED_AT)]))
        );
    }

    #[test]
    fn reached_takes_the_reached_date_when_present() {
        assert_eq!(
            reduce(
                REACHED,
                r#"{"type":"projectcreated","reachedDate":"1970-01-01T00:00:02Z"}"#
            ),
            Ok(Some(vec![inserted(3, 2_000_000)]))
        );
    }

    #[test]
    fn a_numeric_type_is_taken_as_is_and_an_absent_one_is_zero() {
        assert_eq!(
            reduce(REACHED, r#"{"type":4}"#),
            Ok(Some(vec![inserted(4, CREATED_AT)]))
        );
        assert_eq!(
            reduce(REACHED, "{}"),
            Ok(Some(vec![inserted(0, CREATED_AT)]))
        );
    }

    #[test]
    fn an_unknown_type_name_is_refused() {
        assert!(matches!(
            reduce(REACHED, r#"{"type":"SomethingElse"}"#),
            Err(ProjectionError::InvalidPayload(_))
        ));
    }

    #[test]
    fn pushed_sets_the_pushed_date() {
        let expected = update(TABLE)
            .set("last_pushed_date", Value::Timestamp(CREATED_AT))
            .eq("type", 2)
            .build();
        assert_eq!(
            reduce(PUSHED, r#"{"type":"AuthenticationSucceededOnInstance"}"#),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn instance_deleted_pushed_deletes_the_instances_rows() {
        let expected = delete(TABLE).eq("instance_id", "instance-id").build();
        assert_eq!(
            reduce(
                PUSHED,
                r#"{"type":"InstanceDeleted","pushedDate":"2006-01-02T15:04:05Z"}"#
            ),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn instance_removed_is_not_handled() {
        let e = event("instance", "instance.removed", None);
        assert_eq!(MODULE.reduce(&e, &Context::new(&NoEvents)), Ok(None));
    }
}
