//! The sessions table family (reference §5): sessions and pending auth
//! requests, the login flow's short-lived state.
//!
//! | table | module |
//! |---|---|
//! | `sessions_projection` | `session/` |
//! | `auth_requests_projection` | `auth_request.rs` |
//!
//! Why these two tables, and apart from the users tables: both hold the
//! login flow's short-lived state (a session lives until it is terminated or
//! its user is deactivated, locked or removed; an auth request until it
//! succeeds or fails), both are written at the highest rate of any table in
//! a live system (every check of every login), and both are written from the
//! event alone, without look-ups. A family is the unit that is deployed,
//! rebuilt and stopped on failure: a failing user event must not stop the
//! login tables of its tenant, and rebuilding the users tables must not
//! replay every login. The four user events that reach sessions
//! (`user.deactivated`, `user.locked`, `user.removed`,
//! `user.human.password.changed`) are subscribed to here as well.
//!
//! Every table module states its table and its handlers (`event types →
//! reducer`, removals declared); [`Sessions`] runs them in table order, so
//! `instance.removed` deletes sessions first, then auth requests. No other
//! event reaches both tables.
//!
//! The host scopes every mutation to the event's tenant and stamps
//! `change_date`/`sequence` (and `creation_date` on inserts) unless a
//! mutation opts out with `no_bump()`, which the password change's clearing
//! of `password_checked_at` does (reference §9.4).

mod auth_request;
mod session;

projection_sdk::family! {
    /// The sessions table family.
    Sessions, name: "sessions", version: "0.1.0", tables: [session, auth_request]
}

#[cfg(test)]
projection_conformance::passes!(Sessions, "session", "auth_request");

#[cfg(test)]
mod tests;
