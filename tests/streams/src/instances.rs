//! Events of the `instance` and `feature` aggregates, read by the instances
//! family (and `instance.removed`, `instance.policy.domain.*` by the
//! others): the set-up of a tenant, its domains, trusted domains, members,
//! domain policy, feature flags and its removal.

use serde_json::{Map, Value, json};

use crate::generator::{Action, Gen};
use crate::world::{AppKind, InstanceDomain, Life, Member};
use crate::{apps, limits, orgs, policies, projects, text, users};

/// The legacy v1 feature event.
pub(crate) const LEGACY_FEATURE: &str = "feature.featurelogindefaultorg.set";

/// The instance actions.
pub(crate) const ACTIONS: &[Action] = &[
    Action::new("instance.changed", 2, rename),
    Action::new("instance.default.language.set", 2, language),
    Action::new("instance.default.org.set", 1, default_org),
    Action::new("instance.iam.project.set", 1, iam_project),
    Action::new("instance.iam.console.set", 1, console),
    Action::new("instance.domain.added", 3, domain_added),
    Action::new("instance.domain.primary.set", 2, domain_primary),
    Action::new("instance.domain.removed", 2, domain_removed),
    Action::new("instance.trusted_domains.added", 3, trusted_added),
    Action::new("instance.trusted_domains.removed", 2, trusted_removed),
    Action::new("instance.member.added", 4, member_added),
    Action::new("instance.member.changed", 3, member_changed),
    Action::new("instance.member.removed", 2, member_removed),
    Action::new("instance.policy.domain.added", 2, policy_added),
    Action::new("instance.policy.domain.changed", 2, policy_changed),
    Action::new(FEATURE_SETS[0], 5, feature_set).writes(&FEATURE_SETS),
    Action::new("feature.instance.reset", 1, feature_reset),
    Action::new(LEGACY_FEATURE, 1, legacy_feature),
];

/// Instance member roles.
const ROLES: &[&str] = &[
    "IAM_OWNER",
    "IAM_OWNER_VIEWER",
    "IAM_ORG_MANAGER",
    "IAM_USER_MANAGER",
    "IAM_ADMIN_IMPERSONATOR",
    "IAM_LOGIN_CLIENT",
];

/// Tenant names.
const NAMES: &[&str] = &[
    "ZITADEL",
    "Acme Production",
    "Staging — Europe",
    "Kunde Müller AG",
    "テナント",
    "Ürün \"Canlı\"",
    "$$tenant$$",
    "Back\\slash Inc",
    "",
];

/// The feature keys with their value shapes ('b' bool, 'i' int array, 'o' object).
const FEATURES: &[(&str, char)] = &[
    ("login_default_org", 'b'),
    ("user_schema", 'b'),
    ("improved_performance", 'i'),
    ("debug_oidc_parent_error", 'b'),
    ("oidc_single_v1_session_termination", 'b'),
    ("login_v2", 'o'),
    ("permission_check_v2", 'b'),
    ("console_use_v2_user_api", 'b'),
    ("enable_relational_tables", 'b'),
];

/// The event types of the feature set events.
const FEATURE_SETS: [&str; 9] = [
    "feature.instance.login_default_org.set",
    "feature.instance.user_schema.set",
    "feature.instance.improved_performance.set",
    "feature.instance.debug_oidc_parent_error.set",
    "feature.instance.oidc_single_v1_session_termination.set",
    "feature.instance.login_v2.set",
    "feature.instance.permission_check_v2.set",
    "feature.instance.console_use_v2_user_api.set",
    "feature.instance.enable_relational_tables.set",
];

/// Emit an event of the tenant's `instance` aggregate.
fn emit(g: &mut Gen, t: usize, event_type: &str, payload: Option<Value>) {
    let id = g.tenants[t].id.clone();
    g.emit(t, ("instance", &id), event_type, &id, payload);
}

