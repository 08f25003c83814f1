//! `domain_policies_projection`: how org domains govern login names and
//! senders (reference §6.8).
//!
//! A policy table of the SDK ([`policy`]) with the usual shared columns. The
//! same events also feed the users family's `login_names_policies_projection`
//! (reference §4.7); this table keeps all three settings.

use projection_sdk::TableModule;
use projection_sdk::policy::{self, Events, Field, Kind, PolicyTable, field};

/// The table name.
pub(crate) const TABLE: &str = "domain_policies_projection";

/// The domain policy's settings.
pub(crate) struct Domain;

impl PolicyTable for Domain {
    const NAME: &'static str = TABLE;
    const EVENTS: Events = projection_sdk::policy_events!("domain");
    const FIELDS: &'static [Field] = &[
        field(
            "userLoginMustBeDomain",
            "user_login_must_be_domain",
            Kind::Bool,
        ),
        field("validateOrgDomains", "validate_org_domains", Kind::Bool),
        field(
            "smtpSenderAddressMatchesInstanceDomain",
            "smtp_sender_address_matches_instance_domain",
            Kind::Bool,
        ),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    policy::table::<Domain>,
    &policy::handlers::<Domain>(),
);
