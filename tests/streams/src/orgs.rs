//! Events of the `org` aggregate, read by the orgs family (and by the users
//! and user grants families for domains, domain policies and removals): orgs
//! with their set-up, domains and their verification, members, metadata,
//! domain policies, deactivation and removal.

use serde_json::{Map, Value, json};

use crate::generator::{Action, Gen};
use crate::world::{Member, Org, OrgDomain};
use crate::{policies, text, users};

/// The org actions.
pub(crate) const ACTIONS: &[Action] = &[
    Action::new("org.added", 4, added),
    Action::new("org.changed", 2, changed),
    Action::new("org.deactivated", 1, deactivated),
    Action::new("org.reactivated", 2, reactivated),
    Action::new("org.domain.added", 3, domain_added),
    Action::new("org.domain.verification.added", 2, verification_added),
    Action::new("org.domain.verified", 2, verified),
    Action::new("org.domain.primary.set", 2, primary_set),
    Action::new("org.domain.removed", 1, domain_removed),
    Action::new("org.member.added", 5, member_added),
    Action::new("org.member.changed", 3, member_changed),
    Action::new("org.member.removed", 2, member_removed),
    Action::new("org.metadata.set", 4, metadata_set),
    Action::new("org.metadata.removed", 2, metadata_removed),
    Action::new("org.metadata.removed.all", 1, metadata_removed_all),
    Action::new("org.policy.domain.added", 2, policy_added),
    Action::new("org.policy.domain.changed", 2, policy_changed),
    Action::new("org.policy.domain.removed", 1, policy_removed),
    Action::new("org.removed", 1, removed).writes(&[REMOVED_WITH_PROJECTS, REMOVED_WITH_POLICIES]),
];

/// Org member roles.
const ROLES: &[&str] = &[
    "ORG_OWNER",
    "ORG_USER_MANAGER",
    "ORG_OWNER_VIEWER",
    "ORG_PROJECT_CREATOR",
    "ORG_USER_PERMISSION_EDITOR",
    "ORG_SETTINGS_MANAGER",
];

/// Org metadata keys.
const METADATA_KEYS: &[&str] = &[
    "tier",
    "billing.contact",
    "cost-center",
    "région",
    "社内コード",
    "notes",
    "logo.svg",
];

/// Emit an event of org `org`.
fn emit(g: &mut Gen, t: usize, org: usize, event_type: &str, payload: Option<Value>) {
    let id = g.tenants[t].orgs[org].id.clone();
    g.emit(t, ("org", &id), event_type, &id, payload);
}

/// A live org that passes `keep`, chosen at random.
fn pick(g: &mut Gen, t: usize, keep: impl Fn(&Org) -> bool) -> Option<usize> {
    let orgs = g.tenants[t].live_orgs(|_, o| keep(o));
    g.rng.pick(&orgs).copied()
}

/// Add an org named `name` with its generated domain, verified and
/// primary, as Zitadel's org creation does; returns its index.
pub(crate) fn add(g: &mut Gen, t: usize, name: String) -> usize {
    let id = g.id();
    let org = g.tenants[t].orgs.len();
    g.tenants[t].orgs.push(Org {
        id,
        removed: false,
        active: true,
        domains: Vec::new(),
        members: Vec::new(),
        metadata: Vec::new(),
        policy: false,
        policies: policies::Owner::default(),
    });
    emit(g, t, org, "org.added", Some(json!({ "name": name })));
    let label = g.tenants[t].domain_label("org-");
    let domain = format!("{label}.{}", g.tenants[t].primary_domain());
    for event_type in [
        "org.domain.added",
        "org.domain.verified",
        "org.domain.primary.set",
    ] {
        emit(g, t, org, event_type, Some(json!({ "domain": domain })));
    }
    g.tenants[t].orgs[org].domains.push(OrgDomain {
        name: domain,
        validation: false,
        verified: true,
        primary: true,
    });
    org
}

/// Make `user` a member of `org`.
pub(crate) fn member_add(g: &mut Gen, t: usize, org: usize, user: usize, roles: Vec<String>) {
    let user_id = g.tenants[t].users[user].id.clone();
    emit(
        g,
        t,
        org,
        "org.member.added",
        Some(json!({ "userId": user_id, "roles": roles })),
    );
    g.tenants[t].orgs[org].members.push(Member { user, roles });
}

