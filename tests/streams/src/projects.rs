//! Events of the `project` aggregate: projects with their roles, grants to
//! other orgs and applications with their keys. The user grants family looks
//! projects and project grants up and follows role, grant and project
//! removals; the users family keeps the application keys.

use serde_json::{Map, Value, json};

use crate::generator::{Action, Gen};
use crate::world::{App, Project, ProjectGrant};
use crate::{clock, text, user_grants};

/// The project actions.
pub(crate) const ACTIONS: &[Action] = &[
    Action::new("project.added", 2, added),
    Action::new("project.role.added", 2, role_added),
    Action::new("project.role.removed", 2, role_removed).writes(&[
        "project.grant.cascade.changed",
        "user.grant.cascade.changed",
    ]),
    Action::new("project.grant.added", 3, grant_added),
    Action::new("project.grant.changed", 2, grant_changed).writes(&["user.grant.cascade.changed"]),
    Action::new("project.grant.removed", 1, grant_removed).writes(&["user.grant.cascade.removed"]),
    Action::new("project.application.added", 2, app_added),
    Action::new("project.application.oidc.key.added", 2, key_added),
    Action::new("project.application.oidc.key.removed", 1, key_removed),
    Action::new("project.application.config.api.changed", 1, |g, t| {
        config_changed(g, t, false)
    }),
    Action::new("project.application.config.oidc.changed", 2, |g, t| {
        config_changed(g, t, true)
    }),
    Action::new("project.application.removed", 1, app_removed),
    Action::new("project.removed", 1, removed).writes(&["user.grant.cascade.removed"]),
];

/// Role keys.
const ROLE_KEYS: &[&str] = &[
    "admin",
    "reader",
    "editor.billing",
    "Ärzte",
    "ロール",
    "$$role$$",
    "role:with:colons",
    "support-agent",
];

/// Emit an event of project `project`.
fn emit(g: &mut Gen, t: usize, project: usize, event_type: &str, payload: Option<Value>) {
    let p = &g.tenants[t].projects[project];
    let id = p.id.clone();
    let owner = g.tenants[t].orgs[p.org].id.clone();
    g.emit(t, ("project", &id), event_type, &owner, payload);
}

/// A live project that passes `keep`.
fn pick(g: &mut Gen, t: usize, keep: impl Fn(&Project) -> bool) -> Option<usize> {
    let tenant = &g.tenants[t];
    let projects: Vec<usize> = tenant
        .live_projects()
        .into_iter()
        .filter(|p| keep(&tenant.projects[*p]))
        .collect();
    g.rng.pick(&projects).copied()
}

/// Add a role to `project`.
fn add_role(g: &mut Gen, t: usize, project: usize) {
    let base = g.rng.one(ROLE_KEYS);
    let n = g.tenants[t].projects[project].role_counter;
    g.tenants[t].projects[project].role_counter += 1;
    let key = if n == 0 {
        base.to_owned()
    } else {
        format!("{base}{n}")
    };
    let display = if g.rng.chance(10) {
        String::new()
    } else {
        format!("{} {}", text::given(&mut g.rng), key)
    };
    let group = g.rng.one(&["", "Management", "Clients", "社内"]);
    let payload = json!({ "key": key, "displayName": display, "group": group });
    emit(g, t, project, "project.role.added", Some(payload));
    g.tenants[t].projects[project].roles.push(key);
}

