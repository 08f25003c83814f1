//! Events of the `target` aggregate (action targets of the instance): the
//! targets and their signing keys, which the users family keeps among the
//! authentication keys.

use serde_json::{Map, Value, json};

use crate::generator::{Action, Gen};
use crate::world::Target;
use crate::{clock, text};

/// The target actions.
pub(crate) const ACTIONS: &[Action] = &[
    Action::new("target.added", 2, added),
    Action::new("target.key.added", 3, key_added),
    Action::new("target.key.activated", 3, key_activated),
    Action::new("target.key.deactivated", 2, key_deactivated),
    Action::new("target.key.removed", 1, key_removed),
    Action::new("target.removed", 1, removed),
];

/// Whether a key event was never written: keys and targets are then kept
/// until it is.
fn keys_pending(g: &Gen) -> bool {
    g.fresh("target.key.activated") || g.fresh("target.key.deactivated")
}

/// Emit an event of target `target`.
fn emit(g: &mut Gen, t: usize, target: usize, event_type: &str, payload: Option<Value>) {
    let id = g.tenants[t].targets[target].id.clone();
    let owner = g.tenants[t].id.clone();
    g.emit(t, ("target", &id), event_type, &owner, payload);
}

/// A live target that passes `keep`.
fn pick(g: &mut Gen, t: usize, keep: impl Fn(&Target) -> bool) -> Option<usize> {
    let targets: Vec<usize> = (0..g.tenants[t].targets.len())
        .filter(|i| {
            let target = &g.tenants[t].targets[*i];
            !target.removed && keep(target)
        })
        .collect();
    g.rng.pick(&targets).copied()
}

fn added(g: &mut Gen, t: usize) -> bool {
    let id = g.id();
    let target = g.tenants[t].targets.len();
    g.tenants[t].targets.push(Target {
        id,
        removed: false,
        keys: Vec::new(),
    });
    let mut p = Map::new();
    p.insert(
        "name".to_owned(),
        json!(format!("webhook {}", text::words(&mut g.rng, 2))),
    );
    p.insert("targetType".to_owned(), json!(g.rng.below(3)));
    p.insert(
        "endpoint".to_owned(),
        json!("https://hooks.example.com/zitadel?x=1&y=ü"),
    );
    p.insert("timeout".to_owned(), json!(10_000_000_000_i64));
    if g.rng.coin() {
        p.insert("interruptOnError".to_owned(), json!(true));
    }
    emit(g, t, target, "target.added", Some(Value::Object(p)));
    true
}

fn key_added(g: &mut Gen, t: usize) -> bool {
    let Some(target) = pick(g, t, |_| true) else {
        return false;
    };
    let key = g.id();
    let mut p = Map::new();
    p.insert("keyId".to_owned(), json!(key));
    p.insert("publicKey".to_owned(), json!(text::public_key(&mut g.rng)));
    p.insert(
        "fingerprint".to_owned(),
        json!(format!("SHA256:{}", text::hex(&mut g.rng, 64))),
    );
    if g.rng.coin() {
        p.insert(
            "expirationDate".to_owned(),
            json!(clock::expiration(&mut g.rng)),
        );
    }
    emit(g, t, target, "target.key.added", Some(Value::Object(p)));
    g.tenants[t].targets[target].keys.push((key, false));
    true
}

fn key_activated(g: &mut Gen, t: usize) -> bool {
    let Some(target) = pick(g, t, |tg| tg.keys.iter().any(|(_, active)| !active)) else {
        return false;
    };
    let inactive: Vec<usize> = (0..g.tenants[t].targets[target].keys.len())
        .filter(|k| !g.tenants[t].targets[target].keys[*k].1)
        .collect();
    let Some(&k) = g.rng.pick(&inactive) else {
        return false;
    };
    let id = g.tenants[t].targets[target].keys[k].0.clone();
    emit(
        g,
        t,
        target,
        "target.key.activated",
        Some(json!({ "keyId": id })),
    );
    for (i, key) in g.tenants[t].targets[target].keys.iter_mut().enumerate() {
        key.1 = i == k;
    }
    true
}

fn key_deactivated(g: &mut Gen, t: usize) -> bool {
    let Some(target) = pick(g, t, |tg| tg.keys.iter().any(|(_, active)| *active)) else {
        return false;
    };
    let keys = &mut g.tenants[t].targets[target].keys;
    let Some(key) = keys.iter_mut().find(|(_, active)| *active) else {
        return false;
    };
    key.1 = false;
    let id = key.0.clone();
    emit(
        g,
        t,
        target,
        "target.key.deactivated",
        Some(json!({ "keyId": id })),
    );
    true
}

fn key_removed(g: &mut Gen, t: usize) -> bool {
    if keys_pending(g) {
        return false;
    }
    let Some(target) = pick(g, t, |tg| !tg.keys.is_empty()) else {
        return false;
    };
    let keys = &mut g.tenants[t].targets[target].keys;
    let (id, _) = keys.remove(g.rng.below(keys.len()));
    emit(
        g,
        t,
        target,
        "target.key.removed",
        Some(json!({ "keyId": id })),
    );
    true
}

fn removed(g: &mut Gen, t: usize) -> bool {
    let pending = keys_pending(g);
    let Some(target) = pick(g, t, |tg| !pending || tg.keys.is_empty()) else {
        return false;
    };
    emit(g, t, target, "target.removed", None);
    g.tenants[t].targets[target].removed = true;
    true
}
