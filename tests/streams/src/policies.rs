//! Events of the policies family: the instance's default policies
//! (`instance.policy.*`, added at set-up and changed later) and the orgs'
//! own (`org.policy.*`: added later, changed, removed back to the default,
//! and gone with their org) for password complexity, password age, login,
//! lockout, privacy, label and notification. The domain policy, which the
//! users family reads too, is written by `instances.rs` and `orgs.rs`.
//!
//! | module | events |
//! |---|---|
//! | `policies.rs` | policies added, changed and removed |
//! | `policies/settings.rs` | the settings the added and changed events carry |
//! | `policies/login.rs` | the login policy's second factors and multi factors |
//! | `policies/label.rs` | the label policy's activation and assets |
//!
//! An owner has at most one policy of a kind (the tables keep one row per
//! owner), so an org's policy is added again only after its removal; the
//! instance's default policies are never removed. A changed event carries
//! only some settings, now and then none.

use serde_json::Value;

use crate::concat;
use crate::generator::{Action, Gen};
use crate::world::{Life, Org};

mod label;
mod login;
mod settings;

/// A policy kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Password complexity.
    Complexity,
    /// Password age.
    Age,
    /// Login.
    Login,
    /// Lockout.
    Lockout,
    /// Privacy.
    Privacy,
    /// Label (branding).
    Label,
    /// Notification.
    Notification,
}

/// The kinds, in the order of the event type lists below.
const KINDS: [Kind; 7] = [
    Kind::Complexity,
    Kind::Age,
    Kind::Login,
    Kind::Lockout,
    Kind::Privacy,
    Kind::Label,
    Kind::Notification,
];

impl Kind {
    /// The kind's place in [`KINDS`].
    fn index(self) -> usize {
        KINDS.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// `<level>.policy.<stem>.<suffix>` of every kind, in the order of
/// [`KINDS`].
macro_rules! by_kind {
    ($level:literal, $suffix:literal) => {
        [
            concat!($level, ".policy.password.complexity.", $suffix),
            concat!($level, ".policy.password.age.", $suffix),
            concat!($level, ".policy.login.", $suffix),
            concat!($level, ".policy.lockout.", $suffix),
            concat!($level, ".policy.privacy.", $suffix),
            concat!($level, ".policy.label.", $suffix),
            concat!($level, ".policy.notification.", $suffix),
        ]
    };
}

/// The instance's default policies added.
const INSTANCE_ADDED: [&str; 7] = by_kind!("instance", "added");
/// The instance's default policies changed.
const INSTANCE_CHANGED: [&str; 7] = by_kind!("instance", "changed");
/// An org's policies added.
const ORG_ADDED: [&str; 7] = by_kind!("org", "added");
/// An org's policies changed.
const ORG_CHANGED: [&str; 7] = by_kind!("org", "changed");
/// An org's policies removed (back to the instance's default).
const ORG_REMOVED: [&str; 7] = by_kind!("org", "removed");

/// The event types an org's policy is added for: the added ones and those
/// that need an org's policy (its changes, removal, factors, activation and
/// assets).
const ORG_ADDED_FOR: [&str; 37] = concat(&[
    &[ADDED_AGAIN],
    &ORG_ADDED,
    &ORG_CHANGED,
    &ORG_REMOVED,
    &login::ORG_EVENTS,
    &label::ORG_EVENTS,
]);

/// The situation of an org's policy added again after its removal.
const ADDED_AGAIN: &str = "org.policy.added/after its removal";

/// Per mille of the generator's steps that pick an action of this module.
pub(crate) const PER_MILLE: usize = 20;

/// The actions adding and changing policies.
const ACTIONS: &[Action] = &[
    Action::new(ORG_ADDED[0], 2, added).writes(&ORG_ADDED_FOR),
    Action::new(INSTANCE_CHANGED[0], 1, instance_changed).writes(&INSTANCE_CHANGED),
    Action::new(ORG_CHANGED[0], 2, org_changed).writes(&ORG_CHANGED),
];

/// The action removing an org's policies, listed after everything else a
/// policy goes through.
const REMOVAL: &[Action] = &[Action::new(ORG_REMOVED[0], 1, removed).writes(&ORG_REMOVED)];

/// Every action of the policies.
pub(crate) fn actions() -> impl Iterator<Item = &'static Action> {
    ACTIONS
        .iter()
        .chain(login::ACTIONS)
        .chain(label::ACTIONS)
        .chain(REMOVAL)
}

/// The policies of one owner: the instance (its defaults) or an org.
#[derive(Debug, Clone, Default)]
pub(crate) struct Owner {
    /// Which kinds the owner has a policy of, by their place in [`KINDS`].
    has: [bool; 7],
    /// Which kinds the owner's policy was removed of.
    removed: [bool; 7],
    /// The login policy's second factors.
    second_factors: Vec<i64>,
    /// The login policy's multi factors.
    multi_factors: Vec<i64>,
    /// The label policy's assets on the preview: the asset's place in the
    /// asset list and its store key.
    assets: Vec<(usize, String)>,
    /// The label preview changed since its last activation.
    unactivated: bool,
}

impl Owner {
    /// Whether the owner has a policy of `kind`.
    fn has(&self, kind: Kind) -> bool {
        self.has[kind.index()]
    }

