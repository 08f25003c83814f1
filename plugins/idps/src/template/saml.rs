//! `idp_templates_saml_projection`: SAML IdPs (reference §6.11, type
//! SAML).
//!
//! `metadata` and `certificate` are base64 bytes, `key` a CryptoValue kept
//! as JSON; `name_id_format` is written only when the payload has it.

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// SAML.
#[derive(Debug)]
pub(crate) struct Saml;

impl Provider for Saml {
    const TABLE: &'static str = "idp_templates_saml_projection";
    const TYPE: IdpType = IdpType::Saml;
    const EVENTS: Events = events!("instance.idp.saml", "org.idp.saml");
    const FIELDS: &'static [Field] = &[
        field("metadata", "metadata", Kind::Bytes),
        field("key", "key", Kind::Secret),
        field("certificate", "certificate", Kind::Bytes),
        field("binding", "binding", Kind::Text).nullable(),
        field("withSignedRequest", "with_signed_request", Kind::Bool).nullable(),
        field("signatureAlgorithm", "signature_algorithm", Kind::Text).zero_default(),
        field("nameIDFormat", "name_id_format", Kind::OptionalEnum).nullable(),
        field(
            "transientMappingAttributeName",
            "transient_mapping_attribute_name",
            Kind::Text,
        )
        .nullable(),
        field(
            "federatedLogoutEnabled",
            "federated_logout_enabled",
            Kind::Bool,
        )
        .zero_default(),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<Saml>::MODULE;
