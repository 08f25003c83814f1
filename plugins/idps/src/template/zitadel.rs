//! `idp_templates_zitadel_projection`: Zitadel instances as IdPs
//! (reference §6.11, type Zitadel).
//!
//! The reference has this kind on its main branch only (not in release
//! v4.13.1). `instance_roles_info` is the payload's list of
//! `{organizationId, organizationDomain}` as JSON, written by an added event
//! only when the list is not empty.

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// Zitadel.
#[derive(Debug)]
pub(crate) struct Zitadel;

impl Provider for Zitadel {
    const TABLE: &'static str = "idp_templates_zitadel_projection";
    const TYPE: IdpType = IdpType::Zitadel;
    const EVENTS: Events = events!("instance.idp.zitadel", "org.idp.zitadel");
    const FIELDS: &'static [Field] = &[
        field("issuer", "issuer", Kind::Text),
        field("clientId", "client_id", Kind::Text),
        field("clientSecret", "client_secret", Kind::Secret),
        field("scopes", "scopes", Kind::TextArray).nullable(),
        field("instanceRolesInfo", "instance_roles_info", Kind::JsonList).nullable(),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<Zitadel>::MODULE;
