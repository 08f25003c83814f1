//! Milestones of an instance (the `milestone` aggregate, whose id is the
//! instance's): each type is reached once, in the transaction of what
//! reaches it (the instance's creation, its first own project and app, the
//! first logins, its removal), now and then with the `reachedDate` of a
//! migrated milestone. An instance that reports them pushes the reached
//! ones later; the milestone of its removal is pushed right after the
//! removal, the only event of an instance after `instance.removed`.

use serde_json::{Map, Value, json};

use crate::clock;
use crate::generator::{Action, Gen};

/// The milestone actions.
pub(super) const ACTIONS: &[Action] = &[Action::new("milestone.v2.pushed", 1, pushed)];

/// The milestone types, by the names the payloads carry; type `n` is at
/// `n - 1`.
const TYPES: [&str; 6] = [
    "InstanceCreated",
    "AuthenticationSucceededOnInstance",
    "ProjectCreated",
    "ApplicationCreated",
    "AuthenticationSucceededOnApplication",
    "InstanceDeleted",
];

/// The instance was created.
pub(super) const INSTANCE_CREATED: usize = 1;
/// A user logged in to the instance.
pub(crate) const AUTHENTICATED_ON_INSTANCE: usize = 2;
/// A project other than the instance's own was created.
pub(crate) const PROJECT_CREATED: usize = 3;
/// An application other than the console was created.
pub(crate) const APPLICATION_CREATED: usize = 4;
/// A user logged in to an application.
pub(crate) const AUTHENTICATED_ON_APPLICATION: usize = 5;
/// The instance was removed.
const INSTANCE_DELETED: usize = 6;

/// The situations of a milestone reached and pushed with the date of a
/// migrated one.
const REACHED_DATED: &str = "milestone.v2.reached/with a date";
const PUSHED_DATED: &str = "milestone.v2.pushed/with a date";

/// The situation of the deletion milestone pushed.
const DELETION_PUSHED: &str = "milestone.v2.pushed/InstanceDeleted";

/// Emit a milestone event of tenant `t`.
fn emit(g: &mut Gen, t: usize, event_type: &str, payload: Value) {
    let id = g.tenants[t].id.clone();
    g.emit(t, ("milestone", &id), event_type, &id, Some(payload));
}

/// A time some days before the transaction, as a migrated milestone
/// carries it.
fn earlier(g: &mut Gen) -> String {
    let days = i64::try_from(g.rng.range(1, 400)).unwrap_or(1);
    let micros = g.now()
        - days * 86_400_000_000
        - i64::try_from(g.rng.below(86_400)).unwrap_or(0) * 1_000_000;
    clock::go_time_at(micros, 0, 0)
}

/// Reach milestone `kind` of tenant `t` in the open transaction, unless it
/// was reached before.
pub(crate) fn reach(g: &mut Gen, t: usize, kind: usize) {
    if g.tenants[t].limits.reached.contains(&kind) {
        return;
    }
    let mut p = Map::new();
    p.insert("type".to_owned(), json!(TYPES[kind - 1]));
    if kind != INSTANCE_DELETED && (g.fresh(REACHED_DATED) || g.rng.chance(15)) {
        p.insert("reachedDate".to_owned(), json!(earlier(g)));
        g.mark(REACHED_DATED);
    }
    emit(g, t, "milestone.v2.reached", Value::Object(p));
    g.tenants[t].limits.reached.push(kind);
}

/// The payload of pushing milestone `kind`.
fn push_payload(g: &mut Gen, t: usize, kind: usize) -> Value {
    let domain = g.tenants[t].primary_domain();
    let mut p = Map::new();
    p.insert("type".to_owned(), json!(TYPES[kind - 1]));
    p.insert("externalDomain".to_owned(), json!(domain));
    p.insert("primaryDomain".to_owned(), json!(domain));
    let endpoints = [
        "https://zitadel.cloud/milestones",
        "https://telemetry.example.com/v1",
    ];
    let n = g.rng.range(1, 2);
    p.insert("endpoints".to_owned(), json!(endpoints[..n]));
    if kind != INSTANCE_DELETED && (g.fresh(PUSHED_DATED) || g.rng.chance(15)) {
        p.insert("pushedDate".to_owned(), json!(earlier(g)));
        g.mark(PUSHED_DATED);
    }
    Value::Object(p)
}

/// Push a reached milestone of an instance that reports them.
fn pushed(g: &mut Gen, t: usize) -> bool {
    let limits = &g.tenants[t].limits;
    if !limits.telemetry {
        return false;
    }
    let options: Vec<(usize, String)> = limits
        .reached
        .iter()
        .filter(|kind| !limits.pushed.contains(kind))
        .map(|kind| (*kind, format!("milestone.v2.pushed/{}", TYPES[kind - 1])))
        .collect();
    let Some(kind) = g.choose(&options) else {
        return false;
    };
    g.creator("SYSTEM");
    let payload = push_payload(g, t, kind);
    emit(g, t, "milestone.v2.pushed", payload);
    g.mark(&format!("milestone.v2.pushed/{}", TYPES[kind - 1]));
    g.tenants[t].limits.pushed.push(kind);
    true
}

/// The removal of tenant `t` reaches the milestone of its deletion (in the
/// removal's transaction); an instance that reports milestones (or any,
/// while that was never written) pushes it right after, in a transaction
/// of its own.
pub(crate) fn instance_deleted(g: &mut Gen, t: usize) {
    reach(g, t, INSTANCE_DELETED);
    if g.tenants[t].limits.telemetry || g.fresh(DELETION_PUSHED) {
        g.commit();
        g.creator("SYSTEM");
        let payload = push_payload(g, t, INSTANCE_DELETED);
        emit(g, t, "milestone.v2.pushed", payload);
        g.mark(DELETION_PUSHED);
        g.tenants[t].limits.pushed.push(INSTANCE_DELETED);
    }
}
