//! `login_names_projection`: the reference's login-names view.
//!
//! For each user, the policy is the org's own domain policy if it has one,
//! else the instance default. When the policy says the login name must carry
//! a domain, the user has one login name per verified domain of the org
//! (`user@domain`, primary as the domain is); with no verified domain, one
//! name `user@`, primary. Otherwise the one login name is the user name,
//! primary.
//!
//! The reference picks the policy with `ORDER BY is_default LIMIT 1`; here
//! the org policy and the default are two left joins and the org's wins
//! (`COALESCE`). Both give one policy per user: the key is (tenant, owner)
//! and the default's owner is the instance.

use projection_sdk::View;

use super::{domain, policy, user};

/// The view's name.
pub(crate) const VIEW: &str = "login_names_projection";

/// The view declaration.
pub(crate) fn view() -> View {
    let mut v = View::new(VIEW, user::TABLE, "u");
    let owner = v.column("u", "resource_owner");

    // The org's own policy.
    let org_owner = v.column("org_policy", "resource_owner");
    let org_is_default = v.column("org_policy", "is_default");
    let same_org = v.equals(org_owner, owner);
    let not_default = v.not(org_is_default);
    v.left_join(policy::TABLE, "org_policy", &[same_org, not_default]);

    // The instance default.
    let default_is_default = v.column("default_policy", "is_default");
    v.left_join(policy::TABLE, "default_policy", &[default_is_default]);

    let org_must = v.column("org_policy", "must_be_domain");
    let default_must = v.column("default_policy", "must_be_domain");
    let no = v.literal(false);
    let must_be_domain = v.coalesce(&[org_must, default_must, no]);

    // The org's verified domains, only when the policy asks for them.
    let domain_owner = v.column("d", "resource_owner");
    let same_domain_org = v.equals(domain_owner, owner);
    v.left_join(domain::TABLE, "d", &[same_domain_org, must_be_domain]);

    let id = v.column("u", "id");
    let user_name = v.column("u", "user_name");
    let user_name_lower = v.column("u", "user_name_lower");
    let at = v.literal("@");
    let empty = v.literal("");
    let domain_name = v.column("d", "name");
    let domain_name = v.coalesce(&[domain_name, empty]);
    let domain_lower = v.column("d", "name_lower");
    let domain_lower = v.coalesce(&[domain_lower, empty]);
    let with_domain = v.concat(&[user_name, at, domain_name]);
    let with_domain_lower = v.concat(&[user_name_lower, at, domain_lower]);
    let login_name = v.when(must_be_domain, with_domain, user_name);
    let login_name_lower = v.when(must_be_domain, with_domain_lower, user_name_lower);
    let yes = v.literal(true);
    let domain_primary = v.column("d", "is_primary");
    let domain_primary = v.coalesce(&[domain_primary, yes]);
    let is_primary = v.when(must_be_domain, domain_primary, yes);
    let tenant = v.column("u", "instance_id");

    v.output("user_id", id);
    v.output("login_name", login_name);
    v.output("is_primary", is_primary);
    v.output("instance_id", tenant);
    v.output("resource_owner", owner);
    v.output("login_name_lower", login_name_lower);
    v
}
