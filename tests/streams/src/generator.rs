//! The generator: the world, the stream being written and the schedule that
//! interleaves the tenants.
//!
//! Each step picks a live tenant (busier tenants more often), an area of
//! the stream and one action of the area's modules for it. The identity
//! families (instances, orgs, projects, apps, users, user grants) take
//! most steps; the logins (sessions, auth requests), the settings
//! (policies), the operating state (milestones, quotas, limits), the
//! identity providers (IdPs and their links) and the system's feature
//! defaults each take a fixed share, so that adding to them leaves the identity
//! families' volume alone. An action checks that what it needs exists,
//! writes one transaction (sometimes a few) and updates the world; an action
//! that finds nothing to act on writes nothing and another is tried. Now and
//! then an action not taken so far is preferred, so that every event type
//! occurs even in short streams. Tenants start spread over the first part of
//! the stream; a few are removed in the middle and a few near the end.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::Config;
use crate::rng::Rng;
use crate::stream::{Draft, Line, Stream};
use crate::world::{Life, Tenant};
use crate::{
    idps, instances, limits, orgs, policies, projects, sessions, system, targets, user_grants,
    users,
};

/// One thing that can happen to a tenant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Action {
    /// The main event type it writes.
    pub(crate) name: &'static str,
    /// How often it is chosen relative to the others.
    pub(crate) weight: usize,
    /// Write it for a tenant; false when the tenant has nothing to act on
    /// (then nothing was written).
    pub(crate) run: fn(&mut Gen, usize) -> bool,
    /// The other event types it writes now and then (variants, cascades),
    /// and named situations of its events (`event/situation`, noted with
    /// [`Gen::mark`]); while one of them or the main one was never
    /// written, the action counts as not taken.
    pub(crate) writes: &'static [&'static str],
}

impl Action {
    /// An action named `name`.
    pub(crate) const fn new(
        name: &'static str,
        weight: usize,
        run: fn(&mut Gen, usize) -> bool,
    ) -> Action {
        Action {
            name,
            weight,
            run,
            writes: &[],
        }
    }

    /// The same action, also writing `writes` now and then.
    pub(crate) const fn writes(self, writes: &'static [&'static str]) -> Action {
        Action { writes, ..self }
    }
}

/// A part of the stream: the actions of some modules and the share of the
/// steps that pick one of them.
#[derive(Debug, Clone)]
struct Area {
    /// The actions.
    actions: Vec<Action>,
    /// Per mille of the steps (the identity area takes the rest).
    per_mille: usize,
}

/// The areas: the identity families first, then the logins, the settings,
/// the operating state, the IdPs and the system's features with their
/// shares.
fn areas() -> Vec<Area> {
    let identity = instances::ACTIONS
        .iter()
        .chain(orgs::ACTIONS)
        .chain(projects::actions())
        .chain(user_grants::ACTIONS)
        .chain(targets::ACTIONS)
        .chain(users::actions());
    vec![
        area(identity, 0),
        area(policies::actions(), policies::PER_MILLE),
        area(limits::actions(), limits::PER_MILLE),
        area(sessions::actions(), sessions::PER_MILLE),
        area(idps::actions(), idps::PER_MILLE),
        area(system::actions(), system::PER_MILLE),
    ]
}

/// An area of `actions` with `per_mille` of the steps.
fn area<'a>(actions: impl Iterator<Item = &'a Action>, per_mille: usize) -> Area {
    Area {
        actions: actions.copied().collect(),
        per_mille,
    }
}

/// Percent of the steps that prefer an action not taken so far.
const PREFER_NEW: usize = 20;

/// Random picks tried before falling back to an action that always works.
const ATTEMPTS: usize = 30;

/// The generator's state.
#[derive(Debug)]
pub(crate) struct Gen {
    /// The random source.
    pub(crate) rng: Rng,
    /// The tenants.
    pub(crate) tenants: Vec<Tenant>,
    stream: Stream,
    next_id: u64,
    creator: Option<String>,
    seen: BTreeSet<String>,
    areas: Vec<Area>,
    actions: Vec<Action>,
    /// Set while an action not taken so far runs: it then writes an event
    /// type never written if it can, and nothing otherwise.
    pub(crate) strict: bool,
}

