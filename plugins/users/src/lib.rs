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
//! Every table module offers its table declaration, its subscriptions and a
//! reducer that answers `None` for events it does not care about.
//! [`Users::handle`] runs every reducer in table order and concatenates their
//! mutations, so a multi-table event yields "bump the user, update humans,
//! update notifications" in the reference's order. The one exception is the
//! login-name tables: the reference removes an org's or an instance's rows
//! from them in the order domains, policies, users (§4.7), so their reducers
//! run in that order ([`REDUCERS`]).
//!
//! Reducers dispatch on the event type only: the reference's own tests (and
//! so the conformance cases) send org and instance events under other
//! aggregate types.
//!
//! The host scopes every mutation to the event's tenant and stamps
//! `change_date`/`sequence` (and `creation_date` on inserts) unless a
//! mutation opts out with `no_bump()`, which the unbumped user-state changes
//! do (reference §9.4).

use projection_sdk::{
    Context, Description, Event, Family, Mutation, ProjectionError, TableModule, describe_tables,
    handle_tables,
};

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

use login_name::{
    domain as login_name_domain, policy as login_name_policy, user as login_name_user,
};

/// The family's name.
pub const NAME: &str = "users";

/// The plugin version.
pub const VERSION: &str = "0.2.1";

/// The table modules, in table order.
const TABLES: [TableModule; 11] = projection_sdk::table_modules!(
    user,
    human,
    machine,
    notification,
    metadata,
    login_name_user,
    login_name_domain,
    login_name_policy,
    auth_method,
    pat,
    authn_key
);

/// The table modules in the order their reducers run: table order, but the
/// login-name tables as the reference's login-name handler writes them on
/// `org.removed` and `instance.removed` (domains, policies, users). No other
/// event reaches more than one of the three.
const REDUCERS: [TableModule; 11] = projection_sdk::table_modules!(
    user,
    human,
    machine,
    notification,
    metadata,
    login_name_domain,
    login_name_policy,
    login_name_user,
    auth_method,
    pat,
    authn_key
);

/// The users table family.
#[derive(Debug, Default, Clone, Copy)]
pub struct Users;

impl Family for Users {
    fn describe() -> Description {
        describe_tables(NAME, VERSION, &TABLES).view(login_name::view::view())
    }

    fn handle(event: &Event, ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
        handle_tables(&REDUCERS, event, ctx)
    }
}

#[cfg(feature = "export")]
projection_sdk::export!(Users);

#[cfg(test)]
mod tests;

#[cfg(test)]
mod conformance {
    use projection_sdk::conformance::{load_cases, run_native};

    /// The case files of the family, with their case counts.
    const FILES: [(&str, usize); 5] = [
        ("user", 40),
        ("user_metadata", 6),
        ("login_name", 13),
        ("user_auth_method", 16),
        ("personal_access_token", 4),
    ];

    #[test]
    fn shared_conformance_cases_pass_natively() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance");
        for (file, count) in FILES {
            let cases = load_cases(&dir.join(format!("{file}.jsonl"))).unwrap();
            let report = run_native::<super::Users>(&cases);
            assert!(report.all_passed(), "{file}: {report}");
            assert_eq!(
                report.summary(),
                format!("{count} passed, 0 failed"),
                "{file}"
            );
        }
    }
}
