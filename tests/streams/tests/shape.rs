//! Generated streams have the shape of `samples/demo.jsonl` and of real
//! `events2` data: the import fields, per-aggregate sequences, transactions
//! sharing a position, tenants interleaved, and the texts real data holds.

mod common;

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use streams::{Config, FIELDS, generate};

use common::transactions;

fn lines() -> Vec<Value> {
    generate(&Config::default())
}

#[test]
fn lines_have_the_import_fields() {
    let lines = lines();
    assert_eq!(lines.len(), Config::default().events);
    let demo = include_str!("../../../samples/demo.jsonl");
    let first: Value = serde_json::from_str(demo.lines().next().unwrap()).unwrap();
    let demo_fields: BTreeSet<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(demo_fields, FIELDS.into_iter().collect());
    for line in &lines {
        let object = line.as_object().unwrap();
        let fields: BTreeSet<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(fields, demo_fields);
        assert!(
            matches!(line["payload"], Value::Object(_) | Value::Null),
            "{line}"
        );
        for text in [
            "instance_id",
            "aggregate_type",
            "aggregate_id",
            "event_type",
            "creator",
            "owner",
        ] {
            assert!(line[text].is_string(), "{text}: {line}");
        }
        assert!(!line["aggregate_id"].as_str().unwrap().is_empty());
    }
}

#[test]
fn sequences_count_per_aggregate_from_one() {
    let mut last: HashMap<(String, String, String), i64> = HashMap::new();
    for line in lines() {
        let key = (
            line["instance_id"].as_str().unwrap().to_owned(),
            line["aggregate_type"].as_str().unwrap().to_owned(),
            line["aggregate_id"].as_str().unwrap().to_owned(),
        );
        let expected = last.get(&key).copied().unwrap_or(0) + 1;
        assert_eq!(line["sequence"].as_i64(), Some(expected), "{line}");
        last.insert(key, expected);
    }
}

#[test]
fn transactions_share_a_position_and_positions_increase() {
    let lines = lines();
    let mut multi = 0;
    let mut previous: Option<(f64, String, String)> = None;
    let mut order = 0;
    for line in &lines {
        let position = line["position"].as_str().unwrap().to_owned();
        let created_at = line["created_at"].as_str().unwrap().to_owned();
        let in_tx = line["in_tx_order"].as_u64().unwrap();
        let value: f64 = position.parse().unwrap();
        match &previous {
            Some((p, text, at)) if *text == position => {
                assert_eq!(*at, created_at, "one time per transaction");
                order += 1;
                assert_eq!(in_tx, order);
                if in_tx == 2 {
                    multi += 1;
                }
                assert!((*p - value).abs() < f64::EPSILON);
            }
            Some((p, _, at)) => {
                assert!(value > *p, "{position} after {p}");
                assert!(created_at > *at, "{created_at} after {at}");
                assert_eq!(in_tx, 1);
                order = 1;
            }
            None => {
                assert_eq!(in_tx, 1);
                order = 1;
            }
        }
        previous = Some((value, position, created_at));
    }
    assert!(multi > 100, "{multi} transactions with several events");
}

#[test]
fn tenants_are_interleaved_and_some_are_removed() {
    let lines = lines();
    let tenants: Vec<&str> = lines
        .iter()
        .map(|l| l["instance_id"].as_str().unwrap())
        .collect();
    // The system tenant ("") writes the installation-wide features.
    let distinct: BTreeSet<&str> = tenants.iter().copied().filter(|t| !t.is_empty()).collect();
    assert_eq!(distinct.len(), 20);
    let switches = tenants.windows(2).filter(|w| w[0] != w[1]).count();
    assert!(switches > 500, "{switches} switches between tenants");
    let removed: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l["event_type"] == "instance.removed")
        .map(|(i, _)| i)
        .collect();
    assert!(removed.len() >= 3, "{removed:?}");
    assert!(
        removed.iter().any(|i| *i < lines.len() * 5 / 6),
        "one in the middle: {removed:?}"
    );
    for i in removed {
        let tenant = tenants[i];
        // Only the milestone of the instance's deletion follows its removal.
        let after: Vec<&Value> = lines[i + 1..]
            .iter()
            .filter(|l| l["instance_id"] == tenant)
            .collect();
        assert!(
            after
                .iter()
                .all(|l| l["aggregate_type"] == "milestone"
                    && l["payload"]["type"] == "InstanceDeleted"),
            "events after {tenant} was removed: {after:?}"
        );
    }
}

