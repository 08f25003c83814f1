//! Events of the limits family: the `milestone`, `quota` and `limits`
//! aggregates of an instance (each owned by the instance).
//!
//! | module | events |
//! |---|---|
//! | `limits.rs` | `limits.set` with varied fields, `limits.reset` |
//! | `limits/milestones.rs` | milestones reached (at set-up, with the first project, app and login, at removal) and pushed |
//! | `limits/quotas.rs` | quotas added and set (with and without notifications), notifications due and notified, quotas removed |

use serde_json::{Map, Value, json};

use crate::generator::{Action, Gen};

mod milestones;
mod quotas;

pub(crate) use milestones::{
    APPLICATION_CREATED, AUTHENTICATED_ON_APPLICATION, AUTHENTICATED_ON_INSTANCE, PROJECT_CREATED,
    instance_deleted, reach,
};
pub(crate) use quotas::Quota;

/// Per mille of the generator's steps that pick an action of this module.
pub(crate) const PER_MILLE: usize = 15;

/// The limits actions.
const ACTIONS: &[Action] = &[
    Action::new("limits.set", 3, set),
    Action::new("limits.reset", 1, reset),
];

/// Every action of the family's aggregates.
pub(crate) fn actions() -> impl Iterator<Item = &'static Action> {
    milestones::ACTIONS
        .iter()
        .chain(quotas::ACTIONS)
        .chain(ACTIONS)
}

/// The milestones, quotas and limits of an instance.
#[derive(Debug, Clone, Default)]
pub(crate) struct Limits {
    /// Reached milestones are pushed (the instance reports them).
    pub(crate) telemetry: bool,
    /// The milestone types reached.
    pub(crate) reached: Vec<usize>,
    /// The milestone types pushed.
    pub(crate) pushed: Vec<usize>,
    /// Quotas (the removed ones too).
    pub(crate) quotas: Vec<Quota>,
    /// The `limits` aggregate's id while limits are set.
    pub(crate) limits: Option<String>,
}

/// Set-up of an instance: the milestone of its creation and, now and then,
/// a quota the system API gave it.
pub(crate) fn set_up(g: &mut Gen, t: usize) {
    g.tenants[t].limits.telemetry = g.rng.chance(70);
    reach(g, t, milestones::INSTANCE_CREATED);
    if g.rng.chance(15) {
        quotas::add(g, t, "quota.added");
    }
}

/// An audit log retention: a Go duration in nanoseconds.
fn retention(g: &mut Gen) -> Value {
    let days: i64 = g.rng.one(&[1, 7, 30, 90, 365]);
    let minutes: i64 = g.rng.one(&[0, 0, 5, 90]);
    json!((days * 24 * 60 + minutes) * 60 * 1_000_000_000)
}

/// Set the instance's limits: the audit log retention, blocking, or both;
/// the first set creates the aggregate.
fn set(g: &mut Gen, t: usize) -> bool {
    let id = match g.tenants[t].limits.limits.clone() {
        Some(id) => id,
        None => g.id(),
    };
    let mut p = Map::new();
    match g.rng.below(5) {
        0 | 1 => {
            p.insert("auditLogRetention".to_owned(), retention(g));
        }
        2 | 3 => {
            p.insert("block".to_owned(), json!(g.rng.chance(40)));
        }
        _ => {
            p.insert("auditLogRetention".to_owned(), retention(g));
            p.insert("block".to_owned(), json!(g.rng.coin()));
        }
    }
    let owner = g.tenants[t].id.clone();
    g.creator("SYSTEM");
    g.emit(
        t,
        ("limits", &id),
        "limits.set",
        &owner,
        Some(Value::Object(p)),
    );
    g.tenants[t].limits.limits = Some(id);
    true
}

/// Reset the instance's limits to the defaults; a later set starts a new
/// aggregate.
fn reset(g: &mut Gen, t: usize) -> bool {
    let Some(id) = g.tenants[t].limits.limits.take() else {
        return false;
    };
    let owner = g.tenants[t].id.clone();
    g.creator("SYSTEM");
    g.emit(t, ("limits", &id), "limits.reset", &owner, Some(json!({})));
    true
}
