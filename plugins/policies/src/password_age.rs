//! `password_age_policies_projection`: when a password expires (reference
//! §6.2).
//!
//! A policy table of the SDK ([`policy`]) with the usual shared columns.

use projection_sdk::TableModule;
use projection_sdk::policy::{self, Events, Field, Kind, PolicyTable, field};

/// The table name.
pub(crate) const TABLE: &str = "password_age_policies_projection";

/// The password age policy's settings.
pub(crate) struct Age;

impl PolicyTable for Age {
    const NAME: &'static str = TABLE;
    const EVENTS: Events = projection_sdk::policy_events!("password.age");
    const FIELDS: &'static [Field] = &[
        field("expireWarnDays", "expire_warn_days", Kind::Int),
        field("maxAgeDays", "max_age_days", Kind::Int),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule =
    TableModule::new(TABLE, policy::table::<Age>, &policy::handlers::<Age>());
