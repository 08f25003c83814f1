//! Milestones, quotas and limits in generated streams, as the limits
//! family reads them: every event type it handles occurs, a seed always
//! gives the same events, each milestone is reached once and pushed only
//! after, the deletion milestone comes with the instance's removal, quota
//! notifications fall due only while listed, and limits are set with
//! varied fields and reset.

mod common;

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use common::{
    SEEDS, assert_own_event_types, payload_keys, same_for_a_seed, stream, text, transactions,
};

/// The event types the limits family handles (besides `instance.removed`).
const EVENT_TYPES: [&str; 9] = [
    "milestone.v2.reached",
    "milestone.v2.pushed",
    "quota.added",
    "quota.set",
    "quota.notificationdue",
    "quota.notified",
    "quota.removed",
    "limits.set",
    "limits.reset",
];

/// The milestone types by name.
const MILESTONES: [&str; 6] = [
    "InstanceCreated",
    "AuthenticationSucceededOnInstance",
    "ProjectCreated",
    "ApplicationCreated",
    "AuthenticationSucceededOnApplication",
    "InstanceDeleted",
];

/// Whether an aggregate type is one of the family's.
fn limits(aggregate_type: &str) -> bool {
    matches!(aggregate_type, "milestone" | "quota" | "limits")
}

#[test]
fn every_event_type_of_the_limits_family_occurs() {
    for seed in SEEDS {
        assert_own_event_types(seed, &stream(seed), limits, &EVENT_TYPES);
    }
}

#[test]
fn a_seed_always_gives_the_same_limit_events() {
    let first = same_for_a_seed(|l| limits(text(l, "aggregate_type")));
    assert!(first.len() > 60, "{} events", first.len());
}