/// Remove the memberships of `user` in every org as part of the user's
/// removal.
pub(crate) fn member_cascade(g: &mut Gen, t: usize, user: usize) {
    for org in g.tenants[t].live_orgs(|_, o| o.members.iter().any(|m| m.user == user)) {
        g.tenants[t].orgs[org].members.retain(|m| m.user != user);
        let user_id = g.tenants[t].users[user].id.clone();
        emit(
            g,
            t,
            org,
            "org.member.cascade.removed",
            Some(json!({ "userId": user_id })),
        );
    }
}

/// A new org with its first user as owner, in one transaction.
fn added(g: &mut Gen, t: usize) -> bool {
    let name = text::org_name(&mut g.rng);
    let org = add(g, t, name);
    let creation = if g.rng.chance(80) {
        users::Creation::Added
    } else {
        users::Creation::SelfRegistered
    };
    let user = users::add_human(g, t, org, creation);
    member_add(g, t, org, user, vec!["ORG_OWNER".to_owned()]);
    true
}

fn changed(g: &mut Gen, t: usize) -> bool {
    let Some(org) = pick(g, t, |_| true) else {
        return false;
    };
    let name = text::org_name(&mut g.rng);
    emit(g, t, org, "org.changed", Some(json!({ "name": name })));
    true
}

fn deactivated(g: &mut Gen, t: usize) -> bool {
    let default = g.tenants[t].default_org;
    let orgs = g.tenants[t].live_orgs(|o, org| o != default && org.active);
    let Some(&org) = g.rng.pick(&orgs) else {
        return false;
    };
    emit(g, t, org, "org.deactivated", None);
    g.tenants[t].orgs[org].active = false;
    true
}

fn reactivated(g: &mut Gen, t: usize) -> bool {
    let Some(org) = pick(g, t, |o| !o.active) else {
        return false;
    };
    emit(g, t, org, "org.reactivated", None);
    g.tenants[t].orgs[org].active = true;
    true
}

fn domain_added(g: &mut Gen, t: usize) -> bool {
    let Some(org) = pick(g, t, |_| true) else {
        return false;
    };
    let label = g.tenants[t].domain_label("d");
    let domain = match g.rng.below(4) {
        0 => format!("{label}.example.com"),
        1 => format!("{label}.Example.ORG"),
        2 => format!("login.{label}.co.uk"),
        _ => format!("{label}.xn--bcher-kva.ch"),
    };
    emit(
        g,
        t,
        org,
        "org.domain.added",
        Some(json!({ "domain": domain })),
    );
    g.tenants[t].orgs[org].domains.push(OrgDomain {
        name: domain,
        validation: false,
        verified: false,
        primary: false,
    });
    true
}

/// A live org and one of its domains that passes `keep`.
fn pick_domain(g: &mut Gen, t: usize, keep: impl Fn(&OrgDomain) -> bool) -> Option<(usize, usize)> {
    let tenant = &g.tenants[t];
    let found: Vec<(usize, usize)> = tenant
        .live_orgs(|_, _| true)
        .into_iter()
        .flat_map(|o| {
            let domains = &tenant.orgs[o].domains;
            (0..domains.len())
                .filter(|d| keep(&domains[*d]))
                .map(move |d| (o, d))
        })
        .collect();
    g.rng.pick(&found).copied()
}

fn verification_added(g: &mut Gen, t: usize) -> bool {
    let Some((org, d)) = pick_domain(g, t, |d| !d.verified && !d.validation) else {
        return false;
    };
    let domain = g.tenants[t].orgs[org].domains[d].name.clone();
    let payload = json!({
        "domain": domain,
        "validationType": g.rng.range(1, 2),
        "validationCode": text::crypto_value(&mut g.rng),
    });
    emit(g, t, org, "org.domain.verification.added", Some(payload));
    g.tenants[t].orgs[org].domains[d].validation = true;
    true
}

fn verified(g: &mut Gen, t: usize) -> bool {
    let Some((org, d)) = pick_domain(g, t, |d| !d.verified) else {
        return false;
    };
    let domain = g.tenants[t].orgs[org].domains[d].name.clone();
    emit(
        g,
        t,
        org,
        "org.domain.verified",
        Some(json!({ "domain": domain })),
    );
    g.tenants[t].orgs[org].domains[d].verified = true;
    true
}

