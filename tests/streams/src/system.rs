//! Events of the system family: the installation-wide feature defaults the
//! system API sets (`feature.system.<key>.set`, payload `{"Value": …}`, now
//! and then spelled `value`) and resets (`feature.system.reset`). They
//! belong to the system tenant (instance id `""`), on the `feature`
//! aggregate `SYSTEM` owned by `SYSTEM`, each in a transaction of its own
//! between the tenants' ones. The defaults are reset once, after some keys
//! were set, and set again right after, so that they end with keys set.

use serde_json::{Value, json};

use crate::generator::{Action, Gen};

/// Per mille of the generator's steps that pick an action of this module.
pub(crate) const PER_MILLE: usize = 4;

/// The feature keys the system family reads, with their value shapes ('b'
/// bool, 'i' int array, 'o' object), in the order of [`SETS`].
const KEYS: [(&str, char); 5] = [
    ("login_default_org", 'b'),
    ("user_schema", 'b'),
    ("improved_performance", 'i'),
    ("login_v2", 'o'),
    ("permission_check_v2", 'b'),
];

/// The set events of the keys.
const SETS: [&str; 5] = [
    "feature.system.login_default_org.set",
    "feature.system.user_schema.set",
    "feature.system.improved_performance.set",
    "feature.system.login_v2.set",
    "feature.system.permission_check_v2.set",
];

/// The reset event.
const RESET: &str = "feature.system.reset";

/// The aggregate id and owner of the system's feature events.
const SYSTEM: &str = "SYSTEM";

/// The system actions (the tenant they are run for does not matter).
const ACTIONS: &[Action] = &[
    Action::new(SETS[0], 4, |g, _| set(g)).writes(&SETS),
    Action::new(RESET, 1, |g, _| reset(g)),
];

/// Every action of the system family.
pub(crate) fn actions() -> impl Iterator<Item = &'static Action> {
    ACTIONS.iter()
}

/// A value of the given shape.
fn value(g: &mut Gen, shape: char) -> Value {
    match shape {
        'i' => json!(g.rng.subset(&[1, 2, 3, 4, 5], 0)),
        'o' => match g.rng.below(3) {
            0 => json!({ "required": false }),
            1 => json!({ "required": true }),
            _ => json!({
                "required": true,
                "base_uri": {
                    "Scheme": "https", "Opaque": "", "User": null,
                    "Host": "login.example.com", "Path": "/ui/v2/login", "RawPath": "",
                    "OmitHost": false, "ForceQuery": false, "RawQuery": "",
                    "Fragment": "", "RawFragment": ""
                }
            }),
        },
        _ => json!(g.rng.coin()),
    }
}

/// Set key `k` of [`KEYS`] in the open transaction.
fn set_key(g: &mut Gen, k: usize) {
    let (_, shape) = KEYS[k];
    let value = value(g, shape);
    let key = if g.rng.chance(80) { "Value" } else { "value" };
    let mut payload = serde_json::Map::new();
    payload.insert(key.to_owned(), value);
    g.emit_system(
        ("feature", SYSTEM),
        SETS[k],
        SYSTEM,
        Some(Value::Object(payload)),
    );
}

/// Set a key (while one was never set, such a key).
fn set(g: &mut Gen) -> bool {
    let options: Vec<(usize, String)> = SETS
        .iter()
        .enumerate()
        .map(|(k, e)| (k, (*e).to_owned()))
        .collect();
    let Some(k) = g.choose(&options) else {
        return false;
    };
    set_key(g, k);
    true
}

/// Reset every key (once, after a key was set), then set one or two again
/// in the next transaction.
fn reset(g: &mut Gen) -> bool {
    if !g.fresh(RESET) || SETS.iter().all(|e| g.fresh(e)) {
        return false;
    }
    g.emit_system(("feature", SYSTEM), RESET, SYSTEM, None);
    g.commit();
    for _ in 0..g.rng.range(1, 2) {
        let k = g.rng.below(KEYS.len());
        set_key(g, k);
    }
    true
}