    /// Forget the policy of `kind` and what hangs on it.
    fn clear(&mut self, kind: Kind) {
        self.has[kind.index()] = false;
        self.removed[kind.index()] = true;
        match kind {
            Kind::Login => {
                self.second_factors.clear();
                self.multi_factors.clear();
            }
            Kind::Label => {
                self.assets.clear();
                self.unactivated = false;
            }
            _ => {}
        }
    }
}

/// Whether `org` has a policy of its own (its domain policy included).
pub(crate) fn any(org: &Org) -> bool {
    org.policy || org.policies.has.contains(&true)
}

/// Whose policy an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// The instance's default.
    Instance,
    /// An org's own (the org's index).
    Org(usize),
}

impl Level {
    /// The first part of the level's event types.
    fn prefix(self) -> &'static str {
        match self {
            Level::Instance => "instance",
            Level::Org(_) => "org",
        }
    }
}

/// The policies of `level`.
fn owner(g: &mut Gen, t: usize, level: Level) -> &mut Owner {
    match level {
        Level::Instance => &mut g.tenants[t].policies,
        Level::Org(org) => &mut g.tenants[t].orgs[org].policies,
    }
}

/// The id of `level`'s owner (the event's aggregate id and owner).
fn owner_id(g: &Gen, t: usize, level: Level) -> String {
    match level {
        Level::Instance => g.tenants[t].id.clone(),
        Level::Org(org) => g.tenants[t].orgs[org].id.clone(),
    }
}

/// Emit an event of `level`'s aggregate.
fn emit(g: &mut Gen, t: usize, level: Level, event_type: &str, payload: Option<Value>) {
    let id = owner_id(g, t, level);
    g.emit(t, (level.prefix(), &id), event_type, &id, payload);
}

/// The owners of tenant `t` whose policies may change: the instance and the
/// live orgs, with the policies of each.
fn levels(g: &Gen, t: usize) -> Vec<(Level, &Owner)> {
    let tenant = &g.tenants[t];
    let orgs = tenant
        .live_orgs(|_, _| true)
        .into_iter()
        .map(|o| (Level::Org(o), &tenant.orgs[o].policies));
    std::iter::once((Level::Instance, &tenant.policies))
        .chain(orgs)
        .collect()
}

/// Whether an owner at the org level (`org`) or at the instance level of
/// any live tenant passes `keep`.
fn anywhere(g: &Gen, org: bool, keep: impl Fn(&Owner) -> bool) -> bool {
    (0..g.tenants.len())
        .filter(|t| g.tenants[*t].life == Life::Live)
        .flat_map(|t| levels(g, t))
        .any(|(level, owner)| (level != Level::Instance) == org && keep(owner))
}

/// Add the policy of `kind` for `level`, with the events Zitadel pushes with
/// it: the login policy's factors, now and then.
fn add(g: &mut Gen, t: usize, level: Level, kind: Kind, payload: Value) {
    let event = match level {
        Level::Instance => INSTANCE_ADDED[kind.index()],
        Level::Org(_) => ORG_ADDED[kind.index()],
    };
    emit(g, t, level, event, Some(payload));
    let owner = owner(g, t, level);
    owner.has[kind.index()] = true;
    if kind == Kind::Label {
        owner.unactivated = true;
    }
}

