//! Events of the identity providers family: the IdPs of the instance and of
//! the orgs in both of Zitadel's generations (IdP templates of 13 provider
//! kinds, legacy IdP configs), the login policies that offer them and the
//! users linked to them.
//!
//! | module | events |
//! |---|---|
//! | `idps.rs` | IdP templates added, changed, migrated from OIDC to Azure AD or Google, removed |
//! | `idps/providers.rs` | the provider kinds: their event types and payload fields |
//! | `idps/legacy.rs` | legacy IdP configs (`iam.idp.config.*`, `org.idp.config.*`) with their OIDC or JWT configuration, changes, deactivation, removal |
//! | `idps/links.rs` | login policy links (`*.policy.login.idpprovider.*`) and user links (`user.human.externalidp.*`), the cascades of a legacy config's removal |
//!
//! An IdP belongs to the instance (events of the `instance` aggregate) or
//! to an org (of the `org` aggregate). The instance's default login policy
//! offers the instance's IdPs, an org's login policy those and the org's
//! own; a human is linked to IdPs of the instance or of its org. Removing a
//! legacy config removes its links in the same transaction (the cascade
//! events); removing a template leaves its user links, which may be
//! removed later. The org, user and instance removals of the other modules
//! take IdPs and links with them.

use serde_json::{Value, json};

use crate::generator::{Action, Gen};
use crate::world::{Life, Tenant};

mod legacy;
mod links;
mod providers;

use crate::concat;
use providers::{MIGRATED, PROVIDERS, Provider};

/// Per mille of the generator's steps that pick an action of this module.
pub(crate) const PER_MILLE: usize = 85;

/// The added events of every provider kind at both levels.
const ADDED: [&str; 26] = concat(&[&providers::INSTANCE_ADDED, &providers::ORG_ADDED]);

/// The changed events of every provider kind at both levels.
const CHANGED: [&str; 26] = concat(&[&providers::INSTANCE_CHANGED, &providers::ORG_CHANGED]);

/// The removal of a template at instance and at org level.
const REMOVED: [&str; 2] = ["instance.idp.removed", "org.idp.removed"];

/// The situation of a template's change carrying none of its fields.
const UNCHANGED: &str = "*.idp.*.changed/unchanged";

/// The action preferring the family's actions not taken so far (named by
/// the family's first event type; it writes any of them).
const CATCH_UP: &[Action] = &[Action::new(ADDED[0], 12, catch_up)];

/// The actions adding and changing templates.
const ACTIONS: &[Action] = &[
    Action::new(ADDED[0], 4, added).writes(&ADDED),
    Action::new(CHANGED[0], 5, changed).writes(&concat::<27>(&[&CHANGED, &[UNCHANGED]])),
];

/// The action migrating OIDC templates, after their changes.
const MIGRATION: &[Action] = &[Action::new(MIGRATED[0], 1, migrated).writes(&MIGRATED)];

/// The action removing templates, listed after everything else an IdP goes
/// through.
const REMOVAL: &[Action] = &[Action::new(REMOVED[0], 1, removed).writes(&REMOVED)];

/// Every action of the family, in the order of an IdP's life.
pub(crate) fn actions() -> impl Iterator<Item = &'static Action> {
    CATCH_UP.iter().chain(lifecycle())
}

/// The actions writing the family's events, in the order of an IdP's life.
fn lifecycle() -> impl Iterator<Item = &'static Action> {
    ACTIONS
        .iter()
        .chain(legacy::ACTIONS)
        .chain(links::ACTIONS)
        .chain(MIGRATION)
        .chain(REMOVAL)
        .chain(legacy::REMOVAL)
}

/// Run the first action of the family (in the order of an IdP's life)
/// that was not taken so far and has something to act on, in strict mode
/// (see [`Gen::strict`]), for tenant `t` or, when it has nothing to act
/// on, for another live tenant: the family has more event types than its
/// share of the steps would reach by chance in a stream of default size.
fn catch_up(g: &mut Gen, t: usize) -> bool {
    let fresh: Vec<&Action> = lifecycle()
        .filter(|a| g.fresh(a.name) || a.writes.iter().any(|w| g.fresh(w)))
        .collect();
    let mut tenants: Vec<usize> = (0..g.tenants.len())
        .filter(|o| *o != t && g.tenants[*o].life == Life::Live)
        .collect();
    g.rng.shuffle(&mut tenants);
    tenants.insert(0, t);
    let strict = g.strict;
    g.strict = true;
    let ran = fresh
        .into_iter()
        .any(|a| tenants.iter().any(|tenant| (a.run)(g, *tenant)));
    g.strict = strict;
    ran
}

