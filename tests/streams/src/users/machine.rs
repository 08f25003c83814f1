//! Machine users: their changes, client secrets and keys, and the personal
//! access tokens of any user.

use serde_json::{Map, Value, json};

use super::{emit, maybe, pick};
use crate::clock;
use crate::generator::{Action, Gen};
use crate::text;
use crate::world::Kind;

/// The actions of this module.
pub(super) const ACTIONS: &[Action] = &[
    Action::new("user.machine.changed", 2, changed),
    Action::new("user.machine.secret.set", 2, secret_set),
    Action::new("user.machine.secret.updated", 1, secret_updated),
    Action::new("user.machine.secret.removed", 1, secret_removed),
    Action::new("user.machine.key.added", 2, key_added),
    Action::new("user.machine.key.removed", 1, key_removed),
    Action::new("user.pat.added", 3, pat_added),
    Action::new("user.pat.removed", 1, pat_removed),
];

/// Token scopes.
const SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "urn:zitadel:iam:org:project:id:zitadel:aud",
    "urn:zitadel:iam:user:metadata",
];

fn machine(g: &mut Gen, t: usize, keep: impl Fn(&crate::world::User) -> bool) -> Option<usize> {
    pick(g, t, |u| u.kind == Kind::Machine && keep(u), None)
}

fn changed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = machine(g, t, |_| true) else {
        return false;
    };
    let mut p = Map::new();
    let name = format!("Service {}", text::words(&mut g.rng, 2));
    maybe(g, &mut p, 50, "name", json!(name));
    let description = text::description(&mut g.rng);
    maybe(g, &mut p, 50, "description", json!(description));
    let kind = g.rng.below(2);
    maybe(g, &mut p, 40, "accessTokenType", json!(kind));
    if p.is_empty() {
        p.insert("accessTokenType".to_owned(), json!(kind));
    }
    emit(g, t, user, "user.machine.changed", Some(Value::Object(p)));
    true
}

fn secret_set(g: &mut Gen, t: usize) -> bool {
    let Some(user) = machine(g, t, |_| true) else {
        return false;
    };
    let payload = if g.rng.chance(30) {
        json!({ "clientSecret": text::crypto_value(&mut g.rng) })
    } else {
        json!({ "hashedSecret": text::password_hash(&mut g.rng) })
    };
    emit(g, t, user, "user.machine.secret.set", Some(payload));
    g.tenants[t].users[user].secret = true;
    true
}

fn secret_updated(g: &mut Gen, t: usize) -> bool {
    let Some(user) = machine(g, t, |u| u.secret) else {
        return false;
    };
    let payload = json!({ "hashedSecret": text::password_hash(&mut g.rng) });
    emit(g, t, user, "user.machine.secret.updated", Some(payload));
    true
}

fn secret_removed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = machine(g, t, |u| u.secret) else {
        return false;
    };
    emit(g, t, user, "user.machine.secret.removed", None);
    g.tenants[t].users[user].secret = false;
    true
}

fn key_added(g: &mut Gen, t: usize) -> bool {
    let Some(user) = machine(g, t, |_| true) else {
        return false;
    };
    let id = g.id();
    let payload = json!({
        "keyId": id,
        "type": 1,
        "expirationDate": clock::expiration(&mut g.rng),
        "publicKey": text::public_key(&mut g.rng),
    });
    emit(g, t, user, "user.machine.key.added", Some(payload));
    g.tenants[t].users[user].keys.push(id);
    true
}

fn key_removed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = machine(g, t, |u| !u.keys.is_empty()) else {
        return false;
    };
    let n = g.tenants[t].users[user].keys.len();
    let id = g.tenants[t].users[user].keys.remove(g.rng.below(n));
    emit(
        g,
        t,
        user,
        "user.machine.key.removed",
        Some(json!({ "keyId": id })),
    );
    true
}

/// A token for a machine user mostly, now and then for a human.
fn pat_added(g: &mut Gen, t: usize) -> bool {
    let machines_only = g.rng.chance(85);
    let Some(user) = pick(g, t, |u| !machines_only || u.kind == Kind::Machine, None) else {
        return false;
    };
    let id = g.id();
    let scopes: Vec<&str> = g.rng.subset(SCOPES, 1);
    let payload =
        json!({ "tokenId": id, "expiration": clock::expiration(&mut g.rng), "scopes": scopes });
    emit(g, t, user, "user.pat.added", Some(payload));
    g.tenants[t].users[user].pats.push(id);
    true
}

fn pat_removed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = pick(g, t, |u| !u.pats.is_empty(), None) else {
        return false;
    };
    let n = g.tenants[t].users[user].pats.len();
    let id = g.tenants[t].users[user].pats.remove(g.rng.below(n));
    emit(
        g,
        t,
        user,
        "user.pat.removed",
        Some(json!({ "tokenId": id })),
    );
    true
}
