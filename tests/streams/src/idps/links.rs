//! The links of IdPs: the login policies offering them
//! (`instance.policy.login.idpprovider.*` on the instance's default policy,
//! `org.policy.login.idpprovider.*` on an org's, payload `idpConfigId` and,
//! for an org's IdP, `idpProviderType` 1) and the humans linked to
//! external accounts of them (`user.human.externalidp.*` on the user,
//! payload `idpConfigId`, the external account's id as `userId`).
//!
//! A user link's account id is shaped like the provider's (numbers, UUIDs,
//! LDAP DNs, email addresses, Apple's dotted ids) and unique per IdP; it
//! may be migrated to a new id and its user name changed. Removing a legacy
//! config writes the cascade removals of its links ([`cascade`]).

use serde_json::{Map, Value, json};

use super::providers::{self, Provider};
use super::{Kind, PolicyLink, UserLink, emit, live, live_idps};
use crate::generator::{Action, Gen};
use crate::world::Tenant;
use crate::{text, users};

/// The login policies' links added, at instance and at org level.
const POLICY_ADDED: [&str; 2] = [
    "instance.policy.login.idpprovider.added",
    "org.policy.login.idpprovider.added",
];
/// The login policies' links removed.
const POLICY_REMOVED: [&str; 2] = [
    "instance.policy.login.idpprovider.removed",
    "org.policy.login.idpprovider.removed",
];
/// The login policies' links removed with their IdP.
pub(super) const POLICY_CASCADE: [&str; 2] = [
    "instance.policy.login.idpprovider.cascade.removed",
    "org.policy.login.idpprovider.cascade.removed",
];
/// A user linked.
const USER_ADDED: &str = "user.human.externalidp.added";
/// A user link removed.
const USER_REMOVED: &str = "user.human.externalidp.removed";
/// A user link removed with its IdP.
pub(super) const USER_CASCADE: &str = "user.human.externalidp.cascade.removed";
/// A user link's account id migrated.
const ID_MIGRATED: &str = "user.human.externalidp.id.migrated";
/// A user link's user name changed.
const USERNAME_CHANGED: &str = "user.human.externalidp.username.changed";

/// The situation of a user link removed after its IdP (a template) was.
pub(super) const AFTER_IDP: &str = "user.human.externalidp.removed/after its idp";

/// The link actions.
pub(super) const ACTIONS: &[Action] = &[
    Action::new(POLICY_ADDED[0], 4, policy_added).writes(&[POLICY_ADDED[1]]),
    Action::new(USER_ADDED, 5, user_added),
    Action::new(USERNAME_CHANGED, 1, username_changed),
    Action::new(ID_MIGRATED, 1, id_migrated),
    Action::new(POLICY_REMOVED[0], 1, policy_removed).writes(&[POLICY_REMOVED[1]]),
    Action::new(USER_REMOVED, 1, user_removed).writes(&[AFTER_IDP]),
];

/// The index of an event type list for the policy of `org` (the
/// instance's default policy when `None`).
fn at(org: Option<usize>) -> usize {
    usize::from(org.is_some())
}

/// Whether a policy link exists: its IdP and the org of its policy live.
fn policy_live(tenant: &Tenant, link: &PolicyLink) -> bool {
    live(tenant, link.idp) && link.policy.is_none_or(|o| tenant.org_live(o))
}

/// The cascade events removing legacy config `idp` writes: one per live
/// login policy link and per user link of a live user.
pub(super) fn cascades(tenant: &Tenant, idp: usize) -> Vec<&'static str> {
    let policies = tenant
        .idps
        .policy_links
        .iter()
        .filter(|l| l.idp == idp && policy_live(tenant, l))
        .map(|l| POLICY_CASCADE[at(l.policy)]);
    let users = tenant
        .idps
        .user_links
        .iter()
        .filter(|l| l.idp == idp && tenant.user_live(l.user))
        .map(|_| USER_CASCADE);
    policies.chain(users).collect()
}

