//! The policies in generated streams, as the policies family reads them:
//! every event type it handles occurs, a seed always gives the same
//! events, every instance gets every default policy at set-up, org policies
//! are added, changed and removed in an order the tables accept, and the
//! changed events carry some settings, now and then none.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;
use streams::Config;

use common::{SEEDS, assert_written, key_sets, same_for_a_seed, stream, text, transactions};

/// The event types the policies family handles (besides `org.removed` and
/// `instance.removed`).
const EVENT_TYPES: [&str; 70] = [
    "instance.policy.password.complexity.added",
    "instance.policy.password.complexity.changed",
    "instance.policy.password.age.added",
    "instance.policy.password.age.changed",
    "instance.policy.login.added",
    "instance.policy.login.changed",
    "instance.policy.login.secondfactor.added",
    "instance.policy.login.secondfactor.removed",
    "instance.policy.login.multifactor.added",
    "instance.policy.login.multifactor.removed",
    "instance.policy.lockout.added",
    "instance.policy.lockout.changed",
    "instance.policy.privacy.added",
    "instance.policy.privacy.changed",
    "instance.policy.label.added",
    "instance.policy.label.changed",
    "instance.policy.label.activated",
    "instance.policy.label.logo.added",
    "instance.policy.label.logo.removed",
    "instance.policy.label.logo.dark.added",
    "instance.policy.label.logo.dark.removed",
    "instance.policy.label.icon.added",
    "instance.policy.label.icon.removed",
    "instance.policy.label.icon.dark.added",
    "instance.policy.label.icon.dark.removed",
    "instance.policy.label.font.added",
    "instance.policy.label.font.removed",
    "instance.policy.notification.added",
    "instance.policy.notification.changed",
    "instance.policy.domain.added",
    "instance.policy.domain.changed",
    "org.policy.password.complexity.added",
    "org.policy.password.complexity.changed",
    "org.policy.password.complexity.removed",
    "org.policy.password.age.added",
    "org.policy.password.age.changed",
    "org.policy.password.age.removed",
    "org.policy.login.added",
    "org.policy.login.changed",
    "org.policy.login.removed",
    "org.policy.login.secondfactor.added",
    "org.policy.login.secondfactor.removed",
    "org.policy.login.multifactor.added",
    "org.policy.login.multifactor.removed",
    "org.policy.lockout.added",
    "org.policy.lockout.changed",
    "org.policy.lockout.removed",
    "org.policy.privacy.added",
    "org.policy.privacy.changed",
    "org.policy.privacy.removed",
    "org.policy.label.added",
    "org.policy.label.changed",
    "org.policy.label.removed",
    "org.policy.label.activated",
    "org.policy.label.logo.added",
    "org.policy.label.logo.removed",
    "org.policy.label.logo.dark.added",
    "org.policy.label.logo.dark.removed",
    "org.policy.label.icon.added",
    "org.policy.label.icon.removed",
    "org.policy.label.icon.dark.added",
    "org.policy.label.icon.dark.removed",
    "org.policy.label.font.added",
    "org.policy.label.font.removed",
    "org.policy.notification.added",
    "org.policy.notification.changed",
    "org.policy.notification.removed",
    "org.policy.domain.added",
    "org.policy.domain.changed",
    "org.policy.domain.removed",
];

/// The policy kinds an instance's set-up adds (the domain policy only
/// mostly).
const SET_UP: [&str; 7] = [
    "password.complexity",
    "password.age",
    "login",
    "lockout",
    "privacy",
    "label",
    "notification",
];

/// Whether an event type is a policy event.
fn policy(event_type: &str) -> bool {
    event_type.contains(".policy.")
}

#[test]
fn every_event_type_of_the_policies_family_occurs() {
    for seed in SEEDS {
        let lines = stream(seed);
        let counts = assert_written(seed, &lines, &EVENT_TYPES);
        for event_type in counts.keys().filter(|e| policy(e)) {
            let known = EVENT_TYPES.contains(event_type) || event_type.contains(".idpprovider.");
            assert!(known, "seed {seed}: unexpected {event_type}");
        }
    }
}

#[test]
fn a_seed_always_gives_the_same_policy_events() {
    let first = same_for_a_seed(|l| policy(text(l, "event_type")));
    assert!(first.len() > 250, "{} policy events", first.len());
}