/// Add the instance's default policies as its set-up does: every kind with
/// Zitadel's defaults (varied a little per tenant), the login policy's
/// default factors and the label policy activated.
pub(crate) fn set_up(g: &mut Gen, t: usize) {
    for kind in KINDS {
        let payload = settings::defaults(g, kind);
        add(g, t, Level::Instance, kind, payload);
        match kind {
            Kind::Login => login::defaults(g, t),
            Kind::Label => label::activate(g, t, Level::Instance),
            _ => {}
        }
    }
}

/// The event type an org's policy of `kind` is added for: its added event,
/// or, when no live org has such a policy, an event never written that
/// needs one (so that it can be written next).
fn added_for(g: &Gen, kind: Kind) -> String {
    let added = ORG_ADDED[kind.index()];
    if g.fresh(added) || anywhere(g, true, |o| o.has(kind)) {
        return added.to_owned();
    }
    let mut needing = vec![ORG_CHANGED[kind.index()], ORG_REMOVED[kind.index()]];
    match kind {
        Kind::Login => needing.extend(login::ORG_EVENTS),
        Kind::Label => needing.extend(label::ORG_EVENTS),
        _ => {}
    }
    needing
        .into_iter()
        .find(|e| g.fresh(e))
        .unwrap_or(added)
        .to_owned()
}

/// Add a policy an org does not have yet (while one was never written, of
/// a kind whose added event or an event needing it was never written, or
/// one the org had removed).
fn added(g: &mut Gen, t: usize) -> bool {
    let reasons: Vec<String> = KINDS.into_iter().map(|k| added_for(g, k)).collect();
    let again = g.fresh(ADDED_AGAIN);
    let options: Vec<((usize, Kind), String)> = levels(g, t)
        .into_iter()
        .filter_map(|(level, owner)| match level {
            Level::Org(org) => Some((org, owner)),
            Level::Instance => None,
        })
        .flat_map(|(org, owner)| {
            KINDS
                .into_iter()
                .filter(|k| !owner.has(*k))
                .map(|k| {
                    let reason = if again && owner.removed[k.index()] {
                        ADDED_AGAIN.to_owned()
                    } else {
                        reasons[k.index()].clone()
                    };
                    ((org, k), reason)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let Some((org, kind)) = g.choose(&options) else {
        return false;
    };
    let payload = settings::added(g, kind);
    if owner(g, t, Level::Org(org)).removed[kind.index()] {
        g.mark(ADDED_AGAIN);
    }
    add(g, t, Level::Org(org), kind, payload);
    if kind == Kind::Login {
        login::with_policy(g, t, Level::Org(org));
    }
    true
}

/// Change some settings of a policy of `level`s that pass `keep`, writing
/// one of `events`.
fn change(g: &mut Gen, t: usize, events: &[&str; 7], keep: fn(Level) -> bool) -> bool {
    let options: Vec<((Level, Kind), String)> = levels(g, t)
        .into_iter()
        .filter(|(level, _)| keep(*level))
        .flat_map(|(level, owner)| {
            KINDS
                .into_iter()
                .filter(|k| owner.has(*k))
                .map(move |k| ((level, k), events[k.index()].to_owned()))
        })
        .collect();
    let Some((level, kind)) = g.choose(&options) else {
        return false;
    };
    let event = events[kind.index()];
    let payload = settings::changed(g, kind, event);
    emit(g, t, level, event, Some(payload));
    if kind == Kind::Label {
        owner(g, t, level).unactivated = true;
    }
    true
}

fn instance_changed(g: &mut Gen, t: usize) -> bool {
    change(g, t, &INSTANCE_CHANGED, |l| l == Level::Instance)
}

fn org_changed(g: &mut Gen, t: usize) -> bool {
    change(g, t, &ORG_CHANGED, |l| l != Level::Instance)
}

/// Remove an org's policy: the org falls back to the instance's default.
fn removed(g: &mut Gen, t: usize) -> bool {
    let options: Vec<((usize, Kind), String)> = levels(g, t)
        .into_iter()
        .filter_map(|(level, owner)| match level {
            Level::Org(org) => Some((org, owner)),
            Level::Instance => None,
        })
        .flat_map(|(org, owner)| {
            KINDS
                .into_iter()
                .filter(|k| owner.has(*k))
                .map(move |k| ((org, k), ORG_REMOVED[k.index()].to_owned()))
        })
        .collect();
    let Some((org, kind)) = g.choose(&options) else {
        return false;
    };
    emit(g, t, Level::Org(org), ORG_REMOVED[kind.index()], None);
    owner(g, t, Level::Org(org)).clear(kind);
    true
}