/// What an IdP is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A template of a provider kind.
    Template(Provider),
    /// A legacy IdP config with its OIDC (else JWT) configuration.
    Legacy {
        /// OIDC, else JWT.
        oidc: bool,
    },
}

/// An IdP.
#[derive(Debug, Clone)]
struct Idp {
    /// Id (the payloads' `id` / `idpConfigId`).
    id: String,
    /// The org owning it (the instance's when `None`).
    org: Option<usize>,
    /// What it is.
    kind: Kind,
    /// Active (only legacy configs are deactivated).
    active: bool,
    /// Removed.
    removed: bool,
}

/// A login policy offering an IdP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PolicyLink {
    /// The IdP (index).
    idp: usize,
    /// The org of the policy (the instance's default policy when `None`).
    policy: Option<usize>,
}

/// A human linked to an external account of an IdP.
#[derive(Debug, Clone)]
struct UserLink {
    /// The IdP (index).
    idp: usize,
    /// The user (index).
    user: usize,
    /// The external account's id.
    external: String,
}

/// The IdPs of a tenant with their links (the present links only).
#[derive(Debug, Clone, Default)]
pub(crate) struct Idps {
    /// The IdPs, removed ones too.
    list: Vec<Idp>,
    /// Login policy links.
    policy_links: Vec<PolicyLink>,
    /// User links.
    user_links: Vec<UserLink>,
    /// How many external accounts were named so far (for unique ids).
    accounts: usize,
}

/// Whether IdP `idp` exists: not removed and, for an org's, its org live.
fn live(tenant: &Tenant, idp: usize) -> bool {
    let i = &tenant.idps.list[idp];
    !i.removed && i.org.is_none_or(|o| tenant.org_live(o))
}

/// The live IdPs that pass `keep`.
fn live_idps(tenant: &Tenant, keep: impl Fn(&Idp) -> bool) -> Vec<usize> {
    (0..tenant.idps.list.len())
        .filter(|i| live(tenant, *i) && keep(&tenant.idps.list[*i]))
        .collect()
}

/// Emit an event of the instance's aggregate (`org` `None`) or of org
/// `org`'s, owned by it.
fn emit(g: &mut Gen, t: usize, org: Option<usize>, event_type: &str, payload: Value) {
    let (aggregate, id) = match org {
        None => ("instance", g.tenants[t].id.clone()),
        Some(o) => ("org", g.tenants[t].orgs[o].id.clone()),
    };
    g.emit(t, (aggregate, &id), event_type, &id, Some(payload));
}

/// Whether a change carries none of its optional fields, noted as
/// `situation`: while that was never written half the time (always in
/// strict mode), else `percent` of the time.
fn unchanged(g: &mut Gen, situation: &str, percent: usize) -> bool {
    let none = if g.fresh(situation) {
        g.strict || g.rng.coin()
    } else {
        g.rng.chance(percent)
    };
    if none {
        g.mark(situation);
    }
    none
}

/// The level of a new IdP: the instance about a third of the time, else
/// one of the live orgs `orgs` (the instance when there is none), mostly
/// one without an IdP of its own yet, so that many orgs have one when
/// they are removed.
fn level(g: &mut Gen, t: usize, orgs: &[usize]) -> Option<usize> {
    if g.rng.chance(35) {
        return None;
    }
    let tenant = &g.tenants[t];
    let without: Vec<usize> = orgs
        .iter()
        .copied()
        .filter(|o| live_idps(tenant, |i| i.org == Some(*o)).is_empty())
        .collect();
    if !without.is_empty() && g.rng.chance(70) {
        g.rng.pick(&without).copied()
    } else {
        g.rng.pick(orgs).copied()
    }
}