fn primary_set(g: &mut Gen, t: usize) -> bool {
    let Some((org, d)) = pick_domain(g, t, |d| d.verified && !d.primary) else {
        return false;
    };
    let domain = g.tenants[t].orgs[org].domains[d].name.clone();
    emit(
        g,
        t,
        org,
        "org.domain.primary.set",
        Some(json!({ "domain": domain })),
    );
    for (i, each) in g.tenants[t].orgs[org].domains.iter_mut().enumerate() {
        each.primary = i == d;
    }
    true
}

fn domain_removed(g: &mut Gen, t: usize) -> bool {
    let Some((org, d)) = pick_domain(g, t, |d| !d.primary) else {
        return false;
    };
    let domain = g.tenants[t].orgs[org].domains.remove(d).name;
    emit(
        g,
        t,
        org,
        "org.domain.removed",
        Some(json!({ "domain": domain })),
    );
    true
}

fn member_added(g: &mut Gen, t: usize) -> bool {
    let Some(org) = pick(g, t, |_| true) else {
        return false;
    };
    let tenant = &g.tenants[t];
    let members = &tenant.orgs[org].members;
    let candidates: Vec<usize> = tenant
        .live_users(|u| !u.legacy())
        .into_iter()
        .filter(|u| !members.iter().any(|m| m.user == *u))
        .collect();
    let own: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|u| tenant.users[*u].org == org)
        .collect();
    let from = if !own.is_empty() && g.rng.chance(80) {
        own
    } else {
        candidates
    };
    let Some(&user) = g.rng.pick(&from) else {
        return false;
    };
    let roles = g
        .rng
        .subset(ROLES, 1)
        .into_iter()
        .map(str::to_owned)
        .collect();
    member_add(g, t, org, user, roles);
    true
}

/// A live org and one of its members whose user exists.
fn pick_member(g: &mut Gen, t: usize) -> Option<(usize, usize)> {
    let tenant = &g.tenants[t];
    let found: Vec<(usize, usize)> = tenant
        .live_orgs(|_, _| true)
        .into_iter()
        .flat_map(|o| {
            let members = &tenant.orgs[o].members;
            (0..members.len())
                .filter(|m| tenant.user_live(members[*m].user))
                .map(move |m| (o, m))
        })
        .collect();
    g.rng.pick(&found).copied()
}

fn member_changed(g: &mut Gen, t: usize) -> bool {
    let Some((org, m)) = pick_member(g, t) else {
        return false;
    };
    let roles: Vec<String> = g
        .rng
        .subset(ROLES, 1)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let user = g.tenants[t].orgs[org].members[m].user;
    let user_id = g.tenants[t].users[user].id.clone();
    emit(
        g,
        t,
        org,
        "org.member.changed",
        Some(json!({ "userId": user_id, "roles": roles })),
    );
    g.tenants[t].orgs[org].members[m].roles = roles;
    true
}

fn member_removed(g: &mut Gen, t: usize) -> bool {
    let Some((org, m)) = pick_member(g, t) else {
        return false;
    };
    let member = g.tenants[t].orgs[org].members.remove(m);
    let user_id = g.tenants[t].users[member.user].id.clone();
    emit(
        g,
        t,
        org,
        "org.member.removed",
        Some(json!({ "userId": user_id })),
    );
    true
}

/// A metadata value: text in many scripts, sometimes empty or long.
pub(crate) fn metadata_value(g: &mut Gen) -> String {
    let plain = match g.rng.below(8) {
        0 => String::new(),
        1 => {
            let n = g.rng.range(1024, 4096);
            text::long(&mut g.rng, n)
        }
        2 => "{\"json\": \"value with \\\"quotes\\\"\", \"n\": 1}".to_owned(),
        _ => {
            let n = g.rng.range(1, 5);
            text::words(&mut g.rng, n)
        }
    };
    text::base64(plain.as_bytes())
}

fn metadata_set(g: &mut Gen, t: usize) -> bool {
    let Some(org) = pick(g, t, |_| true) else {
        return false;
    };
    let key = g.rng.one(METADATA_KEYS).to_owned();
    let value = metadata_value(g);
    emit(
        g,
        t,
        org,
        "org.metadata.set",
        Some(json!({ "key": key, "value": value })),
    );
    let keys = &mut g.tenants[t].orgs[org].metadata;
    if !keys.contains(&key) {
        keys.push(key);
    }
    true
}

