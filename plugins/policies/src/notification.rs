//! `notification_policies_projection`: which notifications users get
//! (reference §6.7).
//!
//! A policy table of the SDK ([`policy`]) whose `is_default` has no default
//! and whose `owner_removed` has no index.

use projection_sdk::TableModule;
use projection_sdk::policy::{self, Events, Field, Kind, OwnerRemoved, PolicyTable, field};

/// The table name.
pub(crate) const TABLE: &str = "notification_policies_projection";

/// The notification policy's settings.
pub(crate) struct Notification;

impl PolicyTable for Notification {
    const NAME: &'static str = TABLE;
    const EVENTS: Events = projection_sdk::policy_events!("notification");
    const FIELDS: &'static [Field] = &[field("passwordChange", "password_change", Kind::Bool)];
    const IS_DEFAULT_DEFAULT: Option<bool> = None;
    const OWNER_REMOVED: OwnerRemoved = OwnerRemoved::Unindexed;
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    policy::table::<Notification>,
    &policy::handlers::<Notification>(),
);
