//! `idp_templates_apple_projection`: Sign in with Apple IdPs (reference
//! §6.11, type Apple). The private key is a CryptoValue kept as JSON.

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// Apple.
#[derive(Debug)]
pub(crate) struct Apple;

impl Provider for Apple {
    const TABLE: &'static str = "idp_templates_apple_projection";
    const TYPE: IdpType = IdpType::Apple;
    const EVENTS: Events = events!("instance.idp.apple", "org.idp.apple");
    const FIELDS: &'static [Field] = &[
        field("clientId", "client_id", Kind::Text),
        field("teamId", "team_id", Kind::Text),
        field("keyId", "key_id", Kind::Text),
        field("privateKey", "private_key", Kind::Secret),
        field("scopes", "scopes", Kind::TextArray).nullable(),
    ];
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<Apple>::MODULE;
