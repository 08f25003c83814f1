//! `idp_templates_gitlab_self_hosted_projection`: self-hosted GitLab IdPs
//! (reference §6.11, type GitLab self-hosted). The payload spells the
//! client `client_id` / `client_secret`.

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// GitLab self-hosted.
#[derive(Debug)]
pub(crate) struct GitLabSelfHosted;

impl Provider for GitLabSelfHosted {
    const TABLE: &'static str = "idp_templates_gitlab_self_hosted_projection";
    const TYPE: IdpType = IdpType::GitLabSelfHosted;
    const EVENTS: Events = events!(
        "instance.idp.gitlab_self_hosted",
        "org.idp.gitlab_self_hosted"
    );
    const FIELDS: &'static [Field] = &[
        field("issuer", "issuer", Kind::Text),
        field("client_id", "client_id", Kind::Text),
        field("client_secret", "client_secret", Kind::Secret),
        field("scopes", "scopes", Kind::TextArray).nullable(),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<GitLabSelfHosted>::MODULE;