/// The event type a template of `provider` is added for at org level
/// (`org`) or instance level: its added event, or, outside strict mode
/// when no such template exists, an event never written that needs one
/// (its change, a migration of an OIDC one), so that it can be written
/// next.
fn added_for(g: &Gen, t: usize, org: bool, provider: Provider) -> String {
    let added = provider.added(org);
    let exists = !live_idps(&g.tenants[t], |i| {
        i.org.is_some() == org && i.kind == Kind::Template(provider)
    })
    .is_empty();
    if g.fresh(added) || exists || g.strict {
        return added.to_owned();
    }
    let mut needing = vec![provider.changed(org)];
    if provider == Provider::Oidc {
        let first = if org { 2 } else { 0 };
        needing.extend(&MIGRATED[first..first + 2]);
    }
    needing
        .into_iter()
        .find(|e| g.fresh(e))
        .unwrap_or(added)
        .to_owned()
}

/// Add a template of `provider` for `org` (the instance's when `None`),
/// half the time offered at the owner's login policy right after, now and
/// then with a first user linked to it.
fn add(g: &mut Gen, t: usize, org: Option<usize>, provider: Provider) {
    let id = g.id();
    let payload = providers::added(g, t, &id, provider);
    emit(g, t, org, provider.added(org.is_some()), payload);
    let idps = &mut g.tenants[t].idps;
    idps.list.push(Idp {
        id,
        org,
        kind: Kind::Template(provider),
        active: true,
        removed: false,
    });
    let idp = idps.list.len() - 1;
    if g.rng.coin() {
        links::offer(g, t, idp);
    }
    if g.rng.chance(20) {
        links::link_first(g, t, idp);
    }
}

/// Add a template: while an added event (or an event needing a template of
/// a kind none exists of) was never written, of such a kind and level;
/// else the instance's a third of the time, of a kind the live tenants
/// have few of or one as popular as in real installations. Outside strict mode an admin now and then adds one
/// or two more of the same owner right after, each in its own transaction.
fn added(g: &mut Gen, t: usize) -> bool {
    let orgs = g.tenants[t].live_orgs(|_, _| true);
    let reasons: Vec<[String; 2]> = PROVIDERS
        .iter()
        .map(|p| [added_for(g, t, false, *p), added_for(g, t, true, *p)])
        .collect();
    let levels = std::iter::once(None).chain(orgs.iter().copied().map(Some));
    let options: Vec<((Option<usize>, Provider), String)> = levels
        .flat_map(|org| {
            let reasons = &reasons;
            PROVIDERS.iter().map(move |p| {
                let reason = reasons[p.index()][usize::from(org.is_some())].clone();
                ((org, *p), reason)
            })
        })
        .collect();
    let fresh = options.iter().any(|(_, e)| g.fresh(e));
    let (org, provider) = if fresh || g.strict {
        let Some(choice) = g.choose(&options) else {
            return false;
        };
        choice
    } else {
        let org = level(g, t, &orgs);
        (org, popular(g))
    };
    add(g, t, org, provider);
    if !g.strict {
        for _ in 0..g.rng.below(3) {
            g.commit();
            let provider = popular(g);
            add(g, t, org, provider);
        }
    }
    true
}

/// How many IdPs of `kind` the live tenants have.
fn live_of_kind(g: &Gen, kind: Kind) -> usize {
    g.tenants
        .iter()
        .filter(|t| t.life == Life::Live)
        .map(|t| live_idps(t, |i| i.kind == kind).len())
        .sum()
}

/// Fewer IdPs of a kind than this in the live tenants, and a new one is of
/// such a kind, so that every kind's table keeps rows.
const FEW: usize = 3;

/// A provider kind: one the live tenants have few IdPs of, else one as
/// popular as in real installations.
fn popular(g: &mut Gen) -> Provider {
    let rare: Vec<Provider> = PROVIDERS
        .into_iter()
        .filter(|p| live_of_kind(g, Kind::Template(*p)) < FEW)
        .collect();
    if let Some(p) = g.rng.pick(&rare) {
        return *p;
    }
    let weights = PROVIDERS.map(Provider::popularity);
    g.rng
        .weighted(&weights)
        .map_or(Provider::Oidc, |i| PROVIDERS[i])
}

/// The reason to choose a change writing `event_type`: that event type
/// when it was never written, else `situation` (a change of nothing) when
/// that was never written, else the event type.
fn change_reason(g: &Gen, event_type: &str, situation: &str) -> String {
    if !g.fresh(event_type) && g.fresh(situation) {
        situation.to_owned()
    } else {
        event_type.to_owned()
    }
}