fn metadata_removed(g: &mut Gen, t: usize) -> bool {
    let Some(org) = pick(g, t, |o| !o.metadata.is_empty()) else {
        return false;
    };
    let keys = &mut g.tenants[t].orgs[org].metadata;
    let key = keys.remove(g.rng.below(keys.len()));
    emit(
        g,
        t,
        org,
        "org.metadata.removed",
        Some(json!({ "key": key })),
    );
    true
}

fn metadata_removed_all(g: &mut Gen, t: usize) -> bool {
    let Some(org) = pick(g, t, |o| !o.metadata.is_empty()) else {
        return false;
    };
    g.tenants[t].orgs[org].metadata.clear();
    emit(g, t, org, "org.metadata.removed.all", None);
    true
}

fn policy_added(g: &mut Gen, t: usize) -> bool {
    let Some(org) = pick(g, t, |o| !o.policy) else {
        return false;
    };
    let payload = json!({
        "userLoginMustBeDomain": g.rng.coin(),
        "validateOrgDomains": g.rng.coin(),
        "smtpSenderAddressMatchesInstanceDomain": g.rng.coin(),
    });
    emit(g, t, org, "org.policy.domain.added", Some(payload));
    g.tenants[t].orgs[org].policy = true;
    true
}

fn policy_changed(g: &mut Gen, t: usize) -> bool {
    let Some(org) = pick(g, t, |o| o.policy) else {
        return false;
    };
    let mut payload = Map::new();
    for key in ["userLoginMustBeDomain", "validateOrgDomains"] {
        if g.rng.coin() {
            payload.insert(key.to_owned(), Value::Bool(g.rng.coin()));
        }
    }
    if payload.is_empty() {
        payload.insert(
            "smtpSenderAddressMatchesInstanceDomain".to_owned(),
            Value::Bool(g.rng.coin()),
        );
    }
    emit(
        g,
        t,
        org,
        "org.policy.domain.changed",
        Some(Value::Object(payload)),
    );
    true
}

fn policy_removed(g: &mut Gen, t: usize) -> bool {
    let Some(org) = pick(g, t, |o| o.policy) else {
        return false;
    };
    emit(g, t, org, "org.policy.domain.removed", None);
    g.tenants[t].orgs[org].policy = false;
    true
}

/// The situation of an org removed while it owns live projects.
const REMOVED_WITH_PROJECTS: &str = "org.removed/with projects";

/// The situation of an org removed while it has policies of its own.
const REMOVED_WITH_POLICIES: &str = "org.removed/with policies";

/// Remove an org other than the default one (while the removal of an org
/// owning live projects or having policies of its own was never written,
/// such an org): half the time
/// after removing its users one by one (each in its own transaction),
/// otherwise while its users remain.
fn removed(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let default = tenant.default_org;
    let owning = |o: usize| {
        tenant
            .live_projects()
            .into_iter()
            .any(|p| tenant.projects[p].org == o)
    };
    let orgs = tenant.live_orgs(|o, _| o != default);
    let fresh_projects = g.fresh(REMOVED_WITH_PROJECTS);
    let fresh_policies = g.fresh(REMOVED_WITH_POLICIES);
    let fresh = fresh_projects || fresh_policies;
    let preferred: Vec<usize> = orgs
        .iter()
        .copied()
        .filter(|o| {
            (fresh_projects && owning(*o)) || (fresh_policies && policies::any(&tenant.orgs[*o]))
        })
        .collect();
    let from = if fresh && !preferred.is_empty() {
        preferred
    } else if fresh && g.strict && !g.fresh("org.removed") {
        return false;
    } else {
        orgs
    };
    let Some(&org) = g.rng.pick(&from) else {
        return false;
    };
    if g.rng.coin() {
        for user in g.tenants[t].live_users(|u| u.org == org) {
            if g.tenants[t].admin == Some(user) {
                continue;
            }
            users::remove(g, t, user);
            g.commit();
        }
    }
    let projects = g.tenants[t]
        .live_projects()
        .into_iter()
        .any(|p| g.tenants[t].projects[p].org == org);
    emit(g, t, org, "org.removed", None);
    if projects {
        g.mark(REMOVED_WITH_PROJECTS);
    }
    if policies::any(&g.tenants[t].orgs[org]) {
        g.mark(REMOVED_WITH_POLICIES);
    }
    g.tenants[t].orgs[org].removed = true;
    true
}
