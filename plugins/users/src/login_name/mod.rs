//! Login names (reference §4.7): three helper tables the reference's
//! `login_names_projection` view reads.
//!
//! | table | module |
//! |---|---|
//! | `login_names_users_projection` | `user.rs` |
//! | `login_names_domains_projection` | `domain.rs` |
//! | `login_names_policies_projection` | `policy.rs` |
//!
//! The login names themselves (one per user and verified domain of the
//! user's org, under the org's domain policy or the instance default) are
//! computed at read time by the view. The contract declares tables only, so
//! this family does not declare the view; the reference's lower-case
//! generated columns (`user_name_lower`, `name_lower`) and the indexes over
//! them are left out for the same reason (no generated columns or expression
//! indexes in the contract).
//!
//! The reference's tables have no change_date/sequence; the canonical schema
//! adds them and the host stamps them from the event that last touched the
//! row.

pub(crate) mod domain;
pub(crate) mod policy;
pub(crate) mod user;
