//! The identity providers table family (reference §6.9 to §6.13): the
//! IdPs of the instance and the orgs, their provider settings, the login
//! policies that offer them and the users linked to them.
//!
//! | table | module |
//! |---|---|
//! | `idps_projection` (legacy IdP configs) | `idp/mod.rs` |
//! | `idps_oidc_config_projection` (sub-table) | `idp/oidc_config.rs` |
//! | `idps_jwt_config_projection` (sub-table) | `idp/jwt_config.rs` |
//! | `idp_templates_projection` | `template/mod.rs` |
//! | `idp_templates_{oauth2, oidc, jwt, azure, github, github_enterprise, gitlab, gitlab_self_hosted, google, ldap2, apple, saml, zitadel}_projection` (sub-tables) | `template/<provider>.rs` |
//! | `idp_login_policy_links_projection` | `login_policy_link.rs` |
//! | `idp_user_links_projection` | `user_link.rs` |
//!
//! The 13 provider kinds of IdP templates differ only in their table, their
//! event type stems and their payload fields: each states those as a
//! `Provider` (`template/provider.rs`), and one set of reducers (added,
//! changed, migrated) serves them all. The legacy `*.idp.oidc.config.*` and
//! `*.idp.jwt.config.*` events feed four config tables through one generic
//! home too (`config.rs`). `field.rs` reads payload fields into columns
//! (Go zero values for fields an added event leaves out), `secret.rs` keeps
//! CryptoValue secrets as the reference stores them, `level.rs` tells an
//! instance's IdP events from an org's, and `row.rs` writes what the legacy
//! and the template IdP rows share.
//!
//! The IdP sub-tables are declared with their IdP table as parent: a
//! removed IdP, org or instance deletes IdP rows only, and the provider and
//! config rows go with them. An event writes its IdP row before its
//! provider or config row, the reference's order, so each sub-table's
//! reducers write both. Tables are declared parent first.
//!
//! The host scopes every mutation to the event's tenant and stamps
//! `change_date`/`sequence` (and `creation_date` on inserts).

mod config;
mod field;
mod idp;
mod level;
mod login_policy_link;
mod row;
mod secret;
mod template;
mod user_link;

projection_sdk::family! {
    /// The identity providers table family.
    Idps,
    name: "idps",
    version: "0.1.0",
    tables: [
        idp,
        idp::oidc_config,
        idp::jwt_config,
        template,
        template::oauth,
        template::oidc,
        template::jwt,
        template::azure,
        template::github,
        template::github_enterprise,
        template::gitlab,
        template::gitlab_self_hosted,
        template::google,
        template::ldap,
        template::apple,
        template::saml,
        template::zitadel,
        login_policy_link,
        user_link,
    ],
}

#[cfg(test)]
projection_conformance::passes!(
    Idps,
    "idp",
    "idp_template",
    "idp_login_policy_link",
    "idp_user_link"
);

#[cfg(test)]
mod tests;