/// Add a project of `org` with a few roles; returns its index.
pub(crate) fn add(g: &mut Gen, t: usize, org: usize, name: &str) -> usize {
    let id = g.id();
    let project = g.tenants[t].projects.len();
    g.tenants[t].projects.push(Project {
        id,
        org,
        removed: false,
        roles: Vec::new(),
        grants: Vec::new(),
        apps: Vec::new(),
        role_counter: 0,
    });
    let mut p = Map::new();
    p.insert("name".to_owned(), json!(name));
    for key in [
        "projectRoleAssertion",
        "projectRoleCheck",
        "hasProjectCheck",
    ] {
        if g.rng.coin() {
            p.insert(key.to_owned(), json!(g.rng.coin()));
        }
    }
    if g.rng.coin() {
        p.insert("privateLabelingSetting".to_owned(), json!(g.rng.below(3)));
    }
    emit(g, t, project, "project.added", Some(Value::Object(p)));
    for _ in 0..g.rng.range(1, 3) {
        add_role(g, t, project);
    }
    project
}

fn added(g: &mut Gen, t: usize) -> bool {
    let orgs = g.tenants[t].live_orgs(|_, _| true);
    let Some(&org) = g.rng.pick(&orgs) else {
        return false;
    };
    let name = text::project_name(&mut g.rng);
    add(g, t, org, &name);
    true
}

fn role_added(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |_| true) else {
        return false;
    };
    add_role(g, t, project);
    true
}

/// Remove a role; the project grants and user grants that hold it lose it,
/// each with its own cascade event in the same transaction. While one of
/// those cascade events was never written, a role that writes it is
/// preferred.
fn role_removed(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let pairs: Vec<(usize, String)> = tenant
        .live_projects()
        .into_iter()
        .flat_map(|p| tenant.projects[p].roles.iter().map(move |r| (p, r.clone())))
        .collect();
    let in_grant = |p: usize, role: &String| {
        (0..tenant.projects[p].grants.len()).any(|pg| {
            tenant.project_grant_live(p, pg) && tenant.projects[p].grants[pg].roles.contains(role)
        })
    };
    let in_user_grant = |p: usize, role: &String| {
        !tenant
            .live_grants(|ug| ug.project == p && ug.roles.contains(role))
            .is_empty()
    };
    let fresh_grant = g.fresh("project.grant.cascade.changed");
    let fresh_user = g.fresh("user.grant.cascade.changed");
    let preferred: Vec<(usize, String)> = pairs
        .iter()
        .filter(|(p, r)| (fresh_grant && in_grant(*p, r)) || (fresh_user && in_user_grant(*p, r)))
        .cloned()
        .collect();
    let from = if !preferred.is_empty() {
        preferred
    } else if g.strict && (fresh_grant || fresh_user) {
        return false;
    } else {
        pairs
    };
    let Some((project, key)) = g.rng.pick(&from).cloned() else {
        return false;
    };
    emit(
        g,
        t,
        project,
        "project.role.removed",
        Some(json!({ "key": key })),
    );
    g.tenants[t].projects[project].roles.retain(|r| *r != key);
    for pg in 0..g.tenants[t].projects[project].grants.len() {
        if !g.tenants[t].project_grant_live(project, pg)
            || !g.tenants[t].projects[project].grants[pg]
                .roles
                .contains(&key)
        {
            continue;
        }
        let grant = &mut g.tenants[t].projects[project].grants[pg];
        grant.roles.retain(|r| *r != key);
        let payload = json!({ "grantId": grant.id, "roleKeys": grant.roles });
        emit(
            g,
            t,
            project,
            "project.grant.cascade.changed",
            Some(payload),
        );
    }
    user_grants::cascade_roles(g, t, |ug| ug.project == project, &key);
    true
}

/// The role keys of the payloads: a subset, or Go's nil slice (`null`) now
/// and then when empty.
fn role_keys(roles: &[String], null_when_empty: bool) -> Value {
    if roles.is_empty() && null_when_empty {
        Value::Null
    } else {
        json!(roles)
    }
}

