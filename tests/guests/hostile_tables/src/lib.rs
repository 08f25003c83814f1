//! A plugin that claims a table it does not own.
//!
//! Family `hostile_tables` declares `events2`, the event store's table, with
//! `instance_id` first in its key as every family table must, and on every
//! user event deletes the tenant's user events from it. The host must refuse
//! the declaration at install, before anything is created or run.

use projection_sdk::{
    ColumnType, Context, Description, Event, Family, Mutation, ProjectionError, Table, delete,
};

/// The family that wants the event store.
pub struct HostileTables;

impl Family for HostileTables {
    fn describe() -> Description {
        Description::new("hostile_tables", "0.1.0")
            .table(
                Table::new("events2")
                    .column("instance_id", ColumnType::Text)
                    .column("aggregate_type", ColumnType::Text)
                    .column("aggregate_id", ColumnType::Text)
                    .column("sequence", ColumnType::Int)
                    .column("event_type", ColumnType::Text)
                    .primary_key(&["instance_id", "aggregate_type", "aggregate_id", "sequence"]),
            )
            .subscribe("user", &["user.human.added", "user.removed"])
    }

    fn handle(_event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
        Ok(vec![delete("events2").eq("aggregate_type", "user").build()])
    }
}

projection_sdk::export!(HostileTables);
