//! `privacy_policies_projection`: the links and contact shown to users
//! (reference §6.5).
//!
//! A policy table of the SDK ([`policy`]) with the usual shared columns; an
//! added event that leaves a link out writes ''.

use projection_sdk::TableModule;
use projection_sdk::policy::{self, Events, Field, Kind, Literal, PolicyTable, field};

/// The table name.
pub(crate) const TABLE: &str = "privacy_policies_projection";

/// The privacy policy's settings.
pub(crate) struct Privacy;

impl PolicyTable for Privacy {
    const NAME: &'static str = TABLE;
    const EVENTS: Events = projection_sdk::policy_events!("privacy");
    const FIELDS: &'static [Field] = &[
        field("privacyLink", "privacy_link", Kind::Text),
        field("tosLink", "tos_link", Kind::Text),
        field("helpLink", "help_link", Kind::Text),
        field("supportEmail", "support_email", Kind::Text),
        field("docsLink", "docs_link", Kind::Text)
            .defaults_to(Literal::Text("https://zitadel.com/docs")),
        field("customLink", "custom_link", Kind::Text),
        field("customLinkText", "custom_link_text", Kind::Text),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    policy::table::<Privacy>,
    &policy::handlers::<Privacy>(),
);