impl Gen {
    /// Generate the stream `config` describes.
    pub(crate) fn run(config: &Config) -> Vec<Line> {
        let mut g = Gen {
            rng: Rng::new(config.seed),
            tenants: Vec::new(),
            stream: Stream::new(),
            next_id: 0,
            creator: None,
            seen: BTreeSet::new(),
            areas: areas(),
            actions: areas().into_iter().flat_map(|a| a.actions).collect(),
            strict: false,
        };
        g.plan_tenants(config);
        while g.stream.len() < config.events {
            if !g.step() {
                break;
            }
        }
        g.stream.into_lines(config.events)
    }

    /// Create the tenants with their weights, start and removal points.
    fn plan_tenants(&mut self, config: &Config) {
        let n = config.tenants;
        for i in 0..n {
            let id = self.id();
            let weight = self.rng.range(1, 10);
            let start_at = i * config.events * 3 / (10 * n.max(1));
            self.tenants.push(Tenant::new(id, weight, start_at));
        }
        if n < 3 {
            return;
        }
        let mut order: Vec<usize> = (1..n).collect();
        self.rng.shuffle(&mut order);
        let few = (n / 10).max(1);
        for (k, t) in order.into_iter().take(2 * few).enumerate() {
            let percent = if k < few {
                self.rng.range(35, 75)
            } else {
                self.rng.range(90, 98)
            };
            self.tenants[t].remove_at = Some(config.events * percent / 100);
        }
    }

    /// Write the next transaction(s); false when no tenant is left.
    fn step(&mut self) -> bool {
        let now = self.stream.len();
        let due = |t: &Tenant| t.life == Life::Pending && t.start_at <= now;
        if let Some(t) = self.tenants.iter().position(due) {
            instances::set_up(self, t);
            self.commit();
            return true;
        }
        let removal = |t: &Tenant| t.life == Life::Live && t.remove_at.is_some_and(|r| r <= now);
        if let Some(t) = self.tenants.iter().position(removal) {
            instances::remove(self, t);
            self.commit();
            return true;
        }
        let weights: Vec<usize> = self
            .tenants
            .iter()
            .map(|t| if t.life == Life::Live { t.weight } else { 0 })
            .collect();
        let Some(t) = self.rng.weighted(&weights) else {
            let Some(t) = self.tenants.iter().position(|t| t.life == Life::Pending) else {
                return false;
            };
            instances::set_up(self, t);
            self.commit();
            return true;
        };
        self.act(t);
        self.commit();
        true
    }

    /// Run one action for tenant `t`: of the area the step picks, else
    /// (when that area has nothing to act on) of the identity area.
    fn act(&mut self, t: usize) {
        let all = self.actions.clone();
        if self.rng.chance(PREFER_NEW) && self.act_fresh(t, &all) {
            return;
        }
        let mut roll = self.rng.below(1000);
        let area = self.areas[1..]
            .iter()
            .position(|a| {
                let picked = roll < a.per_mille;
                roll = roll.saturating_sub(a.per_mille);
                picked
            })
            .map_or(0, |i| i + 1);
        if area > 0 && self.act_in(t, area) {
            return;
        }
        if !self.act_in(t, 0) {
            instances::rename(self, t);
        }
    }

    /// Run a weighted random action of area `area` for tenant `t`; whether
    /// one ran.
    fn act_in(&mut self, t: usize, area: usize) -> bool {
        let actions = self.areas[area].actions.clone();
        let weights: Vec<usize> = actions.iter().map(|a| a.weight).collect();
        for _ in 0..ATTEMPTS {
            let Some(i) = self.rng.weighted(&weights) else {
                break;
            };
            if (actions[i].run)(self, t) {
                return true;
            }
        }
        false
    }

    /// Run an action not taken so far, for tenant `t` or, when it has
    /// nothing to act on, for another live tenant; whether one ran. The
    /// actions are tried in the order the modules list them (a thing's
    /// life from its creation to its removal), so that a removal does not
    /// come before the changes still to be written.
    fn act_fresh(&mut self, t: usize, all: &[Action]) -> bool {
        let fresh: Vec<Action> = all
            .iter()
            .filter(|a| self.fresh(a.name) || a.writes.iter().any(|w| self.fresh(w)))
            .copied()
            .collect();
        let mut tenants: Vec<usize> = (0..self.tenants.len())
            .filter(|o| *o != t && self.tenants[*o].life == Life::Live)
            .collect();
        self.rng.shuffle(&mut tenants);
        tenants.insert(0, t);
        self.strict = true;
        let ran = fresh
            .into_iter()
            .any(|action| tenants.iter().any(|tenant| (action.run)(self, *tenant)));
        self.strict = false;
        ran
    }