fn grant_added(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |p| !p.roles.is_empty()) else {
        return false;
    };
    let tenant = &g.tenants[t];
    let p = &tenant.projects[project];
    let orgs = tenant.live_orgs(|o, _| {
        o != p.org
            && !p
                .grants
                .iter()
                .enumerate()
                .any(|(i, gr)| gr.org == o && tenant.project_grant_live(project, i))
    });
    let Some(&org) = g.rng.pick(&orgs) else {
        return false;
    };
    let roles = g
        .rng
        .subset(&g.tenants[t].projects[project].roles.clone(), 1);
    let id = g.id();
    let granted = g.tenants[t].orgs[org].id.clone();
    let payload = json!({ "grantId": id, "grantedOrgId": granted, "roleKeys": roles });
    emit(g, t, project, "project.grant.added", Some(payload));
    g.tenants[t].projects[project].grants.push(ProjectGrant {
        id,
        org,
        roles,
        removed: false,
    });
    true
}

/// A live project grant.
fn pick_grant(g: &mut Gen, t: usize) -> Option<(usize, usize)> {
    let tenant = &g.tenants[t];
    let found: Vec<(usize, usize)> = tenant
        .live_projects()
        .into_iter()
        .flat_map(|p| {
            (0..tenant.projects[p].grants.len())
                .filter(move |pg| tenant.project_grant_live(p, *pg))
                .map(move |pg| (p, pg))
        })
        .collect();
    g.rng.pick(&found).copied()
}

/// Change the roles of a project grant; user grants through it lose the
/// roles no longer granted, with a cascade event each.
fn grant_changed(g: &mut Gen, t: usize) -> bool {
    let held = |g: &Gen, project: usize, pg: usize| -> Vec<String> {
        let tenant = &g.tenants[t];
        tenant
            .live_grants(|ug| ug.project == project && ug.project_grant == Some(pg))
            .into_iter()
            .flat_map(|ug| tenant.grants[ug].roles.clone())
            .collect()
    };
    let fresh = g.fresh("user.grant.cascade.changed");
    let picked = if fresh {
        let tenant = &g.tenants[t];
        let with_roles: Vec<(usize, usize)> = tenant
            .live_projects()
            .into_iter()
            .flat_map(|p| (0..tenant.projects[p].grants.len()).map(move |pg| (p, pg)))
            .filter(|(p, pg)| tenant.project_grant_live(*p, *pg) && !held(g, *p, *pg).is_empty())
            .collect();
        match g.rng.pick(&with_roles).copied() {
            Some(found) => Some(found),
            None if g.strict => return false,
            None => pick_grant(g, t),
        }
    } else {
        pick_grant(g, t)
    };
    let Some((project, pg)) = picked else {
        return false;
    };
    let mut all = g.tenants[t].projects[project].roles.clone();
    if fresh && let Some(dropped) = held(g, project, pg).first() {
        all.retain(|r| r != dropped);
    }
    let roles = g.rng.subset(&all, 0);
    let id = g.tenants[t].projects[project].grants[pg].id.clone();
    let null = g.rng.coin();
    let payload = json!({ "grantId": id, "roleKeys": role_keys(&roles, null) });
    emit(g, t, project, "project.grant.changed", Some(payload));
    g.tenants[t].projects[project].grants[pg]
        .roles
        .clone_from(&roles);
    user_grants::cascade_kept(
        g,
        t,
        |ug| ug.project == project && ug.project_grant == Some(pg),
        &roles,
    );
    true
}

fn grant_removed(g: &mut Gen, t: usize) -> bool {
    let Some((project, pg)) = pick_grant(g, t) else {
        return false;
    };
    let grant = &g.tenants[t].projects[project].grants[pg];
    let payload = json!({
        "grantId": grant.id,
        "grantedOrgId": g.tenants[t].orgs[grant.org].id,
    });
    emit(g, t, project, "project.grant.removed", Some(payload));
    user_grants::cascade_removed(g, t, |ug| {
        ug.project == project && ug.project_grant == Some(pg)
    });
    g.tenants[t].projects[project].grants[pg].removed = true;
    true
}