/// Set up tenant `t` in one transaction, as Zitadel's instance set-up
/// does: the instance, its generated domain, the default org with its
/// domain, the default policies, the IAM project with the console app, the
/// first admin and its memberships, some default features and the
/// milestone of its creation.
pub(crate) fn set_up(g: &mut Gen, t: usize) {
    g.tenants[t].life = Life::Live;
    g.creator("SYSTEM");
    let name = g.rng.one(NAMES).to_owned();
    emit(g, t, "instance.added", Some(json!({ "name": name })));
    if g.rng.chance(70) {
        let language = g.rng.one(text::LANGUAGES);
        emit(
            g,
            t,
            "instance.default.language.set",
            Some(json!({ "language": language })),
        );
    }
    let label = g.tenants[t].domain_label("tenant-");
    let domain = format!("{label}-{}.zitadel.cloud", &g.tenants[t].id[12..]);
    emit(
        g,
        t,
        "instance.domain.added",
        Some(json!({ "domain": domain, "generated": true })),
    );
    emit(
        g,
        t,
        "instance.domain.primary.set",
        Some(json!({ "domain": domain })),
    );
    g.tenants[t].domains.push(InstanceDomain {
        name: domain,
        generated: true,
        primary: true,
    });
    if g.rng.chance(80) {
        policy_added(g, t);
    }
    policies::set_up(g, t);
    if g.rng.chance(60) {
        let id = g.tenants[t].id.clone();
        let value = json!({ "Value": true });
        g.emit(
            t,
            ("feature", &id),
            "feature.instance.login_default_org.set",
            &id,
            Some(value),
        );
    }
    let org = orgs::add(g, t, "ZITADEL".to_owned());
    g.tenants[t].default_org = org;
    let org_id = g.tenants[t].orgs[org].id.clone();
    emit(
        g,
        t,
        "instance.default.org.set",
        Some(json!({ "orgId": org_id })),
    );
    let project = projects::add(g, t, org, "ZITADEL");
    let project_id = g.tenants[t].projects[project].id.clone();
    emit(
        g,
        t,
        "instance.iam.project.set",
        Some(json!({ "iamProjectId": project_id })),
    );
    let app = apps::add(g, t, project, Some("Console"));
    let (app_id, client_id) = {
        let a = &g.tenants[t].projects[project].apps[app];
        (a.id.clone(), a.client_id.clone())
    };
    emit(
        g,
        t,
        "instance.iam.console.set",
        Some(json!({ "clientId": client_id, "appId": app_id })),
    );
    let admin = users::add_human(g, t, org, users::Creation::Added);
    g.tenants[t].admin = Some(admin);
    let admin_id = g.tenants[t].users[admin].id.clone();
    emit(
        g,
        t,
        "instance.member.added",
        Some(json!({ "userId": admin_id, "roles": ["IAM_OWNER"] })),
    );
    g.tenants[t].members.push(Member {
        user: admin,
        roles: vec!["IAM_OWNER".to_owned()],
    });
    orgs::member_add(g, t, org, admin, vec!["ORG_OWNER".to_owned()]);
    limits::set_up(g, t);
}

/// Remove tenant `t`, with the milestone of its deletion.
pub(crate) fn remove(g: &mut Gen, t: usize) {
    emit(g, t, "instance.removed", None);
    limits::instance_deleted(g, t);
    g.tenants[t].life = Life::Removed;
}

/// `instance.changed`: always possible.
pub(crate) fn rename(g: &mut Gen, t: usize) -> bool {
    let name = if g.rng.chance(10) {
        text::long(&mut g.rng, 2048)
    } else {
        g.rng.one(NAMES).to_owned()
    };
    emit(g, t, "instance.changed", Some(json!({ "name": name })));
    true
}

fn language(g: &mut Gen, t: usize) -> bool {
    let language = g.rng.one(text::LANGUAGES);
    emit(
        g,
        t,
        "instance.default.language.set",
        Some(json!({ "language": language })),
    );
    true
}

fn default_org(g: &mut Gen, t: usize) -> bool {
    let current = g.tenants[t].default_org;
    let orgs = g.tenants[t].live_orgs(|o, org| o != current && org.active);
    let Some(&org) = g.rng.pick(&orgs) else {
        return false;
    };
    let org_id = g.tenants[t].orgs[org].id.clone();
    emit(
        g,
        t,
        "instance.default.org.set",
        Some(json!({ "orgId": org_id })),
    );
    g.tenants[t].default_org = org;
    true
}

fn iam_project(g: &mut Gen, t: usize) -> bool {
    let projects = g.tenants[t].live_projects();
    let Some(&project) = g.rng.pick(&projects) else {
        return false;
    };
    let id = g.tenants[t].projects[project].id.clone();
    emit(
        g,
        t,
        "instance.iam.project.set",
        Some(json!({ "iamProjectId": id })),
    );
    true
}