#[test]
fn every_instance_is_set_up_with_every_default_policy() {
    for seed in SEEDS {
        let lines = stream(seed);
        let mut set_ups = 0;
        for tx in transactions(&lines) {
            if !tx.iter().any(|l| l["event_type"] == "instance.added") {
                continue;
            }
            set_ups += 1;
            let types: BTreeSet<&str> = tx.iter().map(|l| text(l, "event_type")).collect();
            for kind in SET_UP {
                let added = format!("instance.policy.{kind}.added");
                assert!(types.contains(added.as_str()), "seed {seed}: no {added}");
            }
            for event_type in [
                "instance.policy.label.activated",
                "instance.policy.login.secondfactor.added",
                "instance.policy.login.multifactor.added",
            ] {
                assert!(types.contains(event_type), "seed {seed}: no {event_type}");
            }
        }
        assert_eq!(set_ups, Config::default().tenants, "seed {seed}");
    }
}

/// What an owner's policies are, as the stream tells it.
#[derive(Default)]
struct Owner {
    kinds: HashSet<String>,
    factors: HashMap<&'static str, Vec<i64>>,
    assets: HashSet<String>,
}

/// The policy kind of a policy event type and the rest after it:
/// `org.policy.label.logo.added` is (`label`, `logo.added`).
fn kind_of(event_type: &str) -> (String, String) {
    let (_, rest) = event_type.split_once(".policy.").unwrap_or_default();
    for kind in [
        "password.complexity",
        "password.age",
        "login",
        "lockout",
        "privacy",
        "label",
        "notification",
        "domain",
    ] {
        if let Some(after) = rest.strip_prefix(kind) {
            return (kind.to_owned(), after.trim_start_matches('.').to_owned());
        }
    }
    (String::new(), rest.to_owned())
}