/// The OIDC configuration of a new app: the fields Zitadel always writes
/// and a varying set of the optional ones.
fn oidc_config(g: &mut Gen, app_id: &str, client_id: &str) -> Value {
    let mut p = Map::new();
    p.insert("appId".to_owned(), json!(app_id));
    p.insert("oidcVersion".to_owned(), json!(0));
    p.insert("clientId".to_owned(), json!(client_id));
    match g.rng.below(3) {
        0 => {
            p.insert("clientSecret".to_owned(), text::crypto_value(&mut g.rng));
        }
        1 => {
            p.insert(
                "hashedSecret".to_owned(),
                json!(text::password_hash(&mut g.rng)),
            );
        }
        _ => {}
    }
    p.insert(
        "redirectUris".to_owned(),
        json!([
            "https://app.example.com/callback",
            "http://localhost:3000/auth"
        ]),
    );
    p.insert("responseTypes".to_owned(), json!([0]));
    p.insert("grantTypes".to_owned(), json!([0, 2]));
    p.insert("applicationType".to_owned(), json!(g.rng.below(3)));
    p.insert("authMethodType".to_owned(), json!(g.rng.below(4)));
    if g.rng.coin() {
        p.insert(
            "postLogoutRedirectUris".to_owned(),
            json!(["https://app.example.com/logout"]),
        );
    }
    p.insert("devMode".to_owned(), json!(g.rng.coin()));
    p.insert("accessTokenType".to_owned(), json!(g.rng.below(2)));
    if g.rng.coin() {
        p.insert("clockSkew".to_owned(), json!(1_000_000_000_i64));
    }
    if g.rng.chance(30) {
        p.insert(
            "additionalOrigins".to_owned(),
            json!(["https://other.example.com"]),
        );
    }
    if g.rng.chance(20) {
        p.insert(
            "backChannelLogoutURI".to_owned(),
            json!("https://app.example.com/bcl"),
        );
    }
    if g.rng.chance(30) {
        p.insert("loginVersion".to_owned(), json!(2));
        p.insert(
            "loginBaseURI".to_owned(),
            json!("https://login.example.com/ui/v2"),
        );
    }
    Value::Object(p)
}

/// Add an app to `project` (named `name`, else a generated name), with its
/// configuration in the same transaction; returns its index. A named app
/// (the console) is an OIDC app, the first other app an API app, later
/// ones mostly OIDC apps.
pub(crate) fn add_app(g: &mut Gen, t: usize, project: usize, name: Option<&str>) -> usize {
    let id = g.id();
    let client_id = format!("{}@{}", g.id(), g.rng.one(&["zitadel", "portal", "app"]));
    let api_fresh = g.fresh("project.application.config.api.added");
    let oidc = name.is_some() || (!api_fresh && g.rng.chance(65));
    let name = name.map_or_else(
        || format!("{} app", text::project_name(&mut g.rng)),
        str::to_owned,
    );
    emit(
        g,
        t,
        project,
        "project.application.added",
        Some(json!({ "appId": id, "name": name })),
    );
    if oidc {
        let config = oidc_config(g, &id, &client_id);
        emit(
            g,
            t,
            project,
            "project.application.config.oidc.added",
            Some(config),
        );
    } else {
        let mut p = Map::new();
        p.insert("appId".to_owned(), json!(id));
        p.insert("clientId".to_owned(), json!(client_id));
        if g.rng.coin() {
            p.insert(
                "hashedSecret".to_owned(),
                json!(text::password_hash(&mut g.rng)),
            );
        }
        p.insert("authMethodType".to_owned(), json!(g.rng.below(2)));
        emit(
            g,
            t,
            project,
            "project.application.config.api.added",
            Some(Value::Object(p)),
        );
    }
    let apps = &mut g.tenants[t].projects[project].apps;
    apps.push(App {
        id,
        client_id,
        oidc,
        removed: false,
        keys: Vec::new(),
    });
    apps.len() - 1
}