fn console(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let apps: Vec<(String, String)> = tenant
        .live_projects()
        .into_iter()
        .flat_map(|p| tenant.projects[p].apps.iter())
        .filter(|a| !a.removed && a.kind == AppKind::Oidc)
        .map(|a| (a.id.clone(), a.client_id.clone()))
        .collect();
    let Some((app_id, client_id)) = g.rng.pick(&apps).cloned() else {
        return false;
    };
    emit(
        g,
        t,
        "instance.iam.console.set",
        Some(json!({ "clientId": client_id, "appId": app_id })),
    );
    true
}

fn domain_added(g: &mut Gen, t: usize) -> bool {
    let label = g.tenants[t].domain_label("login-");
    let domain = match g.rng.below(3) {
        0 => format!("{label}.example.com"),
        1 => format!("{label}.acme.ch"),
        _ => format!("{label}.xn--mller-kva.de"),
    };
    emit(
        g,
        t,
        "instance.domain.added",
        Some(json!({ "domain": domain, "generated": false })),
    );
    g.tenants[t].domains.push(InstanceDomain {
        name: domain,
        generated: false,
        primary: false,
    });
    true
}

fn domain_primary(g: &mut Gen, t: usize) -> bool {
    let candidates: Vec<usize> = (0..g.tenants[t].domains.len())
        .filter(|d| !g.tenants[t].domains[*d].primary)
        .collect();
    let Some(&d) = g.rng.pick(&candidates) else {
        return false;
    };
    let domain = g.tenants[t].domains[d].name.clone();
    emit(
        g,
        t,
        "instance.domain.primary.set",
        Some(json!({ "domain": domain })),
    );
    for (i, each) in g.tenants[t].domains.iter_mut().enumerate() {
        each.primary = i == d;
    }
    true
}

fn domain_removed(g: &mut Gen, t: usize) -> bool {
    let candidates: Vec<usize> = (0..g.tenants[t].domains.len())
        .filter(|d| {
            let domain = &g.tenants[t].domains[*d];
            !domain.primary && !domain.generated
        })
        .collect();
    let Some(&d) = g.rng.pick(&candidates) else {
        return false;
    };
    let domain = g.tenants[t].domains.remove(d).name;
    emit(
        g,
        t,
        "instance.domain.removed",
        Some(json!({ "domain": domain })),
    );
    true
}

fn trusted_added(g: &mut Gen, t: usize) -> bool {
    let label = g.tenants[t].domain_label("trusted-");
    let domain = if g.rng.coin() {
        format!("{label}.partner.example.org")
    } else {
        format!("{label}.localhost:8080")
    };
    emit(
        g,
        t,
        "instance.trusted_domains.added",
        Some(json!({ "domain": domain })),
    );
    g.tenants[t].trusted.push(domain);
    true
}

fn trusted_removed(g: &mut Gen, t: usize) -> bool {
    if g.tenants[t].trusted.is_empty() {
        return false;
    }
    let i = g.rng.below(g.tenants[t].trusted.len());
    let domain = g.tenants[t].trusted.remove(i);
    emit(
        g,
        t,
        "instance.trusted_domains.removed",
        Some(json!({ "domain": domain })),
    );
    true
}

/// The indexes of the members whose users still exist.
fn live_members(g: &Gen, t: usize) -> Vec<usize> {
    let tenant = &g.tenants[t];
    (0..tenant.members.len())
        .filter(|m| tenant.user_live(tenant.members[*m].user))
        .collect()
}

fn member_added(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let candidates: Vec<usize> = tenant
        .live_users(|_| true)
        .into_iter()
        .filter(|u| tenant.user_found(*u) && !tenant.members.iter().any(|m| m.user == *u))
        .collect();
    let Some(&user) = g.rng.pick(&candidates) else {
        return false;
    };
    let roles: Vec<String> = g
        .rng
        .subset(ROLES, 1)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let user_id = g.tenants[t].users[user].id.clone();
    emit(
        g,
        t,
        "instance.member.added",
        Some(json!({ "userId": user_id, "roles": roles })),
    );
    g.tenants[t].members.push(Member { user, roles });
    true
}

