//! The `project` aggregate in generated streams, as the projects and apps
//! families read it: every event type they handle occurs, a seed always
//! gives the same events, optional payload fields are sometimes there and
//! sometimes not, members name users and grants whose events came before,
//! and removals come in every order.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

use common::{SEEDS, assert_written, payload_keys, same_for_a_seed, stream, text};

/// The `project` event types the projects and apps families handle.
const EVENT_TYPES: [&str; 38] = [
    "project.added",
    "project.changed",
    "project.deactivated",
    "project.reactivated",
    "project.removed",
    "project.owner.corrected",
    "project.role.added",
    "project.role.changed",
    "project.role.removed",
    "project.grant.added",
    "project.grant.changed",
    "project.grant.cascade.changed",
    "project.grant.deactivated",
    "project.grant.reactivated",
    "project.grant.removed",
    "project.member.added",
    "project.member.changed",
    "project.member.removed",
    "project.member.cascade.removed",
    "project.grant.member.added",
    "project.grant.member.changed",
    "project.grant.member.removed",
    "project.grant.member.cascade.removed",
    "project.application.added",
    "project.application.changed",
    "project.application.deactivated",
    "project.application.reactivated",
    "project.application.removed",
    "project.application.config.api.added",
    "project.application.config.api.changed",
    "project.application.config.api.secret.changed",
    "project.application.config.api.secret.updated",
    "project.application.config.oidc.added",
    "project.application.config.oidc.changed",
    "project.application.config.oidc.secret.changed",
    "project.application.config.oidc.secret.updated",
    "project.application.config.saml.added",
    "project.application.config.saml.changed",
];

#[test]
fn every_event_type_of_the_projects_and_apps_families_occurs() {
    for seed in SEEDS {
        let lines = stream(seed);
        assert_written(seed, &lines, &EVENT_TYPES);
        for line in lines
            .iter()
            .filter(|l| text(l, "aggregate_type") == "project")
        {
            let event_type = text(line, "event_type");
            assert!(
                EVENT_TYPES.contains(&event_type) || event_type.contains(".oidc.key."),
                "seed {seed}: unexpected {event_type}"
            );
        }
    }
}

#[test]
fn a_seed_always_gives_the_same_project_events() {
    let first = same_for_a_seed(|l| text(l, "aggregate_type") == "project");
    assert!(first.len() > 300, "{} project events", first.len());
}

/// Per event type, how many payloads carry each key, and how many there
/// are.
#[derive(Default)]
struct Keys {
    events: BTreeMap<String, usize>,
    with: BTreeMap<(String, String), usize>,
    only: BTreeMap<String, BTreeSet<Vec<String>>>,
}

impl Keys {
    fn add(&mut self, lines: &[Value]) {
        for line in lines {
            let event_type = text(line, "event_type").to_owned();
            *self.events.entry(event_type.clone()).or_default() += 1;
            let keys = payload_keys(line);
            for key in &keys {
                *self
                    .with
                    .entry((event_type.clone(), key.clone()))
                    .or_default() += 1;
            }
            self.only.entry(event_type).or_default().insert(keys);
        }
    }

    /// Assert that some events of `event_type` carry each of `keys` and
    /// some do not.
    fn vary(&self, what: &str, event_type: &str, keys: &[&str]) {
        let total = self.events.get(event_type).copied().unwrap_or(0);
        for key in keys {
            let with = self
                .with
                .get(&(event_type.to_owned(), (*key).to_owned()))
                .copied()
                .unwrap_or(0);
            assert!(
                with > 0 && with < total,
                "{what}: {event_type} carries {key} in {with} of {total}"
            );
        }
    }

    /// Assert that some event of `event_type` carries exactly `keys`.
    fn occurs(&self, what: &str, event_type: &str, keys: &[&str]) {
        let mut keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        keys.sort();
        let found = self
            .only
            .get(event_type)
            .is_some_and(|sets| sets.contains(&keys));
        assert!(found, "{what}: no {event_type} with exactly {keys:?}");
    }
}

