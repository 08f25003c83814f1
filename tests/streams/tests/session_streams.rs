//! Sessions and auth requests in generated streams, as the sessions family
//! reads them: every event type it handles occurs, a seed always gives the
//! same events, sessions come at volume and many per user, checks come in a
//! login's order for users who may log in, every change sets a new token,
//! the user events that end sessions hit users with sessions, and auth
//! requests end once, after they were added.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

use common::{SEEDS, assert_own_event_types, same_for_a_seed, stream, text, transactions};

/// The `session` and `auth_request` event types the sessions family
/// handles (besides the user events and `instance.removed`).
const EVENT_TYPES: [&str; 16] = [
    "session.added",
    "session.user.checked",
    "session.password.checked",
    "session.intent.checked",
    "session.webAuthN.checked",
    "session.totp.checked",
    "session.otp.sms.checked",
    "session.otp.email.checked",
    "session.recoveryCode.checked",
    "session.token.set",
    "session.metadata.set",
    "session.lifetime.set",
    "session.terminated",
    "auth_request.added",
    "auth_request.succeeded",
    "auth_request.failed",
];

/// The factor checks.
const FACTORS: [&str; 7] = [
    "session.password.checked",
    "session.intent.checked",
    "session.webAuthN.checked",
    "session.totp.checked",
    "session.otp.sms.checked",
    "session.otp.email.checked",
    "session.recoveryCode.checked",
];

/// The user creation events.
const CREATIONS: [&str; 5] = [
    "user.human.added",
    "user.human.selfregistered",
    "user.added",
    "user.selfregistered",
    "user.machine.added",
];

/// Whether an aggregate type is one of the family's own.
fn login(aggregate_type: &str) -> bool {
    matches!(aggregate_type, "session" | "auth_request")
}

#[test]
fn every_event_type_of_the_sessions_family_occurs() {
    for seed in SEEDS {
        assert_own_event_types(seed, &stream(seed), login, &EVENT_TYPES);
    }
}

#[test]
fn a_seed_always_gives_the_same_login_events() {
    same_for_a_seed(|l| login(text(l, "aggregate_type")));
}

#[test]
fn sessions_come_at_volume_and_many_per_user() {
    for seed in SEEDS {
        let lines = stream(seed);
        let sessions = lines.iter().filter(|l| l["aggregate_type"] == "session");
        let share = sessions.count() * 100 / lines.len();
        assert!(
            share >= 5,
            "seed {seed}: sessions are {share}% of the stream"
        );
        let mut per_user: HashMap<(&str, &str), usize> = HashMap::new();
        for line in lines
            .iter()
            .filter(|l| l["event_type"] == "session.user.checked")
        {
            let user = (text(line, "instance_id"), text(&line["payload"], "userID"));
            *per_user.entry(user).or_default() += 1;
        }
        let most = per_user.values().max().copied().unwrap_or(0);
        assert!(most >= 3, "seed {seed}: at most {most} sessions per user");
        let several = per_user.values().filter(|n| **n >= 2).count();
        assert!(several >= 10, "seed {seed}: {several} users with sessions");
    }
}

/// A session, as the stream tells it.
#[derive(Default)]
struct Session {
    user: Option<(String, String)>,
    first_factor: bool,
    ended: bool,
}

/// A user, as the stream tells it: its org and whether it may log in.
struct User {
    org: String,
    may_log_in: bool,
}