/// Write the cascade removals of the links of legacy config `idp` (after
/// its removal, in the same transaction) and forget its links.
pub(super) fn cascade(g: &mut Gen, t: usize, idp: usize) {
    let tenant = &g.tenants[t];
    let id = tenant.idps.list[idp].id.clone();
    let policies: Vec<PolicyLink> = tenant
        .idps
        .policy_links
        .iter()
        .filter(|l| l.idp == idp && policy_live(tenant, l))
        .copied()
        .collect();
    let accounts: Vec<(usize, String)> = tenant
        .idps
        .user_links
        .iter()
        .filter(|l| l.idp == idp && tenant.user_live(l.user))
        .map(|l| (l.user, l.external.clone()))
        .collect();
    for link in policies {
        let payload = json!({ "idpConfigId": id });
        emit(g, t, link.policy, POLICY_CASCADE[at(link.policy)], payload);
    }
    for (user, external) in accounts {
        let payload = json!({ "idpConfigId": id, "userId": external });
        users::emit(g, t, user, USER_CASCADE, Some(payload));
    }
    let idps = &mut g.tenants[t].idps;
    idps.policy_links.retain(|l| l.idp != idp);
    idps.user_links.retain(|l| l.idp != idp);
}

/// Offer an active IdP at a login policy that does not offer it yet: an
/// instance's IdP at the default policy or an org's, an org's IdP at its
/// own (outside strict mode, while a cascade removal at a level was never
/// written, a legacy config there).
fn policy_added(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let orgs = tenant.live_orgs(|_, _| true);
    let mut options: Vec<(PolicyLink, String)> = Vec::new();
    for idp in live_idps(tenant, |i| i.active) {
        let i = &tenant.idps.list[idp];
        let policies: Vec<Option<usize>> = match i.org {
            None => std::iter::once(None)
                .chain(orgs.iter().copied().map(Some))
                .collect(),
            Some(o) => vec![Some(o)],
        };
        for policy in policies {
            let link = PolicyLink { idp, policy };
            if tenant.idps.policy_links.contains(&link) {
                continue;
            }
            let cascade = POLICY_CASCADE[at(policy)];
            let legacy = matches!(i.kind, Kind::Legacy { .. });
            let reason = if legacy && !g.strict && g.fresh(cascade) {
                cascade
            } else {
                POLICY_ADDED[at(policy)]
            };
            options.push((link, reason.to_owned()));
        }
    }
    let Some(link) = g.choose(&options) else {
        return false;
    };
    let payload = offered(g, t, link.idp);
    emit(g, t, link.policy, POLICY_ADDED[at(link.policy)], payload);
    g.tenants[t].idps.policy_links.push(link);
    true
}

/// Offer IdP `idp`, just added, at its owner's login policy (the
/// instance's default policy or its org's), in a transaction of its own,
/// as an admin does right after adding an IdP.
pub(super) fn offer(g: &mut Gen, t: usize, idp: usize) {
    let policy = g.tenants[t].idps.list[idp].org;
    g.commit();
    emit(g, t, policy, POLICY_ADDED[at(policy)], offered(g, t, idp));
    g.tenants[t]
        .idps
        .policy_links
        .push(PolicyLink { idp, policy });
}

/// The payload offering IdP `idp`: its id and, for an org's IdP, the
/// provider type 1 (Go's `omitempty` leaves out the instance's 0).
fn offered(g: &Gen, t: usize, idp: usize) -> Value {
    let i = &g.tenants[t].idps.list[idp];
    let mut p = Map::new();
    p.insert("idpConfigId".to_owned(), json!(i.id));
    if i.org.is_some() {
        p.insert("idpProviderType".to_owned(), json!(1));
    }
    Value::Object(p)
}

/// Stop offering an IdP at a login policy.
fn policy_removed(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let options: Vec<(PolicyLink, String)> = tenant
        .idps
        .policy_links
        .iter()
        .filter(|l| policy_live(tenant, l) && !kept(g, tenant, l.idp, POLICY_CASCADE[at(l.policy)]))
        .map(|l| (*l, POLICY_REMOVED[at(l.policy)].to_owned()))
        .collect();
    let Some(link) = g.choose(&options) else {
        return false;
    };
    let id = g.tenants[t].idps.list[link.idp].id.clone();
    let payload = json!({ "idpConfigId": id });
    emit(g, t, link.policy, POLICY_REMOVED[at(link.policy)], payload);
    g.tenants[t].idps.policy_links.retain(|l| *l != link);
    true
}