/// Every string of a JSON value.
fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn payloads_hold_the_texts_real_data_holds() {
    let lines = lines();
    let mut texts = Vec::new();
    for line in &lines {
        strings(&line["payload"], &mut texts);
    }
    let has = |what: &str, test: &dyn Fn(&str) -> bool| {
        assert!(texts.iter().any(|t| test(t)), "no payload text with {what}");
    };
    has("nothing", &|t| t.is_empty());
    has("an accent", &|t| t.contains('ü') || t.contains('é'));
    has("CJK", &|t| {
        t.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    });
    has("an emoji", &|t| t.chars().any(|c| c as u32 >= 0x1F300));
    has("RTL", &|t| {
        t.chars().any(|c| ('\u{0590}'..='\u{06ff}').contains(&c))
    });
    has("a quote", &|t| t.contains('"'));
    has("an apostrophe", &|t| t.contains('\''));
    has("a backslash", &|t| t.contains('\\'));
    has("$$", &|t| t.contains("$$"));
    has("a few KB", &|t| t.len() > 2048);
    let null = lines.iter().filter(|l| l["payload"].is_null()).count();
    assert!(null > 50, "{null} events without payload");
    let camel = lines
        .iter()
        .filter(|l| l["event_type"] == "user.human.added")
        .all(|l| l["payload"].get("userName").is_some());
    assert!(camel, "production keys are camelCase");
}

#[test]
fn removed_orgs_and_users_get_no_further_events() {
    let lines = lines();
    let mut gone_orgs: BTreeSet<(String, String)> = BTreeSet::new();
    let mut gone_users: BTreeSet<(String, String)> = BTreeSet::new();
    let (mut orgs, mut users) = (0, 0);
    for tx in transactions(&lines) {
        for line in tx {
            let tenant = line["instance_id"].as_str().unwrap().to_owned();
            let owner = (tenant.clone(), line["owner"].as_str().unwrap().to_owned());
            assert!(
                !gone_orgs.contains(&owner),
                "after its org was removed: {line}"
            );
            let aggregate = (
                tenant.clone(),
                line["aggregate_id"].as_str().unwrap().to_owned(),
            );
            assert!(
                !gone_users.contains(&aggregate),
                "after the user was removed: {line}"
            );
            // A membership the cascade of its user's removal missed is
            // removed later, naming the removed user.
            let late_removal = matches!(
                line["event_type"].as_str(),
                Some("project.member.removed" | "project.grant.member.removed")
            );
            if let Some(user) = line["payload"].get("userId").and_then(Value::as_str)
                && !late_removal
            {
                let user = (tenant, user.to_owned());
                assert!(!gone_users.contains(&user), "names a removed user: {line}");
            }
        }
        for line in tx {
            let key = (
                line["instance_id"].as_str().unwrap().to_owned(),
                line["aggregate_id"].as_str().unwrap().to_owned(),
            );
            match line["event_type"].as_str().unwrap() {
                "org.removed" => {
                    orgs += 1;
                    gone_orgs.insert(key);
                }
                "user.removed" => {
                    users += 1;
                    gone_users.insert(key);
                }
                _ => {}
            }
        }
    }
    assert!(
        orgs >= 3 && users >= 10,
        "{orgs} orgs and {users} users removed"
    );
}

#[test]
fn members_and_grants_are_removed_and_added_again() {
    let lines = lines();
    let mut members: HashMap<(String, String, String), usize> = HashMap::new();
    let mut grants: HashMap<(String, String, String), usize> = HashMap::new();
    for line in &lines {
        let tenant = line["instance_id"].as_str().unwrap().to_owned();
        let payload = &line["payload"];
        let text = |key: &str| payload[key].as_str().unwrap_or_default().to_owned();
        match line["event_type"].as_str().unwrap() {
            "org.member.added" | "instance.member.added" => {
                let aggregate = line["aggregate_id"].as_str().unwrap().to_owned();
                *members
                    .entry((tenant, aggregate, text("userId")))
                    .or_default() += 1;
            }
            "user.grant.added" => {
                *grants
                    .entry((tenant, text("userId"), text("projectId")))
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    assert!(members.values().any(|n| *n > 1), "no member added twice");
    assert!(grants.values().any(|n| *n > 1), "no grant given twice");
}
