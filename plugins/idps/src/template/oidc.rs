//! `idp_templates_oidc_projection`: OpenID Connect IdPs (reference §6.11,
//! type OIDC).
//!
//! Also the table of the legacy IdP configs' OIDC configuration
//! (`*.idp.oidc.config.*`): it always maps the ID token and never uses
//! PKCE. An OIDC IdP migrated to Azure AD or Google leaves this table.

use projection_sdk::TableModule;

use crate::config::Legacy;
use crate::field::{Field, Kind, field};
use crate::level::EventTypes;
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// The table name.
pub(crate) const TABLE: &str = "idp_templates_oidc_projection";

/// OpenID Connect.
#[derive(Debug)]
pub(crate) struct Oidc;

impl Provider for Oidc {
    const TABLE: &'static str = TABLE;
    const TYPE: IdpType = IdpType::Oidc;
    const EVENTS: Events = events!("instance.idp.oidc", "org.idp.oidc");
    const FIELDS: &'static [Field] = &[
        field("issuer", "issuer", Kind::Text),
        field("clientId", "client_id", Kind::Text),
        field("clientSecret", "client_secret", Kind::Secret),
        field("scopes", "scopes", Kind::TextArray).nullable(),
        field("idTokenMapping", "id_token_mapping", Kind::Bool).zero_default(),
        field("usePKCE", "use_pkce", Kind::Bool).zero_default(),
    ];
    const LEGACY: Legacy = Legacy {
        added: EventTypes {
            instance: &["iam.idp.oidc.config.added"],
            org: &["org.idp.oidc.config.added"],
        },
        changed: EventTypes {
            instance: &["iam.idp.oidc.config.changed"],
            org: &["org.idp.oidc.config.changed"],
        },
        fields: &[
            field("issuer", "issuer", Kind::Text),
            field("clientId", "client_id", Kind::Text),
            field("clientSecret", "client_secret", Kind::Secret),
            field("scopes", "scopes", Kind::TextArray).nullable(),
        ],
        constants: &[("id_token_mapping", true), ("use_pkce", false)],
    };
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<Oidc>::MODULE;