    /// A new unique id, shaped like Zitadel's (18 digits, increasing).
    pub(crate) fn id(&mut self) -> String {
        self.next_id += 1 + self.rng.below(4096) as u64;
        format!("{}", 290_000_000_000_000_000 + self.next_id)
    }

    /// The time of the transaction being written, microseconds since the
    /// epoch.
    pub(crate) fn now(&self) -> i64 {
        self.stream.now()
    }

    /// Who writes the next transaction (else the tenant's first admin).
    pub(crate) fn creator(&mut self, creator: &str) {
        if !self.stream.open() {
            self.creator = Some(creator.to_owned());
        }
    }

    /// Add an event of tenant `t` to the open transaction.
    pub(crate) fn emit(
        &mut self,
        t: usize,
        aggregate: (&str, &str),
        event_type: &str,
        owner: &str,
        payload: Option<Value>,
    ) {
        if !self.stream.open() {
            let creator = self
                .creator
                .take()
                .unwrap_or_else(|| self.tenants[t].creator());
            self.stream.creator(&creator);
        }
        let draft = Draft {
            instance_id: &self.tenants[t].id,
            aggregate_type: aggregate.0,
            aggregate_id: aggregate.1,
            event_type,
            owner,
            revision: revision(aggregate.0, event_type),
        };
        self.stream.push(&draft, payload);
        if !self.seen.contains(event_type) {
            self.seen.insert(event_type.to_owned());
        }
    }

    /// Add an event of the system tenant (instance id `""`, which only the
    /// system-scoped tables take) to the open transaction, which `SYSTEM`
    /// writes; a system event shares no transaction with a tenant's.
    pub(crate) fn emit_system(
        &mut self,
        aggregate: (&str, &str),
        event_type: &str,
        owner: &str,
        payload: Option<Value>,
    ) {
        if !self.stream.open() {
            self.stream.creator("SYSTEM");
        }
        let draft = Draft {
            instance_id: "",
            aggregate_type: aggregate.0,
            aggregate_id: aggregate.1,
            event_type,
            owner,
            revision: revision(aggregate.0, event_type),
        };
        self.stream.push(&draft, payload);
        self.mark(event_type);
    }

    /// Note that a named situation (`event/situation`, such as a project
    /// removed while it still has apps) was written.
    pub(crate) fn mark(&mut self, situation: &str) {
        if !self.seen.contains(situation) {
            self.seen.insert(situation.to_owned());
        }
    }

    /// One of `options`, each with the event type (or named situation) it
    /// writes: one never written while there is such an option (in strict
    /// mode only such one), else any; `None` when there is nothing to
    /// choose.
    pub(crate) fn choose<T: Clone>(&mut self, options: &[(T, String)]) -> Option<T> {
        let fresh: Vec<&(T, String)> = options.iter().filter(|(_, e)| self.fresh(e)).collect();
        if !fresh.is_empty() {
            return self.rng.pick(&fresh).map(|(option, _)| option.clone());
        }
        if self.strict {
            return None;
        }
        self.rng.pick(options).map(|(option, _)| option.clone())
    }

    /// Whether no event of `event_type` (or no named situation) was
    /// written so far.
    pub(crate) fn fresh(&self, event_type: &str) -> bool {
        !self.seen.contains(event_type)
    }

    /// Close the open transaction; the next starts a little later.
    pub(crate) fn commit(&mut self) {
        let gap = match self.rng.below(100) {
            0..=64 => self.rng.range(1_000, 900_000),
            65..=94 => self.rng.range(1, 45) * 1_000_000,
            _ => self.rng.range(1, 40) * 60_000_000,
        };
        self.stream.commit(i64::try_from(gap).unwrap_or(1));
        self.creator = None;
    }
}

/// The aggregate version an event is written with.
fn revision(aggregate_type: &str, event_type: &str) -> i64 {
    match aggregate_type {
        "user" => 2,
        "feature" if event_type != instances::LEGACY_FEATURE => 2,
        _ => 1,
    }
}
