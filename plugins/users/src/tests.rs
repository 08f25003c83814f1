//! Family-wide tests: the description and events that reach several tables.

use projection_sdk::testing::{
    assert_describes, assert_every_subscription_scopes, assert_rejects_unknown, assert_subscribes,
    event, no_errors,
};
use projection_sdk::{Context, Family, Mutation, NoEvents, TableModule, delete};

use crate::Users;

#[test]
fn describes_tenant_scoped_stamped_tables() {
    assert_describes::<Users>(
        "users",
        "0.2.1",
        &[
            "users_projection",
            "users_humans_projection",
            "users_machines_projection",
            "users_notifications_projection",
            "user_metadata_projection",
            "login_names_users_projection",
            "login_names_domains_projection",
            "login_names_policies_projection",
            "user_auth_methods_projection",
            "personal_access_tokens_projection",
            "authn_keys_projection",
        ],
    );
    assert_subscribes::<Users>(
        &[
            ("user", "user.human.added"),
            ("user", "user.human.mfa.otp.verified"),
            ("user", "user.pat.added"),
            ("org", "org.domain.primary.set"),
            ("instance", "instance.policy.domain.added"),
            ("project", "project.application.config.oidc.changed"),
            ("target", "target.key.activated"),
        ],
        &[("user", "org.removed")],
    );
}

#[test]
fn every_mutation_passes_the_hosts_checks() {
    assert_every_subscription_scopes::<Users>(&[None, Some("{}")], no_errors);
}

#[test]
fn user_removed_reaches_every_user_table_but_the_sub_tables() {
    let e = event("user", "user.removed", None);
    let expected = vec![
        delete("users_projection").eq("id", "agg-id").build(),
        delete("user_metadata_projection")
            .eq("user_id", "agg-id")
            .build(),
        delete("login_names_users_projection")
            .eq("id", "agg-id")
            .build(),
        delete("user_auth_methods_projection")
            .eq("resource_owner", "ro-id")
            .eq("user_id", "agg-id")
            .build(),
        delete("personal_access_tokens_projection")
            .eq("user_id", "agg-id")
            .build(),
        delete("authn_keys_projection")
            .eq("aggregate_id", "agg-id")
            .build(),
    ];
    assert_eq!(Users::handle(&e, &Context::new(&NoEvents)), Ok(expected));
}

/// The login-name tables in the order the reference deletes an org's or an
/// instance's rows from them (reference §4.7).
const LOGIN_NAME_REMOVAL_ORDER: [&str; 3] = [
    "login_names_domains_projection",
    "login_names_policies_projection",
    "login_names_users_projection",
];

/// The mutations of `e` on the login-name tables.
fn login_name_mutations(e: &projection_sdk::Event) -> Vec<Mutation> {
    let mutations = Users::handle(e, &Context::new(&NoEvents)).unwrap();
    mutations
        .into_iter()
        .filter(|m| m.table().starts_with("login_names_"))
        .collect()
}

#[test]
fn instance_removed_clears_every_table_but_the_sub_tables() {
    let e = event("instance", "instance.removed", None);
    let mutations = Users::handle(&e, &Context::new(&NoEvents)).unwrap();
    let tables: Vec<&str> = mutations.iter().map(|m| m.table()).collect();
    let expected = [
        "users_projection",
        "user_metadata_projection",
        "login_names_domains_projection",
        "login_names_policies_projection",
        "login_names_users_projection",
        "user_auth_methods_projection",
        "personal_access_tokens_projection",
        "authn_keys_projection",
    ];
    assert_eq!(tables, expected);
}

#[test]
fn instance_removed_clears_login_names_domains_policies_users() {
    let e = event("instance", "instance.removed", None);
    let expected: Vec<Mutation> = LOGIN_NAME_REMOVAL_ORDER
        .map(|t| delete(t).eq("instance_id", "instance-id").build())
        .to_vec();
    assert_eq!(login_name_mutations(&e), expected);
}

#[test]
fn org_removed_clears_login_names_domains_policies_users() {
    let e = event("org", "org.removed", None);
    let expected: Vec<Mutation> = LOGIN_NAME_REMOVAL_ORDER
        .map(|t| delete(t).eq("resource_owner", "agg-id").build())
        .to_vec();
    assert_eq!(login_name_mutations(&e), expected);
}

#[test]
fn org_removed_deletes_the_orgs_rows_of_every_table_but_the_sub_tables() {
    let e = event("org", "org.removed", None);
    let by_owner = |t: &str| delete(t).eq("resource_owner", "agg-id").build();
    let expected = vec![
        by_owner("users_projection"),
        by_owner("user_metadata_projection"),
        by_owner("login_names_domains_projection"),
        by_owner("login_names_policies_projection"),
        by_owner("login_names_users_projection"),
        by_owner("user_auth_methods_projection"),
        by_owner("personal_access_tokens_projection"),
        by_owner("authn_keys_projection"),
    ];
    assert_eq!(Users::handle(&e, &Context::new(&NoEvents)), Ok(expected));
}

#[test]
fn reducers_cover_every_declared_table_once() {
    let names = |modules: &[TableModule]| {
        let mut names: Vec<String> = modules.iter().map(|m| m.table().name).collect();
        names.sort_unstable();
        names
    };
    assert_eq!(names(Users::REDUCERS), names(Users::TABLES));
}

#[test]
fn rejects_unknown_and_empty_events() {
    assert_rejects_unknown::<Users>(&[("org", "org.added")]);
}