#[test]
fn optional_payload_fields_are_sometimes_there_and_sometimes_not() {
    let mut all = Keys::default();
    for seed in SEEDS {
        let lines = stream(seed);
        let mut one = Keys::default();
        one.add(&lines);
        all.add(&lines);
        let what = format!("seed {seed}");
        one.vary(
            &what,
            "project.added",
            &[
                "projectRoleAssertion",
                "projectRoleCheck",
                "hasProjectCheck",
                "privateLabelingSetting",
            ],
        );
        one.vary(
            &what,
            "project.changed",
            &["name", "privateLabelingSetting"],
        );
        one.vary(&what, "project.role.added", &["displayName", "group"]);
        one.vary(
            &what,
            "project.application.config.oidc.added",
            &[
                "oidcVersion",
                "applicationType",
                "postLogoutRedirectUris",
                "devMode",
                "accessTokenType",
                "accessTokenRoleAssertion",
                "idTokenRoleAssertion",
                "idTokenUserinfoAssertion",
                "clockSkew",
                "additionalOrigins",
                "skipNativeAppSuccessPage",
                "backChannelLogoutURI",
                "loginVersion",
                "loginBaseURI",
            ],
        );
    }
    let what = "the three seeds";
    all.vary(what, "project.role.changed", &["displayName", "group"]);
    all.vary(
        what,
        "project.application.config.oidc.changed",
        &[
            "redirectUris",
            "authMethodType",
            "clockSkew",
            "devMode",
            "additionalOrigins",
            "loginVersion",
        ],
    );
    all.vary(what, "project.grant.added", &["roleKeys"]);
    all.vary(what, "project.application.changed", &["name"]);
    all.vary(
        what,
        "project.application.config.oidc.added",
        &[
            "clientSecret",
            "hashedSecret",
            "redirectUris",
            "responseTypes",
            "grantTypes",
            "authMethodType",
        ],
    );
    all.vary(
        what,
        "project.application.config.api.added",
        &["hashedSecret", "authMethodType"],
    );
    all.vary(
        what,
        "project.application.config.api.changed",
        &["authMethodType"],
    );
    all.vary(
        what,
        "project.application.config.saml.added",
        &["metadata_url", "loginVersion", "loginBaseURI"],
    );
    all.vary(
        what,
        "project.application.config.saml.changed",
        &["metadata", "metadata_url"],
    );
    for secret in [
        "project.application.config.oidc.secret.changed",
        "project.application.config.api.secret.changed",
    ] {
        all.occurs(what, secret, &["appId", "hashedSecret"]);
    }
    all.occurs(what, "project.changed", &[]);
    all.occurs(what, "project.role.changed", &["key"]);
    all.occurs(what, "project.application.config.oidc.changed", &["appId"]);
    all.occurs(
        what,
        "project.application.config.saml.changed",
        &["appId", "entityId"],
    );
}

#[test]
fn payload_values_have_the_shapes_zitadel_writes() {
    let mut crypto_types = BTreeSet::new();
    let mut skews = BTreeSet::new();
    let mut roles = BTreeSet::new();
    for seed in SEEDS {
        for line in stream(seed) {
            let payload = &line["payload"];
            if let Some(secret) = payload.get("clientSecret") {
                for key in ["CryptoType", "Algorithm", "KeyID", "Crypted"] {
                    assert!(secret.get(key).is_some(), "{key} in {line}");
                }
                crypto_types.insert(secret["CryptoType"].as_i64());
            }
            if let Some(skew) = payload.get("clockSkew") {
                let nanos = skew.as_i64().unwrap_or(-1);
                assert!(nanos >= 0 && nanos % 1_000_000 == 0, "{line}");
                skews.insert(nanos);
            }
            let saml = text(&line, "event_type").starts_with("project.application.config.saml.");
            if saml && let Some(metadata) = payload.get("metadata").and_then(Value::as_str) {
                let base64 = |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c);
                assert!(metadata.chars().all(base64), "{line}");
            }
            if text(&line, "event_type").contains("member.") && payload.get("roles").is_some() {
                let kind = match &payload["roles"] {
                    Value::Null => "null",
                    Value::Array(items) if items.is_empty() => "empty",
                    Value::Array(items) if items.len() == 1 => "one",
                    Value::Array(_) => "many",
                    _ => "other",
                };
                roles.insert(kind);
                if let Some(items) = payload["roles"].as_array()
                    && items
                        .iter()
                        .any(|r| !r.as_str().unwrap_or_default().is_ascii())
                {
                    roles.insert("unicode");
                }
            }
        }
    }
    assert_eq!(crypto_types, BTreeSet::from([Some(0), Some(1)]));
    assert!(skews.len() >= 3, "clock skews {skews:?}");
    assert_eq!(
        roles,
        BTreeSet::from(["empty", "many", "null", "one", "unicode"])
    );
}

/// The user creation events look-ups find.
const CREATIONS: [&str; 3] = [
    "user.human.added",
    "user.human.selfregistered",
    "user.machine.added",
];