fn app_added(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |_| true) else {
        return false;
    };
    add_app(g, t, project, None);
    true
}

/// A live app of a live project that passes `keep`.
fn pick_app(g: &mut Gen, t: usize, keep: impl Fn(&App) -> bool) -> Option<(usize, usize)> {
    let tenant = &g.tenants[t];
    let found: Vec<(usize, usize)> = tenant
        .live_projects()
        .into_iter()
        .flat_map(|p| {
            let apps = &tenant.projects[p].apps;
            (0..apps.len())
                .filter(|a| !apps[*a].removed && keep(&apps[*a]))
                .map(move |a| (p, a))
        })
        .collect();
    g.rng.pick(&found).copied()
}

fn key_added(g: &mut Gen, t: usize) -> bool {
    let Some((project, app)) = pick_app(g, t, |_| true) else {
        return false;
    };
    let key = g.id();
    let a = &g.tenants[t].projects[project].apps[app];
    let payload = json!({
        "applicationId": a.id,
        "clientId": a.client_id,
        "keyId": key,
        "type": 1,
        "expirationDate": clock::expiration(&mut g.rng),
        "publicKey": text::public_key(&mut g.rng),
    });
    emit(
        g,
        t,
        project,
        "project.application.oidc.key.added",
        Some(payload),
    );
    g.tenants[t].projects[project].apps[app].keys.push(key);
    true
}

fn key_removed(g: &mut Gen, t: usize) -> bool {
    let Some((project, app)) = pick_app(g, t, |a| !a.keys.is_empty()) else {
        return false;
    };
    let keys = &mut g.tenants[t].projects[project].apps[app].keys;
    let key = keys.remove(g.rng.below(keys.len()));
    emit(
        g,
        t,
        project,
        "project.application.oidc.key.removed",
        Some(json!({ "keyId": key })),
    );
    true
}

/// Change an API app's auth method, or some of an OIDC app's settings
/// (the auth method among them or not).
fn config_changed(g: &mut Gen, t: usize, oidc: bool) -> bool {
    let Some((project, app)) = pick_app(g, t, |a| a.oidc == oidc) else {
        return false;
    };
    let id = g.tenants[t].projects[project].apps[app].id.clone();
    let mut p = Map::new();
    p.insert("appId".to_owned(), json!(id));
    if oidc {
        if g.rng.coin() {
            p.insert("authMethodType".to_owned(), json!(g.rng.below(4)));
        }
        if g.rng.coin() {
            p.insert("devMode".to_owned(), json!(g.rng.coin()));
        }
        if g.rng.coin() || p.len() == 1 {
            p.insert(
                "redirectUris".to_owned(),
                json!([
                    "https://app.example.com/cb",
                    "https://ümlaut.example.com/cb"
                ]),
            );
        }
    } else {
        p.insert("authMethodType".to_owned(), json!(g.rng.below(2)));
    }
    let event_type = if oidc {
        "project.application.config.oidc.changed"
    } else {
        "project.application.config.api.changed"
    };
    emit(g, t, project, event_type, Some(Value::Object(p)));
    true
}

fn app_removed(g: &mut Gen, t: usize) -> bool {
    let Some((project, app)) = pick_app(g, t, |_| true) else {
        return false;
    };
    let id = g.tenants[t].projects[project].apps[app].id.clone();
    emit(
        g,
        t,
        project,
        "project.application.removed",
        Some(json!({ "appId": id, "name": "" })),
    );
    g.tenants[t].projects[project].apps[app].removed = true;
    true
}

/// Remove a project (not the IAM project of the tenant's first set-up):
/// its user grants are removed by cascade in the same transaction.
fn removed(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |_| true).filter(|p| *p != 0) else {
        return false;
    };
    emit(g, t, project, "project.removed", None);
    user_grants::cascade_removed(g, t, |ug| ug.project == project);
    g.tenants[t].projects[project].removed = true;
    true
}
