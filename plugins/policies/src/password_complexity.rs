//! `password_complexity_policies_projection`: what a password must contain
//! (reference §6.1).
//!
//! A policy table of the SDK ([`policy`]) with the usual shared columns.

use projection_sdk::TableModule;
use projection_sdk::policy::{self, Events, Field, Kind, PolicyTable, field};

/// The table name.
pub(crate) const TABLE: &str = "password_complexity_policies_projection";

/// The password complexity policy's settings.
pub(crate) struct Complexity;

impl PolicyTable for Complexity {
    const NAME: &'static str = TABLE;
    const EVENTS: Events = projection_sdk::policy_events!("password.complexity");
    const FIELDS: &'static [Field] = &[
        field("minLength", "min_length", Kind::Int),
        field("hasLowercase", "has_lowercase", Kind::Bool),
        field("hasUppercase", "has_uppercase", Kind::Bool),
        field("hasSymbol", "has_symbol", Kind::Bool),
        field("hasNumber", "has_number", Kind::Bool),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    policy::table::<Complexity>,
    &policy::handlers::<Complexity>(),
);
