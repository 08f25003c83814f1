//! `idp_templates_github_projection`: GitHub IdPs (reference §6.11, type
//! GitHub).

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// GitHub.
#[derive(Debug)]
pub(crate) struct GitHub;

impl Provider for GitHub {
    const TABLE: &'static str = "idp_templates_github_projection";
    const TYPE: IdpType = IdpType::GitHub;
    const EVENTS: Events = events!("instance.idp.github", "org.idp.github");
    const FIELDS: &'static [Field] = &[
        field("clientId", "client_id", Kind::Text),
        field("clientSecret", "client_secret", Kind::Secret),
        field("scopes", "scopes", Kind::TextArray).nullable(),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<GitHub>::MODULE;
