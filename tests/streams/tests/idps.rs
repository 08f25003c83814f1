//! The identity providers and system families in generated streams: every
//! event type they subscribe to occurs, every provider kind at both levels,
//! the streams project natively without errors and fill every table, a seed
//! always gives the same events, optional payload fields are sometimes
//! there and sometimes not, links name IdPs and users that exist, and the
//! system's events are the system tenant's alone.

mod common;
mod native;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::Value;

use common::{SEEDS, key_sets, same_for_a_seed, stream, text};

/// The two families checked here.
const FAMILIES: [&str; 2] = ["idps", "system"];

/// The stems of the 13 template kinds at instance and at org level.
const KINDS: [(&str, &str); 13] = [
    ("instance.idp.oauth", "org.idp.oauth"),
    ("instance.idp.oidc", "org.idp.oidc"),
    ("instance.idp.jwt", "org.idp.jwt"),
    ("instance.idp.azure", "org.idp.azure"),
    ("instance.idp.github", "org.idp.github"),
    (
        "instance.idp.github_enterprise",
        "org.idp.github_enterprise",
    ),
    ("instance.idp.gitlab", "org.idp.gitlab"),
    (
        "instance.idp.gitlab_self_hosted",
        "org.idp.gitlab_self_hosted",
    ),
    ("instance.idp.google", "org.idp.google"),
    ("instance.idp.ldap.v2", "org.idp.ldap"),
    ("instance.idp.apple", "org.idp.apple"),
    ("instance.idp.saml", "org.idp.saml"),
    ("instance.idp.zitadel", "org.idp.zitadel"),
];

/// Whether an event is one of the identity providers family's own (not a
/// removal of an org, user or instance it also reads).
fn idp_event(event_type: &str) -> bool {
    event_type.contains(".idp.")
        || event_type.contains(".idpprovider.")
        || event_type.starts_with("user.human.externalidp.")
}

/// The native families named `names`.
fn families_named(names: &[&str]) -> Vec<native::Native> {
    native::families()
        .into_iter()
        .filter(|f| names.contains(&f.description.name.as_str()))
        .collect()
}

/// The pairs the families named `names` subscribe to.
fn subscribed_by(names: &[&str]) -> Vec<(String, String)> {
    native::subscribed(&families_named(names))
}

/// The tables of the families named `names`.
fn tables_of(names: &[&str]) -> Vec<String> {
    families_named(names)
        .into_iter()
        .flat_map(|f| f.description.tables)
        .map(|t| t.name)
        .collect()
}

#[test]
fn every_event_type_and_provider_kind_occurs() {
    let pairs = subscribed_by(&FAMILIES);
    assert!(pairs.len() > 90, "{} pairs", pairs.len());
    for seed in SEEDS {
        let lines = stream(seed);
        let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for line in &lines {
            let pair = (text(line, "aggregate_type"), text(line, "event_type"));
            *counts.entry(pair).or_default() += 1;
        }
        let missing: Vec<String> = pairs
            .iter()
            .filter(|(a, e)| !counts.contains_key(&(a.as_str(), e.as_str())))
            .map(|(a, e)| format!("{a}/{e}"))
            .collect();
        assert!(
            missing.is_empty(),
            "seed {seed}: never written: {missing:?}"
        );
        for (instance, org) in KINDS {
            for stem in [instance, org] {
                let aggregate = stem.split('.').next().unwrap_or_default();
                for suffix in ["added", "changed"] {
                    let event_type = format!("{stem}.{suffix}");
                    assert!(
                        counts.contains_key(&(aggregate, event_type.as_str())),
                        "seed {seed}: no {event_type}"
                    );
                }
            }
        }
        let idps = lines
            .iter()
            .filter(|l| idp_event(text(l, "event_type")))
            .count();
        assert!(idps > 150, "seed {seed}: {idps} IdP events");
    }
}

