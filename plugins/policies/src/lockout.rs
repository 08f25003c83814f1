//! `lockout_policies_projection`: when failed attempts lock a user
//! (reference §6.4).
//!
//! A policy table of the SDK ([`policy`]) without the legacy
//! `owner_removed` column; `showLockOutFailures` sets `show_failure`.

use projection_sdk::TableModule;
use projection_sdk::policy::{
    self, Events, Field, Kind, Literal, OwnerRemoved, PolicyTable, field,
};

/// The table name.
pub(crate) const TABLE: &str = "lockout_policies_projection";

/// The lockout policy's settings.
pub(crate) struct Lockout;

impl PolicyTable for Lockout {
    const NAME: &'static str = TABLE;
    const EVENTS: Events = projection_sdk::policy_events!("lockout");
    const FIELDS: &'static [Field] = &[
        field("maxPasswordAttempts", "max_password_attempts", Kind::Int),
        field("maxOTPAttempts", "max_otp_attempts", Kind::Int).defaults_to(Literal::Int(0)),
        field("showLockOutFailures", "show_failure", Kind::Bool),
    ];
    const OWNER_REMOVED: OwnerRemoved = OwnerRemoved::Absent;
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    policy::table::<Lockout>,
    &policy::handlers::<Lockout>(),
);