/// Change a template: some of its name, options and provider fields, now
/// and then none of them.
fn changed(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let options: Vec<(usize, String)> = live_idps(tenant, |_| true)
        .into_iter()
        .filter_map(|i| match tenant.idps.list[i].kind {
            Kind::Template(p) => {
                let org = tenant.idps.list[i].org.is_some();
                Some((i, change_reason(g, p.changed(org), UNCHANGED)))
            }
            Kind::Legacy { .. } => None,
        })
        .collect();
    let Some(idp) = g.choose(&options) else {
        return false;
    };
    let Idp { id, org, kind, .. } = g.tenants[t].idps.list[idp].clone();
    let Kind::Template(provider) = kind else {
        return false;
    };
    let none = unchanged(g, UNCHANGED, 6);
    let payload = providers::changed(g, t, &id, provider, none);
    emit(g, t, org, provider.changed(org.is_some()), payload);
    true
}

/// Migrate an OIDC template to Azure AD or Google: the event carries the
/// whole payload of the new kind.
fn migrated(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let options: Vec<((usize, Provider), String)> =
        live_idps(tenant, |i| i.kind == Kind::Template(Provider::Oidc))
            .into_iter()
            .flat_map(|i| {
                let first = if tenant.idps.list[i].org.is_some() {
                    2
                } else {
                    0
                };
                [
                    ((i, Provider::AzureAd), MIGRATED[first].to_owned()),
                    ((i, Provider::Google), MIGRATED[first + 1].to_owned()),
                ]
            })
            .collect();
    let Some((idp, target)) = g.choose(&options) else {
        return false;
    };
    let Idp { id, org, .. } = g.tenants[t].idps.list[idp].clone();
    let first = if org.is_some() { 2 } else { 0 };
    let event = MIGRATED[first + usize::from(target == Provider::Google)];
    let payload = providers::added(g, t, &id, target);
    emit(g, t, org, event, payload);
    g.tenants[t].idps.list[idp].kind = Kind::Template(target);
    true
}

/// Whether IdP `idp` is the tenant's last live one of its kind (which is
/// removed only where that writes something never written, so that every
/// kind's table keeps rows).
fn last_of_kind(tenant: &Tenant, idp: usize) -> bool {
    let kind = tenant.idps.list[idp].kind;
    live_idps(tenant, |i| i.kind == kind).len() == 1
}

/// Remove a template (not one whose change or migration was never written
/// at its level, nor the tenant's last of its kind unless that writes
/// something never written): the login policies no longer offer it, its
/// user links stay (outside strict mode, while a user link removed after
/// its IdP was never written, a template with user links is preferred).
fn removed(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let fresh_after = !g.strict && g.fresh(links::AFTER_IDP);
    let removable = |i: &Idp| match i.kind {
        Kind::Template(p) => {
            let first = 2 * usize::from(i.org.is_some());
            let migration = MIGRATED[first..first + 2].iter().any(|e| g.fresh(e));
            let needed = g.fresh(p.changed(i.org.is_some())) || (p == Provider::Oidc && migration);
            !needed
        }
        Kind::Legacy { .. } => false,
    };
    let options: Vec<(usize, String)> = live_idps(tenant, removable)
        .into_iter()
        .map(|i| {
            let org = tenant.idps.list[i].org;
            let linked = tenant
                .idps
                .user_links
                .iter()
                .any(|l| l.idp == i && tenant.user_live(l.user));
            let reason = if fresh_after && linked {
                links::AFTER_IDP
            } else {
                REMOVED[usize::from(org.is_some())]
            };
            (i, reason.to_owned())
        })
        .filter(|(i, reason)| g.fresh(reason) || !last_of_kind(tenant, *i))
        .collect();
    let Some(idp) = g.choose(&options) else {
        return false;
    };
    let Idp { id, org, .. } = g.tenants[t].idps.list[idp].clone();
    emit(
        g,
        t,
        org,
        REMOVED[usize::from(org.is_some())],
        json!({ "id": id }),
    );
    let idps = &mut g.tenants[t].idps;
    idps.list[idp].removed = true;
    idps.policy_links.retain(|l| l.idp != idp);
    true
}
