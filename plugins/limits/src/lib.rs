//! The limits table family (reference §7): what an instance has reached,
//! may use and is allowed.
//!
//! Projects the events of the `milestone`, `quota` and `limits` aggregates,
//! plus `instance.removed`, into these tables:
//!
//! | table | module |
//! |---|---|
//! | `milestones_projection` | `milestone.rs` |
//! | `quotas_projection` | `quota/mod.rs` |
//! | `quotas_periods_projection` (sub-table) | `quota/period.rs` |
//! | `quotas_notifications_projection` (sub-table) | `quota/notification.rs` |
//! | `limits_projection` | `limit.rs` |
//!
//! `field.rs` holds the payload conventions the tables share (Go's times,
//! unsigned integers and zero values, nested objects).
//!
//! Why these tables are one family: each is keyed by the instance, written
//! from its own aggregate's events alone (no look-ups) and reached by no
//! org, project or user event; together they are the instance's operating
//! state (milestones reported, quotas and their usage, limits), which the
//! identity tables neither read nor write. A failing event here stops
//! these tables only, and the identity families go on.
//!
//! Every table module states its table and its handlers; [`Limits`] runs
//! them in table order and concatenates their mutations, so `quota.added`
//! and `quota.set` upsert the quota before replacing its notifications, the
//! reference's order. `quota.removed` and `instance.removed` delete the
//! quota tables in the opposite order (periods, notifications, quotas), so
//! the quota module handles them for all three (`quota/mod.rs`).
//!
//! Milestones have no `instance.removed` handler: an instance's deletion
//! arrives as the `InstanceDeleted` milestone being pushed. The usage column
//! of `quotas_periods_projection` is written by no event: the usage
//! reporting of the system the quotas limit keeps it (`quota/period.rs`).
//!
//! The host scopes every mutation to the event's tenant and stamps
//! `change_date`/`sequence` (and `creation_date` on inserts): the canonical
//! schema adds change_date/sequence to the milestone and quota tables,
//! which the reference's lack (reference §9.4), and the host stamps them
//! from the event that last touched the row.

mod field;
mod limit;
mod milestone;
mod quota;

projection_sdk::family! {
    /// The limits table family: milestones, quotas and limits.
    Limits,
    name: "limits",
    version: "0.1.0",
    tables: [milestone, quota, quota::period, quota::notification, limit],
}

#[cfg(test)]
projection_conformance::passes!(Limits, "milestones", "quota", "limits");

#[cfg(test)]
mod tests;