#[test]
fn streams_project_without_errors_and_fill_every_table() {
    let families = native::families();
    let tables = tables_of(&FAMILIES);
    assert_eq!(tables.len(), 20, "{tables:?}");
    for seed in SEEDS {
        let outcome = native::run(&families, &stream(seed));
        let problems: Vec<&String> = outcome
            .errors
            .iter()
            .chain(&outcome.rejections)
            .chain(&outcome.conflicts)
            .collect();
        assert!(
            problems.is_empty(),
            "seed {seed}: {} problems, first: {:?}",
            problems.len(),
            problems.iter().take(10).collect::<Vec<_>>()
        );
        for table in &tables {
            assert!(
                outcome.rows.get(table).is_some_and(|n| *n > 0),
                "seed {seed}: {table} stays empty"
            );
        }
        let system = outcome
            .handled
            .iter()
            .filter(|((a, e), _)| a == "feature" && e.starts_with("feature.system."))
            .map(|(_, n)| n)
            .sum::<usize>();
        assert!(
            (5..60).contains(&system),
            "seed {seed}: {system} system events"
        );
    }
}

#[test]
fn a_seed_always_gives_the_same_idp_and_system_events() {
    let first =
        same_for_a_seed(|l| idp_event(text(l, "event_type")) || text(l, "instance_id").is_empty());
    assert!(first.len() > 150, "{} events", first.len());
}

/// Whether `event_type` occurs with a payload of exactly `keys`.
fn occurs_with(
    sets: &BTreeMap<String, BTreeSet<Vec<String>>>,
    event_type: impl Fn(&str) -> bool,
    keys: &[&str],
) -> bool {
    let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
    sets.iter()
        .any(|(e, s)| event_type(e) && s.iter().any(|k| *k == keys))
}

