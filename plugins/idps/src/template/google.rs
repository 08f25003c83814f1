//! `idp_templates_google_projection`: Google IdPs (reference §6.11, type
//! Google). An OIDC IdP migrated to Google (`*.idp.oidc.migrated.google`)
//! comes here.

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::level::EventTypes;
use crate::template::provider::{Events, Migration, Module, Provider, events};
use crate::template::{IdpType, oidc};

/// Google.
#[derive(Debug)]
pub(crate) struct Google;

impl Provider for Google {
    const TABLE: &'static str = "idp_templates_google_projection";
    const TYPE: IdpType = IdpType::Google;
    const EVENTS: Events = events!("instance.idp.google", "org.idp.google");
    const FIELDS: &'static [Field] = &[
        field("clientId", "client_id", Kind::Text),
        field("clientSecret", "client_secret", Kind::Secret),
        field("scopes", "scopes", Kind::TextArray).nullable(),
    ];
    const MIGRATION: Migration = Migration {
        from: oidc::TABLE,
        events: EventTypes {
            instance: &["instance.idp.oidc.migrated.google"],
            org: &["org.idp.oidc.migrated.google"],
        },
    };
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<Google>::MODULE;