#[test]
fn checks_come_in_order_for_users_who_may_log_in() {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for seed in SEEDS {
        let lines = stream(seed);
        let mut users: HashMap<(String, String), User> = HashMap::new();
        let mut sessions: HashMap<(String, String), Session> = HashMap::new();
        let transactions = transactions(&lines);
        for (i, tx) in transactions.iter().enumerate() {
            let mut changed: BTreeSet<(String, String)> = BTreeSet::new();
            let mut tokens: BTreeSet<(String, String)> = BTreeSet::new();
            for line in *tx {
                let tenant = text(line, "instance_id").to_owned();
                let aggregate = text(line, "aggregate_id").to_owned();
                let key = (tenant.clone(), aggregate.clone());
                let payload = &line["payload"];
                let event_type = text(line, "event_type");
                if CREATIONS.contains(&event_type) {
                    let org = text(line, "owner").to_owned();
                    let may_log_in = event_type != "user.machine.added";
                    users.insert(key, User { org, may_log_in });
                    continue;
                }
                if matches!(
                    event_type,
                    "user.locked" | "user.deactivated" | "user.removed"
                ) {
                    let active = sessions
                        .values_mut()
                        .filter(|s| !s.ended && s.user.as_ref() == Some(&key));
                    let mut had = false;
                    for session in active {
                        session.ended = true;
                        had = true;
                    }
                    if had {
                        seen.insert(match event_type {
                            "user.locked" => "user locked with sessions",
                            "user.deactivated" => "user deactivated with sessions",
                            _ => "user removed with sessions",
                        });
                    }
                    if let Some(user) = users.get_mut(&key) {
                        user.may_log_in = false;
                    }
                    continue;
                }
                if matches!(event_type, "user.unlocked" | "user.reactivated") {
                    if let Some(user) = users.get_mut(&key) {
                        user.may_log_in = true;
                    }
                    continue;
                }
                if event_type == "org.removed" {
                    for user in users.values_mut().filter(|u| u.org == aggregate) {
                        user.may_log_in = false;
                    }
                    continue;
                }
                if line["aggregate_type"] != "session" {
                    continue;
                }
                if event_type == "session.added" {
                    assert!(!sessions.contains_key(&key), "{line}");
                    sessions.insert(key.clone(), Session::default());
                    changed.insert(key);
                    continue;
                }
                let session = sessions.get_mut(&key);
                let Some(session) = session else {
                    panic!("seed {seed}: session not added before: {line}");
                };
                if event_type == "session.terminated" {
                    if session.ended {
                        seen.insert("session terminated after its user ended it");
                    }
                    session.ended = true;
                    continue;
                }
                assert!(!session.ended, "seed {seed}: after its end: {line}");
                changed.insert(key.clone());
                if event_type == "session.token.set" {
                    tokens.insert(key);
                    continue;
                }
                if event_type == "session.user.checked" {
                    let user = (tenant, text(payload, "userID").to_owned());
                    let found = users.get(&user);
                    assert!(
                        found.is_some_and(|u| u.may_log_in),
                        "seed {seed}: user who may not log in: {line}"
                    );
                    let org = found.map(|u| u.org.as_str()).unwrap_or_default();
                    assert_eq!(text(payload, "userResourceOwner"), org, "{line}");
                    session.user = Some(user);
                    continue;
                }
                if FACTORS.contains(&event_type) {
                    let user = session.user.as_ref();
                    assert!(user.is_some(), "seed {seed}: factor before user: {line}");
                    let first = matches!(
                        event_type,
                        "session.password.checked" | "session.intent.checked"
                    ) || (event_type == "session.webAuthN.checked"
                        && payload["userVerified"] == true);
                    if !first {
                        assert!(session.first_factor, "seed {seed}: second first: {line}");
                    }
                    session.first_factor |= first;
                    let at = text(payload, "checkedAt");
                    assert!(at.starts_with("2026-") && at.contains('T'), "{line}");
                }
            }
            let untokened: Vec<&(String, String)> = changed.difference(&tokens).collect();
            assert!(
                // The stream ends after as many events as asked for, which
                // may cut its last transaction.
                untokened.is_empty() || i + 1 == transactions.len(),
                "seed {seed}: changed without a new token: {untokened:?}"
            );
        }
    }
    let expected = BTreeSet::from([
        "session terminated after its user ended it",
        "user deactivated with sessions",
        "user locked with sessions",
        "user removed with sessions",
    ]);
    assert_eq!(seen, expected);
}

#[test]
fn password_changes_clear_password_checks_of_sessions() {
    for seed in SEEDS {
        let mut checked: HashSet<(String, String)> = HashSet::new();
        let mut users: HashMap<(String, String), (String, String)> = HashMap::new();
        let mut cleared = 0;
        for line in stream(seed) {
            let tenant = text(&line, "instance_id").to_owned();
            let aggregate = text(&line, "aggregate_id").to_owned();
            match text(&line, "event_type") {
                "session.user.checked" => {
                    let user = (tenant, text(&line["payload"], "userID").to_owned());
                    users.insert((user.0.clone(), aggregate), user);
                }
                "session.password.checked" => {
                    if let Some(user) = users.get(&(tenant, aggregate)) {
                        checked.insert(user.clone());
                    }
                }
                "user.human.password.changed" if checked.remove(&(tenant, aggregate)) => {
                    cleared += 1;
                }
                _ => {}
            }
        }
        assert!(
            cleared > 0,
            "seed {seed}: no password change clears a check"
        );
    }
}

