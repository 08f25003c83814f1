//! Generated streams are valid input for the families run natively
//! (instances, orgs, users, user grants, policies, limits, sessions): run
//! as the host runs them, no event fails, no mutation is refused, every
//! subscribed event type occurs, and the streams are deterministic and
//! vary their payloads.

mod common;
mod native;

use std::collections::BTreeSet;

use serde_json::Value;
use streams::{Config, generate, write_jsonl};

use common::{SEEDS, key_sets, stream};

fn first_lines(outcome: &[String]) -> String {
    outcome
        .iter()
        .take(20)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn streams_of_three_seeds_project_without_errors_or_refusals() {
    let families = native::families();
    for seed in SEEDS {
        let lines = stream(seed);
        assert_eq!(lines.len(), Config::default().events, "seed {seed}");
        let outcome = native::run(&families, &lines);
        assert!(
            outcome.errors.is_empty(),
            "seed {seed}: {} handler errors:\n{}",
            outcome.errors.len(),
            first_lines(&outcome.errors)
        );
        assert!(
            outcome.rejections.is_empty(),
            "seed {seed}: {} refused mutations:\n{}",
            outcome.rejections.len(),
            first_lines(&outcome.rejections)
        );
        assert!(
            outcome.conflicts.is_empty(),
            "seed {seed}: {} mutations the tables refuse:\n{}",
            outcome.conflicts.len(),
            first_lines(&outcome.conflicts)
        );
        for table in [
            "users_projection",
            "user_grants_projection",
            "org_members_projection",
            "password_complexity_policies_projection",
            "password_age_policies_projection",
            "login_policies_projection",
            "lockout_policies_projection",
            "privacy_policies_projection",
            "label_policies_projection",
            "notification_policies_projection",
            "domain_policies_projection",
            "milestones_projection",
            "quotas_projection",
            "quotas_notifications_projection",
            "limits_projection",
            "sessions_projection",
            "auth_requests_projection",
        ] {
            assert!(
                outcome.rows.get(table).is_some_and(|n| *n > 0),
                "seed {seed}: {table} stays empty"
            );
        }
    }
}

#[test]
fn every_subscribed_event_type_occurs() {
    let families = native::families();
    let subscribed = native::subscribed(&families);
    assert!(subscribed.len() > 100, "{} pairs", subscribed.len());
    for seed in SEEDS {
        let outcome = native::run(&families, &stream(seed));
        let missing: Vec<String> = subscribed
            .iter()
            .filter(|pair| !outcome.handled.contains_key(*pair))
            .map(|(aggregate, event_type)| format!("{aggregate}/{event_type}"))
            .collect();
        assert!(
            missing.is_empty(),
            "seed {seed}: never written: {missing:?}"
        );
    }
}

#[test]
fn the_same_config_gives_the_same_stream() {
    let config = Config {
        seed: 7,
        ..Config::default()
    };
    assert_eq!(generate(&config), generate(&config));
    assert_ne!(generate(&config), generate(&Config { seed: 8, ..config }));
    let dir = std::env::temp_dir().join(format!("streams-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    assert_eq!(write_jsonl(&config, &a).unwrap(), config.events);
    assert_eq!(write_jsonl(&config, &b).unwrap(), config.events);
    let written = std::fs::read(&a).unwrap();
    assert_eq!(written, std::fs::read(&b).unwrap());
    let text = String::from_utf8(written).unwrap();
    let reread: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(reread, generate(&config));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn events_of_one_type_differ_in_their_optional_fields_within_a_batch() {
    for seed in SEEDS {
        let lines = stream(seed);
        let batch = key_sets(&lines[..1000]);
        for event_type in ["user.human.added", "user.machine.added"] {
            let sets = batch.get(event_type).map_or(0, BTreeSet::len);
            assert!(
                sets >= 2,
                "seed {seed}: {event_type} has {sets} key sets in the first batch"
            );
        }
        let all = key_sets(&lines);
        let varying = all.values().filter(|sets| sets.len() >= 2).count();
        assert!(
            varying >= 20,
            "seed {seed}: only {varying} event types vary their keys"
        );
    }
}
