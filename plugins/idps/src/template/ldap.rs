//! `idp_templates_ldap2_projection`: LDAP IdPs (reference §6.11, type
//! LDAP).
//!
//! The instance's events are `instance.idp.ldap.v2.*`, an org's
//! `org.idp.ldap.*` (reference §9.5). The column of the email-verified
//! attribute is `email_verified`. `timeout` is a duration (integer
//! nanoseconds in the payload): the reference's column is BIGINT, the
//! canonical one an interval, as for every duration the cases encode.

use projection_sdk::TableModule;

use crate::field::{Field, Kind, field};
use crate::template::IdpType;
use crate::template::provider::{Events, Module, Provider, events};

/// LDAP.
#[derive(Debug)]
pub(crate) struct Ldap;

impl Provider for Ldap {
    const TABLE: &'static str = "idp_templates_ldap2_projection";
    const TYPE: IdpType = IdpType::Ldap;
    const EVENTS: Events = events!("instance.idp.ldap.v2", "org.idp.ldap");
    const FIELDS: &'static [Field] = &[
        field("servers", "servers", Kind::TextArray),
        field("startTLS", "start_tls", Kind::Bool),
        field("baseDN", "base_dn", Kind::Text),
        field("bindDN", "bind_dn", Kind::Text),
        field("bindPassword", "bind_password", Kind::Secret),
        field("userBase", "user_base", Kind::Text),
        field("userObjectClasses", "user_object_classes", Kind::TextArray),
        field("userFilters", "user_filters", Kind::TextArray),
        field("timeout", "timeout", Kind::Duration),
        field("rootCA", "root_ca", Kind::Bytes).nullable(),
        attribute("idAttribute", "id_attribute"),
        attribute("firstNameAttribute", "first_name_attribute"),
        attribute("lastNameAttribute", "last_name_attribute"),
        attribute("displayNameAttribute", "display_name_attribute"),
        attribute("nickNameAttribute", "nick_name_attribute"),
        attribute("preferredUsernameAttribute", "preferred_username_attribute"),
        attribute("emailAttribute", "email_attribute"),
        attribute("emailVerifiedAttribute", "email_verified"),
        attribute("phoneAttribute", "phone_attribute"),
        attribute("phoneVerifiedAttribute", "phone_verified_attribute"),
        attribute("preferredLanguageAttribute", "preferred_language_attribute"),
        attribute("avatarURLAttribute", "avatar_url_attribute"),
        attribute("profileAttribute", "profile_attribute"),
    ];
}

/// An LDAP attribute mapping: a text field, its column takes NULL.
const fn attribute(key: &'static str, column: &'static str) -> Field {
    field(key, column, Kind::Text).nullable()
}

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = Module::<Ldap>::MODULE;
