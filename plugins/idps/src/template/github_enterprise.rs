//! `idp_templates_github_enterprise_projection`: GitHub Enterprise IdPs
//! (reference §6.11, type GitHub Enterprise).

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// GitHub Enterprise.
#[derive(Debug)]
pub(crate) struct GitHubEnterprise;

impl Provider for GitHubEnterprise {
    const TABLE: &'static str = "idp_templates_github_enterprise_projection";
    const TYPE: IdpType = IdpType::GitHubEnterprise;
    const EVENTS: Events = events!(
        "instance.idp.github_enterprise",
        "org.idp.github_enterprise"
    );
    const FIELDS: &'static [Field] = &[
        field("clientId", "client_id", Kind::Text),
        field("clientSecret", "client_secret", Kind::Secret),
        field(
            "authorizationEndpoint",
            "authorization_endpoint",
            Kind::Text,
        ),
        field("tokenEndpoint", "token_endpoint", Kind::Text),
        field("userEndpoint", "user_endpoint", Kind::Text),
        field("scopes", "scopes", Kind::TextArray).nullable(),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<GitHubEnterprise>::MODULE;