/// Check one policy event against its owner's policies and apply it;
/// notes the situations seen.
fn apply(owner: &mut Owner, line: &Value, seen: &mut BTreeSet<&'static str>) -> Result<(), String> {
    let event_type = text(line, "event_type");
    let (kind, change) = kind_of(event_type);
    let has = owner.kinds.contains(&kind);
    match change.as_str() {
        "added" if has => return Err(format!("{kind} added twice")),
        "added" => {
            owner.kinds.insert(kind);
        }
        "removed" if has => {
            owner.kinds.remove(&kind);
            owner.factors.clear();
            if kind == "label" {
                owner.assets.clear();
            }
            seen.insert("org policy removed");
        }
        _ if !has => return Err(format!("{kind} {change} without the policy")),
        "changed" | "activated" => {}
        factor if factor.contains("factor.") => {
            let (list, action) = factor.split_once('.').unwrap_or_default();
            let list = if list == "secondfactor" {
                "second"
            } else {
                "multi"
            };
            let mfa = line["payload"]["mfaType"].as_i64().unwrap_or(-1);
            let factors = owner.factors.entry(list).or_default();
            match action {
                "added" if factors.contains(&mfa) => return Err(format!("{mfa} added twice")),
                "added" => factors.push(mfa),
                _ if !factors.contains(&mfa) => return Err(format!("{mfa} removed, not there")),
                _ => factors.retain(|f| *f != mfa),
            }
        }
        asset => {
            let (name, action) = asset.rsplit_once('.').unwrap_or_default();
            match action {
                "added" => {
                    owner.assets.insert(name.to_owned());
                }
                _ if !owner.assets.remove(name) => {
                    return Err(format!("asset {name} removed, not there"));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

#[test]
fn policies_change_in_an_order_the_tables_accept() {
    for seed in SEEDS {
        let mut owners: HashMap<(String, String), Owner> = HashMap::new();
        let mut seen: BTreeSet<&'static str> = BTreeSet::new();
        let mut added: HashMap<(String, String, String), usize> = HashMap::new();
        for line in stream(seed) {
            let tenant = text(&line, "instance_id").to_owned();
            let aggregate = text(&line, "aggregate_id").to_owned();
            let event_type = text(&line, "event_type");
            if event_type == "org.removed" {
                let owner = owners.remove(&(tenant, aggregate));
                if owner.is_some_and(|o| !o.kinds.is_empty()) {
                    seen.insert("org removed with policies");
                }
                continue;
            }
            if !policy(event_type) || event_type.contains(".idpprovider.") {
                continue;
            }
            let (kind, change) = kind_of(event_type);
            if change == "added" && event_type.starts_with("org.") {
                let n = added
                    .entry((tenant.clone(), aggregate.clone(), kind))
                    .or_default();
                *n += 1;
                if *n > 1 {
                    seen.insert("org policy added again after its removal");
                }
            }
            let owner = owners.entry((tenant, aggregate)).or_default();
            if let Err(wrong) = apply(owner, &line, &mut seen) {
                panic!("seed {seed}: {wrong}: {line}");
            }
        }
        let expected = BTreeSet::from([
            "org policy added again after its removal",
            "org policy removed",
            "org removed with policies",
        ]);
        assert_eq!(seen, expected, "seed {seed}");
    }
}

#[test]
fn label_changes_are_followed_by_activation() {
    for seed in SEEDS {
        let mut pending: HashSet<(String, String)> = HashSet::new();
        let mut activated_after_change = 0;
        for line in stream(seed) {
            let event_type = text(&line, "event_type");
            if !event_type.contains(".policy.label.") {
                continue;
            }
            let owner = (
                text(&line, "instance_id").to_owned(),
                text(&line, "aggregate_id").to_owned(),
            );
            match event_type {
                "instance.policy.label.activated" | "org.policy.label.activated"
                    if pending.remove(&owner) =>
                {
                    activated_after_change += 1;
                }
                "instance.policy.label.activated" | "org.policy.label.activated" => {}
                "org.policy.label.removed" => {
                    pending.remove(&owner);
                }
                changed if !changed.ends_with("label.added") => {
                    pending.insert(owner);
                }
                _ => {}
            }
        }
        assert!(
            activated_after_change > 1,
            "seed {seed}: {activated_after_change} activations after changes"
        );
    }
}

#[test]
fn changes_carry_some_settings_and_now_and_then_none() {
    let lines: Vec<Value> = SEEDS.into_iter().flat_map(stream).collect();
    let sets = key_sets(&lines);
    let changed: Vec<&String> = sets
        .keys()
        .filter(|e| policy(e) && e.ends_with(".changed"))
        .collect();
    let sizes: BTreeSet<usize> = changed
        .iter()
        .flat_map(|e| sets[*e].iter().map(Vec::len))
        .map(|n| n.min(3))
        .collect();
    assert_eq!(sizes, BTreeSet::from([0, 1, 2, 3]), "changed payload sizes");
    let shapes: usize = changed.iter().map(|e| sets[*e].len()).sum();
    assert!(shapes >= 30, "{shapes} shapes of policy changes");
    for line in &lines {
        let event_type = text(line, "event_type");
        let payload = &line["payload"];
        if event_type.ends_with(".policy.label.added") {
            assert!(payload.get("disableWatermark").is_none(), "{line}");
        }
        if event_type.ends_with(".policy.label.changed") {
            assert!(payload.get("disableMsgPopup").is_none(), "{line}");
        }
    }
    let watermark = lines.iter().any(|l| {
        text(l, "event_type").ends_with(".policy.label.changed")
            && l["payload"].get("disableWatermark").is_some()
    });
    assert!(watermark, "no label change of the watermark");
    // Go's omitempty leaves out a setting with its zero value from an added
    // policy, mostly.
    let added: Vec<&Value> = lines
        .iter()
        .filter(|l| policy(text(l, "event_type")) && text(l, "event_type").ends_with(".added"))
        .collect();
    let explicit_false = added.iter().any(|l| {
        l["payload"]
            .as_object()
            .is_some_and(|p| p.values().any(|v| *v == false))
    });
    assert!(explicit_false, "no added policy writes a false setting");
    let login_keys = sets["org.policy.login.added"]
        .iter()
        .map(Vec::len)
        .collect::<BTreeSet<usize>>();
    assert!(
        login_keys.len() >= 3,
        "org login policies with {login_keys:?} keys"
    );
    assert!(
        sets["instance.policy.password.age.added"].contains(&Vec::new()),
        "no default password age policy without settings"
    );
}

#[test]
fn payload_values_have_the_shapes_zitadel_writes() {
    let mut second = BTreeSet::new();
    for seed in SEEDS {
        for line in stream(seed) {
            let event_type = text(&line, "event_type");
            if !policy(event_type) {
                continue;
            }
            let payload = &line["payload"];
            if event_type.contains(".secondfactor.") {
                second.insert(payload["mfaType"].as_i64());
            }
            if event_type.contains(".multifactor.") {
                assert_eq!(payload["mfaType"].as_i64(), Some(1), "{line}");
            }
            for key in [
                "passwordCheckLifetime",
                "externalLoginCheckLifetime",
                "mfaInitSkipLifetime",
                "secondFactorCheckLifetime",
                "multiFactorCheckLifetime",
                "minLength",
                "maxAgeDays",
                "maxPasswordAttempts",
            ] {
                if let Some(value) = payload.get(key) {
                    assert!(value.as_u64().is_some(), "{key}: {line}");
                }
            }
            if let Some(color) = payload.get("primaryColor").and_then(Value::as_str) {
                let hex = color.len() == 7 && color.starts_with('#');
                assert!(color.is_empty() || hex, "{line}");
            }
            if event_type.contains(".label.") && event_type.ends_with("ed") {
                let asset = ["logo", "icon", "font"]
                    .iter()
                    .any(|a| event_type.contains(&format!("label.{a}")));
                if asset {
                    assert!(!text(payload, "storeKey").is_empty(), "{line}");
                }
            }
        }
    }
    let all: BTreeSet<Option<i64>> = (1..=5).map(Some).collect();
    assert_eq!(second, all, "second factor types");
}
