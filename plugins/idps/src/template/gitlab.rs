//! `idp_templates_gitlab_projection`: GitLab IdPs (reference §6.11, type
//! GitLab). The payload spells the client `client_id` / `client_secret`.

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// GitLab.
#[derive(Debug)]
pub(crate) struct GitLab;

impl Provider for GitLab {
    const TABLE: &'static str = "idp_templates_gitlab_projection";
    const TYPE: IdpType = IdpType::GitLab;
    const EVENTS: Events = events!("instance.idp.gitlab", "org.idp.gitlab");
    const FIELDS: &'static [Field] = &[
        field("client_id", "client_id", Kind::Text),
        field("client_secret", "client_secret", Kind::Secret),
        field("scopes", "scopes", Kind::TextArray).nullable(),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<GitLab>::MODULE;
