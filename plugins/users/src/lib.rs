//! The users table family (reference §4, without user grants).
//!
//! Projects the events of the `user` aggregate, plus the `org`, `instance`,
//! `project` and `target` events that cascade into user tables, into these
//! tables, one module each:
//!
//! | table | module |
//! |---|---|
//! | `users_projection` | `user.rs` |
//! | `users_humans_projection` (sub-table) | `human.rs` |
//! | `users_machines_projection` (sub-table) | `machine.rs` |
//! | `users_notifications_projection` (sub-table) | `notification.rs` |
//! | `user_metadata_projection` | `metadata.rs` |
//! | `login_names_users_projection` | `login_name/user.rs` |
//! | `login_names_domains_projection` | `login_name/domain.rs` |
//! | `login_names_policies_projection` | `login_name/policy.rs` |
//! | `user_auth_methods_projection` | `auth_method.rs` |
//! | `personal_access_tokens_projection` | `pat.rs` |
//! | `authn_keys_projection` | `authn_key.rs` |
//!
//! Why this split: every table here is written from the event alone (no
//! event-store look-ups), and most user events touch several of them
//! (`user.removed` reaches six tables, `user.human.phone.removed` four), so
//! one plugin keeps one user event in one place and one transaction. User
//! grants live in their own family (`plugins/user_grants`): they need
//! look-ups of other aggregates' events and fan out from project events,
//! which have nothing to do with the tables here.
//!
//! Every table module states its table and its handlers (`event types →
//! reducer`, removals declared); [`Users`] runs them in table order and
//! concatenates their mutations, so a multi-table event yields "bump the
//! user, update humans, update notifications" in the reference's order. The
//! one exception is the login-name tables: the reference removes an org's or
//! an instance's rows from them in the order domains, policies, users
//! (§4.7), so their handlers run in that order (`reducers` below; no other
//! event reaches more than one of the three).
//!
//! Handlers dispatch on the event type only: the reference's own tests (and
//! so the conformance cases) send org and instance events under other
//! aggregate types.
//!
//! The host scopes every mutation to the event's tenant and stamps
//! `change_date`/`sequence` (and `creation_date` on inserts) unless a
//! mutation opts out with `no_bump()`, which the unbumped user-state changes
//! do (reference §9.4).

mod auth_method;
mod authn_key;
mod field;
mod human;
mod login_name;
mod machine;
mod metadata;
mod notification;
mod pat;
mod user;

projection_sdk::family! {
    /// The users table family.
    Users,
    name: "users",
    version: "0.2.1",
    tables: [
        user,
        human,
        machine,
        notification,
        metadata,
        login_name::user,
        login_name::domain,
        login_name::policy,
        auth_method,
        pat,
        authn_key,
    ],
    reducers: [
        user,
        human,
        machine,
        notification,
        metadata,
        login_name::domain,
        login_name::policy,
        login_name::user,
        auth_method,
        pat,
        authn_key,
    ],
    views: [login_name::view::view],
}

#[cfg(test)]
mod tests;

#[cfg(test)]
projection_conformance::passes!(
    Users,
    "user",
    "user_metadata",
    "login_name",
    "user_auth_method",
    "personal_access_token",
);