#[test]
fn milestones_are_reached_once_and_pushed_after() {
    let mut reached_types = BTreeSet::new();
    let mut seen = BTreeSet::new();
    for seed in SEEDS {
        let lines = stream(seed);
        let mut reached: HashSet<(String, String)> = HashSet::new();
        let mut pushed: HashSet<(String, String)> = HashSet::new();
        let mut removed: HashSet<String> = HashSet::new();
        for tx in transactions(&lines) {
            let removal = tx.iter().any(|l| l["event_type"] == "instance.removed");
            let set_up = tx.iter().any(|l| l["event_type"] == "instance.added");
            for line in tx {
                let tenant = text(line, "instance_id").to_owned();
                let milestone = text(&line["payload"], "type").to_owned();
                match text(line, "event_type") {
                    "instance.removed" => {
                        removed.insert(tenant);
                    }
                    "milestone.v2.reached" => {
                        assert_eq!(text(line, "aggregate_id"), tenant, "{line}");
                        assert!(MILESTONES.contains(&milestone.as_str()), "{line}");
                        let key = (tenant, milestone.clone());
                        assert!(reached.insert(key), "seed {seed}: reached twice: {line}");
                        match milestone.as_str() {
                            "InstanceCreated" => assert!(set_up, "{line}"),
                            "InstanceDeleted" => assert!(removal, "{line}"),
                            _ => {}
                        }
                        if line["payload"].get("reachedDate").is_some() {
                            seen.insert("reached with a date");
                        }
                        reached_types.insert(milestone);
                    }
                    "milestone.v2.pushed" => {
                        let key = (tenant.clone(), milestone.clone());
                        assert!(reached.contains(&key), "seed {seed}: not reached: {line}");
                        assert!(pushed.insert(key), "seed {seed}: pushed twice: {line}");
                        if removed.contains(&tenant) {
                            assert_eq!(milestone, "InstanceDeleted", "{line}");
                            seen.insert("deletion pushed after the removal");
                        }
                        if line["payload"].get("pushedDate").is_some() {
                            seen.insert("pushed with a date");
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let all: BTreeSet<String> = MILESTONES.iter().map(|m| (*m).to_owned()).collect();
    assert_eq!(reached_types, all);
    let expected = BTreeSet::from([
        "deletion pushed after the removal",
        "pushed with a date",
        "reached with a date",
    ]);
    assert_eq!(seen, expected);
}

/// A quota's notifications, as the stream tells them.
type Notifications = HashSet<String>;

#[test]
fn quotas_change_in_an_order_the_tables_accept() {
    let mut seen = BTreeSet::new();
    for seed in SEEDS {
        let mut quotas: HashMap<(String, u64), (String, Notifications)> = HashMap::new();
        let mut due: HashSet<(String, String)> = HashSet::new();
        for line in stream(seed) {
            let tenant = text(&line, "instance_id").to_owned();
            let payload = &line["payload"];
            let unit = payload["unit"].as_u64().unwrap_or_default();
            let key = (tenant.clone(), unit);
            let listed = |payload: &Value| -> Option<Notifications> {
                payload["notifications"]
                    .as_array()
                    .map(|items| items.iter().map(|n| text(n, "id").to_owned()).collect())
            };
            match text(&line, "event_type") {
                event @ ("quota.added" | "quota.set") => {
                    assert!(unit == 1 || unit == 2, "{line}");
                    let aggregate = text(&line, "aggregate_id").to_owned();
                    let list = listed(payload);
                    match list {
                        Some(ref l) if l.is_empty() => seen.insert("set with an empty list"),
                        Some(_) => seen.insert("set with notifications"),
                        None => seen.insert("set without notifications"),
                    };
                    let quota = quotas.entry(key).or_insert_with(|| {
                        seen.insert(if event == "quota.added" {
                            "quota added"
                        } else {
                            "quota created by a set"
                        });
                        (aggregate.clone(), Notifications::new())
                    });
                    assert_eq!(quota.0, aggregate, "one aggregate per unit: {line}");
                    if let Some(list) = list {
                        quota.1 = list;
                    }
                }
                "quota.notificationdue" => {
                    let id = text(payload, "id").to_owned();
                    let quota = quotas.get(&key);
                    assert!(quota.is_some_and(|q| q.1.contains(&id)), "{line}");
                    due.insert((tenant, id));
                }
                "quota.notified" => {
                    let id = text(payload, "id").to_owned();
                    assert!(due.remove(&(tenant, id)), "not due: {line}");
                    assert!(!text(payload, "dueEventID").is_empty(), "{line}");
                }
                "quota.removed" => {
                    assert!(quotas.remove(&key).is_some(), "{line}");
                    seen.insert("quota removed");
                }
                _ => {}
            }
        }
    }
    let expected = BTreeSet::from([
        "quota added",
        "quota created by a set",
        "quota removed",
        "set with an empty list",
        "set with notifications",
        "set without notifications",
    ]);
    assert_eq!(seen, expected);
}

#[test]
fn limits_are_set_with_varied_fields_and_reset() {
    let mut shapes = BTreeSet::new();
    let mut renewed = false;
    for seed in SEEDS {
        let mut set: HashMap<String, String> = HashMap::new();
        let mut reset: HashMap<String, String> = HashMap::new();
        for line in stream(seed) {
            let tenant = text(&line, "instance_id").to_owned();
            let aggregate = text(&line, "aggregate_id").to_owned();
            match text(&line, "event_type") {
                "limits.set" => {
                    let keys = payload_keys(&line);
                    if let Some(retention) = line["payload"].get("auditLogRetention") {
                        assert!(retention.as_u64().is_some_and(|n| n > 0), "{line}");
                    }
                    shapes.insert(keys);
                    if reset.get(&tenant).is_some_and(|old| *old != aggregate) {
                        renewed = true;
                    }
                    set.insert(tenant, aggregate);
                }
                "limits.reset" => {
                    let current = set.remove(&tenant);
                    assert_eq!(current.as_ref(), Some(&aggregate), "{line}");
                    reset.insert(tenant, aggregate);
                }
                _ => {}
            }
        }
    }
    let expected: BTreeSet<Vec<String>> = [
        vec!["auditLogRetention"],
        vec!["block"],
        vec!["auditLogRetention", "block"],
    ]
    .into_iter()
    .map(|keys| keys.into_iter().map(str::to_owned).collect())
    .collect();
    assert_eq!(shapes, expected);
    assert!(renewed, "no limits set again after a reset");
}