/// A new external account id of an IdP of `kind` for `user`, shaped like
/// the provider's and unique in the tenant.
fn account(g: &mut Gen, t: usize, kind: Kind, user: usize) -> String {
    g.tenants[t].idps.accounts += 1;
    let n = g.tenants[t].idps.accounts;
    let local: String = g.tenants[t].users[user]
        .username
        .split('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    match kind {
        Kind::Template(
            Provider::Google
            | Provider::GitHub
            | Provider::GitHubEnterprise
            | Provider::GitLab
            | Provider::GitLabSelfHosted,
        ) => format!("{}", 10_000_000 + n * 7919 + g.rng.below(7919)),
        Kind::Template(Provider::Ldap) => {
            format!("uid={local}{n},ou=people,dc=corp,dc=example")
        }
        Kind::Template(Provider::Saml) => {
            if g.rng.coin() {
                format!("{local}+{n}@corp.example")
            } else {
                format!("_{}{n}", text::hex(&mut g.rng, 40))
            }
        }
        Kind::Template(Provider::Apple) => {
            let hex = text::hex(&mut g.rng, 32);
            format!("{n:06}.{hex}.{:04}", g.rng.below(10_000))
        }
        Kind::Template(Provider::Zitadel) => g.id(),
        Kind::Template(Provider::Jwt) | Kind::Legacy { oidc: false } => {
            format!("sub-{n}-{}", text::hex(&mut g.rng, 8))
        }
        Kind::Template(Provider::OAuth | Provider::Oidc | Provider::AzureAd)
        | Kind::Legacy { oidc: true } => providers::uuid(g),
    }
}

/// The display name of `user`'s external account: its user name, its
/// name, an odd text, now and then none (left out).
fn display_name(g: &mut Gen, t: usize, user: usize) -> String {
    match g.rng.below(8) {
        0 => String::new(),
        1 => format!("{} {}", text::given(&mut g.rng), text::family(&mut g.rng)),
        2 => text::given(&mut g.rng),
        _ => g.tenants[t].users[user].username.clone(),
    }
}

/// Link a live human to an active IdP of the instance or of its org that
/// it is not linked to yet (outside strict mode, while the cascade removal
/// or the removal after its IdP was never written, to an IdP whose removal
/// leads there).
fn user_added(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let idps = live_idps(tenant, |i| i.active);
    let fresh_cascade = !g.strict && g.fresh(USER_CASCADE);
    let fresh_after = !g.strict && g.fresh(AFTER_IDP);
    let mut options: Vec<((usize, usize), String)> = Vec::new();
    for user in tenant.live_users(|u| u.human()) {
        let org = tenant.users[user].org;
        for &idp in &idps {
            let i = &tenant.idps.list[idp];
            let linked = || {
                tenant
                    .idps
                    .user_links
                    .iter()
                    .any(|l| l.idp == idp && l.user == user)
            };
            if i.org.is_some_and(|o| o != org) || linked() {
                continue;
            }
            let reason = match i.kind {
                Kind::Legacy { .. } if fresh_cascade => USER_CASCADE,
                Kind::Template(_) if fresh_after => AFTER_IDP,
                _ => USER_ADDED,
            };
            options.push(((user, idp), reason.to_owned()));
        }
    }
    let Some((user, idp)) = g.choose(&options) else {
        return false;
    };
    link(g, t, user, idp);
    true
}

/// Link a live human who may use IdP `idp`, just added (of the instance
/// or of the IdP's org), to it in a transaction of its own, as the first
/// login through a new IdP does; nothing when there is no such human.
pub(super) fn link_first(g: &mut Gen, t: usize, idp: usize) {
    let org = g.tenants[t].idps.list[idp].org;
    let humans = g.tenants[t].live_users(|u| u.human() && org.is_none_or(|o| u.org == o));
    let Some(&user) = g.rng.pick(&humans) else {
        return;
    };
    g.commit();
    link(g, t, user, idp);
}