#[test]
fn metadata_values_are_base64_and_change() {
    let base64 = |s: &str| {
        s.len().is_multiple_of(4)
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
    };
    let mut seen = BTreeSet::new();
    for seed in SEEDS {
        let mut last: HashMap<(String, String), serde_json::Map<String, Value>> = HashMap::new();
        for line in stream(seed) {
            if line["event_type"] != "session.metadata.set" {
                continue;
            }
            let map = line["payload"]["metadata"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            for value in map.values() {
                let value = value.as_str().unwrap_or("!");
                assert!(!value.is_empty() && base64(value), "{line}");
            }
            let key = (
                text(&line, "instance_id").to_owned(),
                text(&line, "aggregate_id").to_owned(),
            );
            if let Some(before) = last.get(&key) {
                if map.is_empty() && !before.is_empty() {
                    seen.insert("emptied");
                }
                if before
                    .iter()
                    .any(|(k, v)| map.get(k).is_some_and(|now| now != v))
                {
                    seen.insert("value replaced");
                }
                if before.keys().any(|k| !map.contains_key(k)) {
                    seen.insert("key deleted");
                }
            }
            last.insert(key, map);
        }
    }
    assert_eq!(
        seen,
        BTreeSet::from(["emptied", "key deleted", "value replaced"])
    );
}

#[test]
fn auth_requests_end_once_after_they_were_added() {
    for seed in SEEDS {
        let lines = stream(seed);
        let clients: HashSet<(&str, &str)> = lines
            .iter()
            .filter(|l| l["event_type"] == "project.application.config.oidc.added")
            .map(|l| (text(l, "instance_id"), text(&l["payload"], "clientId")))
            .collect();
        let mut pending: HashSet<(&str, &str)> = HashSet::new();
        let mut ended = 0;
        for line in &lines {
            let key = (text(line, "instance_id"), text(line, "aggregate_id"));
            match text(line, "event_type") {
                "auth_request.added" => {
                    let client = (key.0, text(&line["payload"], "client_id"));
                    assert!(clients.contains(&client), "unknown client: {line}");
                    assert!(pending.insert(key), "{line}");
                }
                "auth_request.succeeded" | "auth_request.failed" => {
                    assert!(pending.remove(&key), "seed {seed}: not pending: {line}");
                    ended += 1;
                }
                _ => {}
            }
        }
        assert!(ended >= 3, "seed {seed}: {ended} ended");
        assert!(!pending.is_empty(), "seed {seed}: none pending at the end");
    }
}

#[test]
fn optional_payload_fields_are_sometimes_there_and_sometimes_not() {
    let lines: Vec<Value> = SEEDS.into_iter().flat_map(stream).collect();
    let mut with: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    let mut ips = BTreeSet::new();
    for line in &lines {
        let event_type = text(line, "event_type");
        let payload = &line["payload"];
        let keys: &[&str] = match event_type {
            "session.added" => &["user_agent", "domain"],
            "session.user.checked" => &["preferredLanguage"],
            "session.terminated" => &["triggerOrigin"],
            "auth_request.added" => &[
                "prompt",
                "ui_locales",
                "max_age",
                "login_hint",
                "hint_user_id",
                "code_challenge",
            ],
            _ => &[],
        };
        for key in keys {
            let counts = with.entry((event_type, key)).or_default();
            if payload.get(*key).is_some() {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
        if let Some(agent) = payload.get("user_agent") {
            let ip = match agent.get("ip").and_then(Value::as_str) {
                None => "absent",
                Some("") => "empty",
                Some(ip) if ip.starts_with("::ffff:") => "v4-mapped",
                Some(ip) if ip.contains(':') => "v6",
                Some(_) => "v4",
            };
            ips.insert(ip);
            if agent.get("header").is_some() {
                ips.insert("with header");
            }
        }
    }
    for ((event_type, key), (present, absent)) in &with {
        assert!(
            *present > 0 && *absent > 0,
            "{event_type} carries {key} in {present} of {}",
            present + absent
        );
    }
    assert_eq!(
        ips,
        BTreeSet::from(["absent", "empty", "v4", "v4-mapped", "v6", "with header"])
    );
}
