//! `idp_templates_oauth2_projection`: generic OAuth 2 IdPs (reference
//! §6.11, type OAuth).

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// OAuth 2.
#[derive(Debug)]
pub(crate) struct OAuth;

impl Provider for OAuth {
    const TABLE: &'static str = "idp_templates_oauth2_projection";
    const TYPE: IdpType = IdpType::OAuth;
    const EVENTS: Events = events!("instance.idp.oauth", "org.idp.oauth");
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
        field("idAttribute", "id_attribute", Kind::Text),
        field("usePKCE", "use_pkce", Kind::Bool).zero_default(),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<OAuth>::MODULE;
