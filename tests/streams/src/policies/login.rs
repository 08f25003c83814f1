//! The login policy's factor lists: second factors (TOTP, U2F, OTP via
//! email and SMS, recovery codes) and multi factors (U2F with PIN), added
//! with the policy and later one by one, and removed. A factor is added
//! only while the list lacks it and removed only while it has it, as
//! Zitadel's commands check.

use serde_json::json;

use super::{Kind, Level, Owner, anywhere, emit, levels, owner};
use crate::generator::{Action, Gen};

/// Second factors added, per level (instance first).
const SECOND_ADDED: [&str; 2] = [
    "instance.policy.login.secondfactor.added",
    "org.policy.login.secondfactor.added",
];
/// Second factors removed.
const SECOND_REMOVED: [&str; 2] = [
    "instance.policy.login.secondfactor.removed",
    "org.policy.login.secondfactor.removed",
];
/// Multi factors added.
const MULTI_ADDED: [&str; 2] = [
    "instance.policy.login.multifactor.added",
    "org.policy.login.multifactor.added",
];
/// Multi factors removed.
const MULTI_REMOVED: [&str; 2] = [
    "instance.policy.login.multifactor.removed",
    "org.policy.login.multifactor.removed",
];

/// The event types second factors are added for: added and removed.
const SECOND_FOR: [&str; 4] = [
    SECOND_ADDED[0],
    SECOND_ADDED[1],
    SECOND_REMOVED[0],
    SECOND_REMOVED[1],
];
/// The event types multi factors are added for.
const MULTI_FOR: [&str; 4] = [
    MULTI_ADDED[0],
    MULTI_ADDED[1],
    MULTI_REMOVED[0],
    MULTI_REMOVED[1],
];

/// The factor events of an org's login policy.
pub(super) const ORG_EVENTS: [&str; 4] = [
    SECOND_ADDED[1],
    SECOND_REMOVED[1],
    MULTI_ADDED[1],
    MULTI_REMOVED[1],
];

/// The factor actions.
pub(super) const ACTIONS: &[Action] = &[
    Action::new(SECOND_ADDED[0], 1, |g, t| change(g, t, false, true)).writes(&SECOND_FOR),
    Action::new(MULTI_ADDED[0], 1, |g, t| change(g, t, true, true)).writes(&MULTI_FOR),
    Action::new(SECOND_REMOVED[0], 1, |g, t| change(g, t, false, false)).writes(&SECOND_REMOVED),
    Action::new(MULTI_REMOVED[0], 1, |g, t| change(g, t, true, false)).writes(&MULTI_REMOVED),
];

/// Second factor types: TOTP, U2F, OTP via email, OTP via SMS, recovery
/// codes.
const SECOND_FACTORS: [i64; 5] = [1, 2, 3, 4, 5];

/// Multi factor types: U2F with PIN.
const MULTI_FACTORS: [i64; 1] = [1];

/// The event type of a factor change at `level`.
fn event(level: Level, multi: bool, added: bool) -> &'static str {
    let events = match (multi, added) {
        (false, true) => &SECOND_ADDED,
        (false, false) => &SECOND_REMOVED,
        (true, true) => &MULTI_ADDED,
        (true, false) => &MULTI_REMOVED,
    };
    events[usize::from(level != Level::Instance)]
}

/// Add (or remove) `factor` to the list of `level`'s login policy.
fn write(g: &mut Gen, t: usize, level: Level, multi: bool, added: bool, factor: i64) {
    emit(
        g,
        t,
        level,
        event(level, multi, added),
        Some(json!({ "mfaType": factor })),
    );
    let owner = owner(g, t, level);
    let list = if multi {
        &mut owner.multi_factors
    } else {
        &mut owner.second_factors
    };
    if added {
        list.push(factor);
    } else {
        list.retain(|f| *f != factor);
    }
}

/// The instance's default factors at set-up: TOTP and U2F, now and then
/// OTP via email and SMS, and U2F with PIN.
pub(super) fn defaults(g: &mut Gen, t: usize) {
    let mut second = vec![1, 2];
    if g.rng.chance(30) {
        second.extend([3, 4]);
    }
    for factor in second {
        write(g, t, Level::Instance, false, true, factor);
    }
    write(g, t, Level::Instance, true, true, MULTI_FACTORS[0]);
}

/// The factors an org's new login policy brings along, now and then.
pub(super) fn with_policy(g: &mut Gen, t: usize, level: Level) {
    if g.rng.chance(50) {
        for factor in g.rng.subset(&SECOND_FACTORS[..4], 1) {
            write(g, t, level, false, true, factor);
        }
    }
    if g.rng.chance(30) {
        write(g, t, level, true, true, MULTI_FACTORS[0]);
    }
}

/// Add a factor a login policy lacks, or remove one it has. A factor is
/// added for its removal too: while the removal was never written at a
/// level where no live login policy has a factor.
fn change(g: &mut Gen, t: usize, multi: bool, added: bool) -> bool {
    let factors: &[i64] = if multi {
        &MULTI_FACTORS
    } else {
        &SECOND_FACTORS
    };
    let list = |owner: &Owner| {
        if multi {
            owner.multi_factors.clone()
        } else {
            owner.second_factors.clone()
        }
    };
    let owners: Vec<(Level, Vec<i64>)> = levels(g, t)
        .into_iter()
        .filter(|(_, owner)| owner.has(Kind::Login))
        .map(|(level, owner)| (level, list(owner)))
        .collect();
    let reason = |level: Level| {
        let removal = event(level, multi, false);
        let none = !anywhere(g, level != Level::Instance, |o| !list(o).is_empty());
        if added && none && g.fresh(removal) {
            removal
        } else {
            event(level, multi, added)
        }
    };
    let options: Vec<((Level, i64), String)> = owners
        .iter()
        .flat_map(|(level, list)| {
            factors
                .iter()
                .filter(|f| list.contains(f) != added)
                .map(|f| ((*level, *f), reason(*level).to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    let Some((level, factor)) = g.choose(&options) else {
        return false;
    };
    write(g, t, level, multi, added, factor);
    true
}