/// Link `user` to a new external account of `idp`.
fn link(g: &mut Gen, t: usize, user: usize, idp: usize) {
    let kind = g.tenants[t].idps.list[idp].kind;
    let external = account(g, t, kind, user);
    let mut p = Map::new();
    p.insert(
        "idpConfigId".to_owned(),
        json!(g.tenants[t].idps.list[idp].id),
    );
    p.insert("userId".to_owned(), json!(external));
    let name = display_name(g, t, user);
    if !name.is_empty() {
        p.insert("displayName".to_owned(), json!(name));
    }
    users::emit(g, t, user, USER_ADDED, Some(Value::Object(p)));
    g.tenants[t].idps.user_links.push(UserLink {
        idp,
        user,
        external,
    });
}

/// A user link of a live user whose IdP is live and active; its index.
fn pick_active(g: &mut Gen, t: usize) -> Option<usize> {
    let tenant = &g.tenants[t];
    let found: Vec<usize> = (0..tenant.idps.user_links.len())
        .filter(|l| {
            let link = &tenant.idps.user_links[*l];
            tenant.user_live(link.user)
                && live(tenant, link.idp)
                && tenant.idps.list[link.idp].active
        })
        .collect();
    g.rng.pick(&found).copied()
}

/// The external account's user name changed.
fn username_changed(g: &mut Gen, t: usize) -> bool {
    let Some(l) = pick_active(g, t) else {
        return false;
    };
    let UserLink {
        idp,
        user,
        external,
    } = g.tenants[t].idps.user_links[l].clone();
    let username = match g.rng.below(6) {
        0 => format!(
            "{}.{}@corp.example",
            text::given(&mut g.rng),
            text::family(&mut g.rng)
        ),
        1 => text::long(&mut g.rng, 300),
        _ => format!(
            "{}{}",
            g.tenants[t].users[user].username,
            g.rng.range(1, 99)
        ),
    };
    let payload = json!({
        "idpConfigId": g.tenants[t].idps.list[idp].id,
        "userId": external,
        "username": username,
    });
    users::emit(g, t, user, USERNAME_CHANGED, Some(payload));
    true
}

/// The external account's id migrated (as when an OIDC IdP became an Azure
/// AD or Google one).
fn id_migrated(g: &mut Gen, t: usize) -> bool {
    let Some(l) = pick_active(g, t) else {
        return false;
    };
    let UserLink {
        idp,
        user,
        external,
    } = g.tenants[t].idps.user_links[l].clone();
    let kind = g.tenants[t].idps.list[idp].kind;
    let new = account(g, t, kind, user);
    let payload = json!({
        "idpConfigId": g.tenants[t].idps.list[idp].id,
        "previousId": external,
        "newId": new,
    });
    users::emit(g, t, user, ID_MIGRATED, Some(payload));
    g.tenants[t].idps.user_links[l].external = new;
    true
}

/// Whether a link of `idp` is kept for the cascade removal `cascade` of a
/// legacy config, which was never written.
fn kept(g: &Gen, tenant: &Tenant, idp: usize, cascade: &str) -> bool {
    matches!(tenant.idps.list[idp].kind, Kind::Legacy { .. }) && g.fresh(cascade)
}

/// Remove a user link of a live user (while that was never written, one
/// whose IdP, a template, was removed before).
fn user_removed(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let options: Vec<(usize, String)> = (0..tenant.idps.user_links.len())
        .filter(|l| {
            let link = &tenant.idps.user_links[*l];
            tenant.user_live(link.user) && !kept(g, tenant, link.idp, USER_CASCADE)
        })
        .map(|l| {
            let reason = if live(tenant, tenant.idps.user_links[l].idp) {
                USER_REMOVED
            } else {
                AFTER_IDP
            };
            (l, reason.to_owned())
        })
        .collect();
    let Some(l) = g.choose(&options) else {
        return false;
    };
    let link = g.tenants[t].idps.user_links.remove(l);
    if !live(&g.tenants[t], link.idp) {
        g.mark(AFTER_IDP);
    }
    let payload = json!({
        "idpConfigId": g.tenants[t].idps.list[link.idp].id,
        "userId": link.external,
    });
    users::emit(g, t, link.user, USER_REMOVED, Some(payload));
    true
}
