//! `idp_templates_jwt_projection`: JWT IdPs (reference §6.11, type JWT).
//!
//! Also the table of the legacy IdP configs' JWT configuration
//! (`*.idp.jwt.config.*`), which has no audience.

use projection_sdk::TableModule;

use crate::config::Legacy;
use crate::field::{Field, Kind, field};
use crate::level::EventTypes;
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// JWT.
#[derive(Debug)]
pub(crate) struct Jwt;

impl Provider for Jwt {
    const TABLE: &'static str = "idp_templates_jwt_projection";
    const TYPE: IdpType = IdpType::Jwt;
    const EVENTS: Events = events!("instance.idp.jwt", "org.idp.jwt");
    const FIELDS: &'static [Field] = &[
        field("issuer", "issuer", Kind::Text),
        field("jwtEndpoint", "jwt_endpoint", Kind::Text),
        field("keysEndpoint", "keys_endpoint", Kind::Text),
        field("headerName", "header_name", Kind::Text).nullable(),
        field("audience", "audience", Kind::Text).nullable(),
    ];
    const LEGACY: Legacy = Legacy {
        added: EventTypes {
            instance: &["iam.idp.jwt.config.added"],
            org: &["org.idp.jwt.config.added"],
        },
        changed: EventTypes {
            instance: &["iam.idp.jwt.config.changed"],
            org: &["org.idp.jwt.config.changed"],
        },
        fields: &[
            field("issuer", "issuer", Kind::Text),
            field("jwtEndpoint", "jwt_endpoint", Kind::Text),
            field("keysEndpoint", "keys_endpoint", Kind::Text),
            field("headerName", "header_name", Kind::Text).nullable(),
        ],
        constants: &[],
    };
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<Jwt>::MODULE;