#[test]
fn members_name_users_and_grants_whose_events_came_before() {
    for seed in SEEDS {
        let mut users: HashSet<(String, String)> = HashSet::new();
        let mut grants: HashMap<(String, String, String), String> = HashMap::new();
        let (mut members, mut grant_members) = (0, 0);
        for line in stream(seed) {
            let tenant = text(&line, "instance_id").to_owned();
            let aggregate = text(&line, "aggregate_id").to_owned();
            let payload = &line["payload"];
            let event_type = text(&line, "event_type");
            if CREATIONS.contains(&event_type) {
                users.insert((tenant.clone(), aggregate.clone()));
            }
            if event_type == "project.grant.added" {
                let key = (
                    tenant.clone(),
                    aggregate.clone(),
                    text(payload, "grantId").to_owned(),
                );
                grants.insert(key, text(payload, "grantedOrgId").to_owned());
            }
            if event_type == "project.member.added" || event_type == "project.grant.member.added" {
                let user = (tenant.clone(), text(payload, "userId").to_owned());
                assert!(
                    users.contains(&user),
                    "seed {seed}: user not created before: {line}"
                );
                members += 1;
            }
            if event_type == "project.grant.member.added" {
                let key = (tenant, aggregate, text(payload, "grantId").to_owned());
                let granted = grants.get(&key).map(String::as_str);
                assert!(
                    granted.is_some_and(|org| !org.is_empty()),
                    "seed {seed}: grant not added before: {line}"
                );
                grant_members += 1;
            }
        }
        assert!(
            members > 20 && grant_members > 3,
            "seed {seed}: {members} members, {grant_members} of grants"
        );
    }
}

/// What a project still has, as the stream tells it.
#[derive(Default)]
struct Held {
    owner: String,
    apps: HashSet<String>,
    grants: HashSet<String>,
    members: HashSet<String>,
    removed: bool,
}

#[test]
fn removals_come_in_every_order() {
    for seed in SEEDS {
        let mut projects: HashMap<(String, String), Held> = HashMap::new();
        let mut gone_users: HashSet<(String, String)> = HashSet::new();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for line in stream(seed) {
            let tenant = text(&line, "instance_id").to_owned();
            let aggregate = text(&line, "aggregate_id").to_owned();
            let payload = &line["payload"];
            let key = (tenant.clone(), aggregate.clone());
            let event_type = text(&line, "event_type");
            match event_type {
                "user.removed" => {
                    gone_users.insert(key);
                    continue;
                }
                "org.removed" => {
                    let owns = projects
                        .iter()
                        .any(|((t, _), p)| *t == tenant && p.owner == aggregate && !p.removed);
                    if owns {
                        seen.insert("org removed owning projects");
                    }
                    continue;
                }
                "project.added" => {
                    let held = Held {
                        owner: text(&line, "owner").to_owned(),
                        ..Held::default()
                    };
                    projects.insert(key, held);
                    continue;
                }
                _ => {}
            }
            let Some(project) = projects.get_mut(&key) else {
                continue;
            };
            let user = text(payload, "userId").to_owned();
            match event_type {
                "project.application.added" => {
                    project.apps.insert(text(payload, "appId").to_owned());
                }
                "project.application.removed" => {
                    project.apps.remove(text(payload, "appId"));
                    seen.insert("app removed before its project");
                }
                "project.grant.added" => {
                    project.grants.insert(text(payload, "grantId").to_owned());
                }
                "project.grant.removed" => {
                    project.grants.remove(text(payload, "grantId"));
                    seen.insert("grant removed before its project");
                }
                "project.member.added" => {
                    project.members.insert(user);
                }
                "project.member.removed" | "project.member.cascade.removed" => {
                    if event_type == "project.member.removed"
                        && gone_users.contains(&(tenant, user.clone()))
                    {
                        seen.insert("member removed after its user");
                    }
                    project.members.remove(&user);
                }
                "project.grant.member.removed" if gone_users.contains(&(tenant, user)) => {
                    seen.insert("member removed after its user");
                }
                "project.removed" => {
                    project.removed = true;
                    if !project.apps.is_empty() {
                        seen.insert("project removed with apps");
                    }
                    if !project.grants.is_empty() {
                        seen.insert("project removed with grants");
                    }
                    if !project.members.is_empty() {
                        seen.insert("project removed with members");
                    }
                }
                _ => {}
            }
        }
        let expected = BTreeSet::from([
            "app removed before its project",
            "grant removed before its project",
            "member removed after its user",
            "org removed owning projects",
            "project removed with apps",
            "project removed with grants",
            "project removed with members",
        ]);
        assert_eq!(seen, expected, "seed {seed}");
    }
}
