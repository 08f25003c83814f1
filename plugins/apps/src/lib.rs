//! The apps table family (reference §3.6): the applications of a project and
//! their API, OIDC and SAML configurations.
//!
//! Projects the application events of the `project` aggregate, plus
//! `project.removed`, `org.removed` and `instance.removed`, into these tables,
//! one module each:
//!
//! | table | module |
//! |---|---|
//! | `apps_projection` | `app.rs` |
//! | `apps_api_configs_projection` (sub-table) | `api_config.rs` |
//! | `apps_oidc_configs_projection` (sub-table) | `oidc_config.rs` |
//! | `apps_saml_configs_projection` (sub-table) | `saml_config.rs` |
//!
//! `field.rs` holds the payload conventions the tables share (the app id,
//! client secrets, Go zero values, enum arrays, durations).
//!
//! The config tables are declared as sub-tables of `apps_projection`: a
//! removed app, project, org or instance deletes app rows only, and their
//! config rows go with them. The keys of app keys (`authn_keys_projection`)
//! and their auth-method toggles belong to the users family.
//!
//! A config event writes its config row first and then "touches" the app
//! (change_date and sequence), the reference's order, so the config modules'
//! handlers run before the app's (`reducers` below); a config change that
//! changes nothing does neither. Tables are declared parent first.
//!
//! The host scopes every mutation to the event's tenant and stamps
//! `change_date`/`sequence` (and `creation_date` on inserts), so the reducers
//! write those columns only to touch an app.

mod api_config;
mod app;
mod field;
mod oidc_config;
mod saml_config;

projection_sdk::family! {
    /// The apps table family.
    Apps,
    name: "apps",
    version: "0.1.0",
    tables: [app, api_config, oidc_config, saml_config],
    reducers: [api_config, oidc_config, saml_config, app],
}

#[cfg(test)]
projection_conformance::passes!(Apps, "app");

#[cfg(test)]
mod tests;
