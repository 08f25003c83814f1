//! `idp_templates_azure_projection`: Azure AD IdPs (reference §6.11, type
//! Azure AD).
//!
//! The payload spells the client `client_id` / `client_secret`. An OIDC IdP
//! migrated to Azure AD (`*.idp.oidc.migrated.azure`) comes here. The
//! reference declares `scopes` TEXT and writes the list into it as an array
//! literal; the canonical column is TEXT[], like every other provider's.

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::level::EventTypes;
use crate::template::provider::{Events, Migration, Module, Provider, events};
use crate::template::{IdpType, oidc};

/// Azure AD.
#[derive(Debug)]
pub(crate) struct AzureAd;

impl Provider for AzureAd {
    const TABLE: &'static str = "idp_templates_azure_projection";
    const TYPE: IdpType = IdpType::AzureAd;
    const EVENTS: Events = events!("instance.idp.azure", "org.idp.azure");
    const FIELDS: &'static [Field] = &[
        field("client_id", "client_id", Kind::Text),
        field("client_secret", "client_secret", Kind::Secret),
        field("scopes", "scopes", Kind::TextArray).nullable(),
        field("tenant", "tenant", Kind::Text).nullable(),
        field("isEmailVerified", "is_email_verified", Kind::Bool).zero_default(),
    ];
    const MIGRATION: Migration = Migration {
        from: oidc::TABLE,
        events: EventTypes {
            instance: &["instance.idp.oidc.migrated.azure"],
            org: &["org.idp.oidc.migrated.azure"],
        },
    };
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<AzureAd>::MODULE;