fn member_changed(g: &mut Gen, t: usize) -> bool {
    let members = live_members(g, t);
    let Some(&m) = g.rng.pick(&members) else {
        return false;
    };
    let roles: Vec<String> = g
        .rng
        .subset(ROLES, 1)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let user_id = g.tenants[t].users[g.tenants[t].members[m].user].id.clone();
    emit(
        g,
        t,
        "instance.member.changed",
        Some(json!({ "userId": user_id, "roles": roles })),
    );
    g.tenants[t].members[m].roles = roles;
    true
}

fn member_removed(g: &mut Gen, t: usize) -> bool {
    let members = live_members(g, t);
    let Some(&m) = g.rng.pick(&members) else {
        return false;
    };
    let member = g.tenants[t].members.remove(m);
    let user_id = g.tenants[t].users[member.user].id.clone();
    emit(
        g,
        t,
        "instance.member.removed",
        Some(json!({ "userId": user_id })),
    );
    true
}

/// Remove the instance membership of `user` as part of the user's removal.
pub(crate) fn member_cascade(g: &mut Gen, t: usize, user: usize) {
    let Some(m) = g.tenants[t].members.iter().position(|m| m.user == user) else {
        return;
    };
    g.tenants[t].members.remove(m);
    let user_id = g.tenants[t].users[user].id.clone();
    emit(
        g,
        t,
        "instance.member.cascade.removed",
        Some(json!({ "userId": user_id })),
    );
}

fn policy_added(g: &mut Gen, t: usize) -> bool {
    if g.tenants[t].policy {
        return false;
    }
    let payload = json!({
        "userLoginMustBeDomain": g.rng.coin(),
        "validateOrgDomains": g.rng.coin(),
        "smtpSenderAddressMatchesInstanceDomain": g.rng.coin(),
    });
    emit(g, t, "instance.policy.domain.added", Some(payload));
    g.tenants[t].policy = true;
    true
}

fn policy_changed(g: &mut Gen, t: usize) -> bool {
    if !g.tenants[t].policy {
        return false;
    }
    let mut payload = Map::new();
    for key in [
        "userLoginMustBeDomain",
        "validateOrgDomains",
        "smtpSenderAddressMatchesInstanceDomain",
    ] {
        if g.rng.coin() {
            payload.insert(key.to_owned(), Value::Bool(g.rng.coin()));
        }
    }
    if payload.is_empty() {
        payload.insert("validateOrgDomains".to_owned(), Value::Bool(g.rng.coin()));
    }
    emit(
        g,
        t,
        "instance.policy.domain.changed",
        Some(Value::Object(payload)),
    );
    true
}

/// A feature value of the given shape.
fn feature_value(g: &mut Gen, shape: char) -> Value {
    match shape {
        'i' => {
            let all = [0, 2, 3, 4, 5];
            let chosen: Vec<i64> = g.rng.subset(&all, 0);
            json!(chosen)
        }
        'o' => match g.rng.below(3) {
            0 => json!({}),
            1 => json!({ "required": g.rng.coin() }),
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
        _ => Value::Bool(g.rng.coin()),
    }
}

fn feature_set(g: &mut Gen, t: usize) -> bool {
    let fresh: Vec<(&str, char)> = FEATURES
        .iter()
        .filter(|(key, _)| g.fresh(&format!("feature.instance.{key}.set")))
        .copied()
        .collect();
    let (key, shape) = match g.rng.pick(&fresh) {
        Some(feature) if g.rng.coin() => *feature,
        _ => g.rng.one(FEATURES),
    };
    let value = feature_value(g, shape);
    let id = g.tenants[t].id.clone();
    g.emit(
        t,
        ("feature", &id),
        &format!("feature.instance.{key}.set"),
        &id,
        Some(json!({ "Value": value })),
    );
    true
}

fn feature_reset(g: &mut Gen, t: usize) -> bool {
    let id = g.tenants[t].id.clone();
    g.emit(t, ("feature", &id), "feature.instance.reset", &id, None);
    true
}

fn legacy_feature(g: &mut Gen, t: usize) -> bool {
    let aggregate = g.id();
    let tenant = g.tenants[t].id.clone();
    let value = json!({ "Value": { "Boolean": g.rng.coin() } });
    g.emit(
        t,
        ("feature", &aggregate),
        LEGACY_FEATURE,
        &tenant,
        Some(value),
    );
    true
}