#[test]
fn optional_payload_fields_are_sometimes_there_and_sometimes_not() {
    for seed in SEEDS {
        let lines = stream(seed);
        let sets = key_sets(&lines);
        let varying = sets
            .iter()
            .filter(|(e, s)| idp_event(e) && s.len() >= 2)
            .count();
        assert!(varying >= 25, "seed {seed}: {varying} IdP event types vary");
        let template_changed = |e: &str| {
            (e.starts_with("instance.idp.") || e.starts_with("org.idp."))
                && e.ends_with(".changed")
                && !e.contains(".config.")
        };
        assert!(
            occurs_with(&sets, template_changed, &["id"]),
            "seed {seed}: no template change without fields"
        );
        assert!(
            occurs_with(
                &sets,
                |e| e.ends_with(".idp.config.changed"),
                &["idpConfigId"]
            ),
            "seed {seed}: no config change without fields"
        );
        let link_keys = sets
            .get("user.human.externalidp.added")
            .cloned()
            .unwrap_or_default();
        assert!(
            link_keys
                .iter()
                .any(|k| k.contains(&"displayName".to_owned()))
                && link_keys
                    .iter()
                    .any(|k| !k.contains(&"displayName".to_owned())),
            "seed {seed}: user links {link_keys:?}"
        );
        for event_type in [
            "instance.policy.login.idpprovider.added",
            "org.policy.login.idpprovider.added",
        ] {
            assert!(sets.contains_key(event_type), "seed {seed}: {event_type}");
        }
        let offered = &sets["org.policy.login.idpprovider.added"];
        assert!(offered.len() >= 2, "seed {seed}: {offered:?}");
        for line in &lines {
            for key in [
                "clientSecret",
                "client_secret",
                "bindPassword",
                "privateKey",
            ] {
                if let Some(secret) = line["payload"].get(key) {
                    let fields: BTreeSet<&str> = secret
                        .as_object()
                        .map(|m| m.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    assert_eq!(
                        fields,
                        BTreeSet::from(["Algorithm", "CryptoType", "Crypted", "KeyID"]),
                        "{line}"
                    );
                }
            }
        }
    }
}

/// What a tenant has at a point of its stream, as the links tests need it.
#[derive(Default)]
struct Tenant {
    /// Live IdPs: id to owning org (`None` for the instance's).
    idps: HashMap<String, Option<String>>,
    /// Live humans: id to org.
    humans: HashMap<String, String>,
    /// Live users' ids (humans and machines).
    users: HashSet<String>,
    /// Live orgs.
    orgs: HashSet<String>,
    /// Present user links: (IdP, external id) to user.
    links: HashMap<(String, String), String>,
}

/// The situations of removals the IdPs and links take part in.
#[derive(Default)]
struct Removals {
    /// An org removed while it owned IdPs.
    org_with_idps: usize,
    /// A user removed while linked to an IdP.
    user_with_links: usize,
    /// An instance removed while it had IdPs.
    instance_with_idps: usize,
}

/// Walk `lines`, checking that every IdP event names IdPs, users and links
/// that exist and are allowed to meet; count the removals IdPs or links
/// take part in.
fn check_links(seed: u64, lines: &[Value]) -> Removals {
    let mut tenants: HashMap<String, Tenant> = HashMap::new();
    let mut removals = Removals::default();
    for line in lines {
        let tenant = tenants
            .entry(text(line, "instance_id").to_owned())
            .or_default();
        let event_type = text(line, "event_type");
        let aggregate = text(line, "aggregate_id").to_owned();
        let owner = text(line, "owner").to_owned();
        let payload = &line["payload"];
        let level = |aggregate_type: &str| (aggregate_type == "org").then(|| aggregate.clone());
        let at = format!("seed {seed}: {line}");
        match event_type {
            "org.added" => {
                tenant.orgs.insert(aggregate.clone());
            }
            "org.removed" => {
                let before = tenant.idps.len();
                tenant
                    .idps
                    .retain(|_, o| o.as_deref() != Some(aggregate.as_str()));
                if tenant.idps.len() < before {
                    removals.org_with_idps += 1;
                }
                tenant.orgs.remove(&aggregate);
                tenant.humans.retain(|_, o| *o != aggregate);
            }
            "instance.removed" => {
                if !tenant.idps.is_empty() {
                    removals.instance_with_idps += 1;
                }
                *tenant = Tenant::default();
            }
            "user.human.added"
            | "user.human.selfregistered"
            | "user.added"
            | "user.selfregistered" => {
                tenant.humans.insert(aggregate.clone(), owner.clone());
                tenant.users.insert(aggregate.clone());
            }
            "user.machine.added" => {
                tenant.users.insert(aggregate.clone());
            }
            "user.removed" => {
                if tenant.links.values().any(|u| *u == aggregate) {
                    removals.user_with_links += 1;
                }
                tenant.links.retain(|_, u| *u != aggregate);
                tenant.humans.remove(&aggregate);
                tenant.users.remove(&aggregate);
            }
            _ => {}
        }
        if !idp_event(event_type) {
            continue;
        }
        let aggregate_type = text(line, "aggregate_type");
        let idp = text(payload, "id").to_owned();
        let config = text(payload, "idpConfigId").to_owned();
        let id = if idp.is_empty() { &config } else { &idp };
        let of_idp = ["instance.idp.", "org.idp.", "iam.idp."]
            .iter()
            .any(|p| event_type.starts_with(p));
        let template_added = event_type.ends_with(".added") && !event_type.contains(".config.");
        if of_idp && (template_added || event_type.ends_with(".idp.config.added")) {
            assert!(!tenant.idps.contains_key(id), "added twice: {at}");
            tenant.idps.insert(id.clone(), level(aggregate_type));
        } else if event_type.ends_with(".idp.removed")
            || event_type.ends_with(".idp.config.removed")
        {
            assert!(
                tenant.idps.remove(id).is_some(),
                "removed unknown IdP: {at}"
            );
        } else if of_idp {
            assert_eq!(
                tenant.idps.get(id),
                Some(&level(aggregate_type)),
                "about an unknown IdP or another owner's: {at}"
            );
        } else if event_type.contains(".policy.login.idpprovider.") {
            let policy = level(aggregate_type);
            assert!(
                policy.as_ref().is_none_or(|o| tenant.orgs.contains(o)),
                "removed org's policy: {at}"
            );
            if event_type.ends_with(".added") {
                let Some(idp_org) = tenant.idps.get(&config) else {
                    panic!("offers an unknown IdP: {at}");
                };
                assert!(
                    idp_org.is_none() || *idp_org == policy,
                    "offers another org's IdP: {at}"
                );
            }
        } else if event_type.starts_with("user.human.externalidp.") {
            let external = text(payload, "userId").to_owned();
            match event_type {
                "user.human.externalidp.added" => {
                    let Some(org) = tenant.humans.get(&aggregate) else {
                        panic!("links a user who is not a live human: {at}");
                    };
                    let Some(idp_org) = tenant.idps.get(&config) else {
                        panic!("links an unknown IdP: {at}");
                    };
                    assert!(
                        idp_org.as_ref().is_none_or(|o| o == org),
                        "links another org's IdP: {at}"
                    );
                    let key = (config.clone(), external);
                    assert!(!tenant.links.contains_key(&key), "linked twice: {at}");
                    tenant.links.insert(key, aggregate.clone());
                }
                "user.human.externalidp.id.migrated" => {
                    let old = (config.clone(), text(payload, "previousId").to_owned());
                    let Some(user) = tenant.links.remove(&old) else {
                        panic!("migrates an unknown link: {at}");
                    };
                    assert_eq!(user, aggregate, "{at}");
                    let new = (config.clone(), text(payload, "newId").to_owned());
                    assert!(tenant.links.insert(new, user).is_none(), "{at}");
                }
                "user.human.externalidp.username.changed" => {
                    let key = (config.clone(), external);
                    assert_eq!(tenant.links.get(&key), Some(&aggregate), "{at}");
                }
                _ => {
                    let key = (config.clone(), external);
                    assert_eq!(tenant.links.remove(&key), Some(aggregate.clone()), "{at}");
                }
            }
            assert!(tenant.users.contains(&aggregate), "{at}");
        }
    }
    removals
}

#[test]
fn links_name_idps_and_users_that_exist() {
    let mut total = Removals::default();
    for seed in SEEDS {
        let removals = check_links(seed, &stream(seed));
        total.org_with_idps += removals.org_with_idps;
        total.user_with_links += removals.user_with_links;
        total.instance_with_idps += removals.instance_with_idps;
        assert!(
            removals.org_with_idps > 0 && removals.user_with_links > 0,
            "seed {seed}: {} orgs with IdPs and {} users with links removed",
            removals.org_with_idps,
            removals.user_with_links
        );
    }
    assert!(
        total.instance_with_idps > 0,
        "no instance removed while it had IdPs"
    );
}

#[test]
fn system_events_are_the_system_tenants_alone() {
    let families = native::families();
    let tenant_families: Vec<native::Native> = families
        .into_iter()
        .filter(|f| f.description.name != "system")
        .collect();
    let tenant_pairs: HashSet<(String, String)> =
        native::subscribed(&tenant_families).into_iter().collect();
    for seed in SEEDS {
        let lines = stream(seed);
        let mut last_reset = None;
        let mut last_set = None;
        for (n, line) in lines.iter().enumerate() {
            let event_type = text(line, "event_type");
            let system = event_type.starts_with("feature.system.");
            assert_eq!(
                text(line, "instance_id").is_empty(),
                system,
                "seed {seed}: {line}"
            );
            if !system {
                continue;
            }
            assert_eq!(text(line, "aggregate_type"), "feature", "{line}");
            assert_eq!(text(line, "aggregate_id"), "SYSTEM", "{line}");
            assert_eq!(text(line, "owner"), "SYSTEM", "{line}");
            let pair = (
                text(line, "aggregate_type").to_owned(),
                event_type.to_owned(),
            );
            assert!(!tenant_pairs.contains(&pair), "{line}");
            if event_type == "feature.system.reset" {
                assert!(line["payload"].is_null(), "{line}");
                last_reset = Some(n);
            } else {
                let value = line["payload"]
                    .get("Value")
                    .or_else(|| line["payload"].get("value"));
                assert!(value.is_some(), "{line}");
                last_set = Some(n);
            }
        }
        assert!(last_set > last_reset, "seed {seed}: the defaults end reset");
    }
}
