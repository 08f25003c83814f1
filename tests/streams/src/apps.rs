//! Applications of projects (events of the `project` aggregate), read by the
//! apps family (and by the users family for the application keys): OIDC,
//! API and SAML apps with their configuration added in the same
//! transaction (`app_configs.rs` writes the configurations and their
//! changes), name changes, deactivation, keys and removal.

use serde_json::{Map, Value, json};

use crate::generator::{Action, Gen};
use crate::projects::{emit, pick, unchanged};
use crate::world::{App, AppKind};
use crate::{app_configs, clock, limits, text};

/// The app actions.
pub(crate) const ACTIONS: &[Action] = &[
    Action::new("project.application.added", 3, added).writes(&[
        "project.application.config.oidc.added",
        "project.application.config.api.added",
        "project.application.config.saml.added",
    ]),
    Action::new("project.application.changed", 1, changed),
    Action::new("project.application.deactivated", 1, deactivated),
    Action::new("project.application.reactivated", 1, reactivated),
    Action::new("project.application.oidc.key.added", 2, key_added),
    Action::new("project.application.oidc.key.removed", 1, key_removed),
    Action::new(
        "project.application.config.oidc.changed",
        2,
        app_configs::oidc_changed,
    ),
    Action::new(
        "project.application.config.api.changed",
        1,
        app_configs::api_changed,
    ),
    Action::new(
        "project.application.config.oidc.secret.changed",
        1,
        |g, t| app_configs::secret_changed(g, t, AppKind::Oidc),
    ),
    Action::new(
        "project.application.config.oidc.secret.updated",
        1,
        |g, t| app_configs::secret_updated(g, t, AppKind::Oidc),
    ),
    Action::new(
        "project.application.config.api.secret.changed",
        1,
        |g, t| app_configs::secret_changed(g, t, AppKind::Api),
    ),
    Action::new(
        "project.application.config.api.secret.updated",
        1,
        |g, t| app_configs::secret_updated(g, t, AppKind::Api),
    ),
    Action::new(
        "project.application.config.saml.changed",
        2,
        app_configs::saml_changed,
    ),
    Action::new("project.application.removed", 1, removed),
];

/// The kind of a new app: one whose configuration event was never written
/// first, else mostly OIDC (API more often while no API secret was
/// changed).
fn kind(g: &mut Gen) -> AppKind {
    let kinds = [
        ("project.application.config.api.added", AppKind::Api),
        ("project.application.config.saml.added", AppKind::Saml),
        ("project.application.config.oidc.added", AppKind::Oidc),
    ];
    if let Some((_, kind)) = kinds.iter().find(|(name, _)| g.fresh(name)) {
        return *kind;
    }
    if g.fresh(app_configs::API_SECRET) && g.rng.coin() {
        return AppKind::Api;
    }
    match g.rng.below(20) {
        0..=9 => AppKind::Oidc,
        10..=15 => AppKind::Api,
        _ => AppKind::Saml,
    }
}

/// An app name.
fn name(g: &mut Gen) -> String {
    match g.rng.below(10) {
        0 => text::long(&mut g.rng, 2048),
        1 => format!("{} 📱", text::given(&mut g.rng)),
        _ => format!("{} app", text::project_name(&mut g.rng)),
    }
}

/// Add an app to `project` (named `named`, else a generated name), with its
/// configuration in the same transaction; returns its index. A named app
/// (the console) is an OIDC app.
pub(crate) fn add(g: &mut Gen, t: usize, project: usize, named: Option<&str>) -> usize {
    let id = g.id();
    let kind = if named.is_some() {
        AppKind::Oidc
    } else {
        kind(g)
    };
    let name = named.map_or_else(|| name(g), str::to_owned);
    emit(
        g,
        t,
        project,
        "project.application.added",
        Some(json!({ "appId": id, "name": name })),
    );
    let mut entity = String::new();
    let (client_id, auth) = match kind {
        AppKind::Oidc => {
            let client_id = format!("{}@{}", g.id(), g.rng.one(&["zitadel", "portal", "app"]));
            let (config, auth) = app_configs::oidc(g, &id, &client_id, named.is_some());
            let event = "project.application.config.oidc.added";
            emit(g, t, project, event, Some(config));
            (client_id, auth)
        }
        AppKind::Api => {
            let client_id = format!("{}@{}", g.id(), g.rng.one(&["api", "backend"]));
            let (config, auth) = app_configs::api(g, &id, &client_id);
            let event = "project.application.config.api.added";
            emit(g, t, project, event, Some(config));
            (client_id, auth)
        }
        AppKind::Saml => {
            let (config, saml_entity) = app_configs::saml(g, &id);
            entity = saml_entity;
            let event = "project.application.config.saml.added";
            emit(g, t, project, event, Some(config));
            (String::new(), 0)
        }
    };
    let mut app = App {
        id,
        client_id,
        kind,
        removed: false,
        active: true,
        auth_method: auth,
        secret: false,
        entity_id: entity,
        keys: Vec::new(),
    };
    app.secret = app.uses_secret();
    let apps = &mut g.tenants[t].projects[project].apps;
    apps.push(app);
    apps.len() - 1
}

fn added(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |_| true) else {
        return false;
    };
    add(g, t, project, None);
    limits::reach(g, t, limits::APPLICATION_CREATED);
    true
}

/// A live app of a live project that passes `keep`.
pub(crate) fn pick_app(
    g: &mut Gen,
    t: usize,
    keep: impl Fn(&App) -> bool,
) -> Option<(usize, usize)> {
    let found = g.tenants[t].live_apps(keep);
    g.rng.pick(&found).copied()
}

/// The id of an app.
pub(crate) fn app_id(g: &Gen, t: usize, project: usize, app: usize) -> String {
    g.tenants[t].projects[project].apps[app].id.clone()
}

/// Rename an app; now and then without a name (dropped by `omitempty`,
/// which changes nothing).
fn changed(g: &mut Gen, t: usize) -> bool {
    let Some((project, app)) = pick_app(g, t, |_| true) else {
        return false;
    };
    let mut p = Map::new();
    p.insert("appId".to_owned(), json!(app_id(g, t, project, app)));
    if !unchanged(g, "project.application.changed", 10) {
        p.insert("name".to_owned(), json!(name(g)));
    }
    let event = "project.application.changed";
    emit(g, t, project, event, Some(Value::Object(p)));
    true
}

/// Set whether an app is active, writing `event_type`.
fn set_active(g: &mut Gen, t: usize, active: bool, event_type: &str) -> bool {
    let Some((project, app)) = pick_app(g, t, |a| a.active != active) else {
        return false;
    };
    let payload = json!({ "appId": app_id(g, t, project, app) });
    emit(g, t, project, event_type, Some(payload));
    g.tenants[t].projects[project].apps[app].active = active;
    true
}

fn deactivated(g: &mut Gen, t: usize) -> bool {
    set_active(g, t, false, "project.application.deactivated")
}

fn reactivated(g: &mut Gen, t: usize) -> bool {
    set_active(g, t, true, "project.application.reactivated")
}

fn key_added(g: &mut Gen, t: usize) -> bool {
    let Some((project, app)) = pick_app(g, t, |a| a.kind != AppKind::Saml) else {
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
    let event = "project.application.oidc.key.added";
    emit(g, t, project, event, Some(payload));
    g.tenants[t].projects[project].apps[app].keys.push(key);
    true
}

fn key_removed(g: &mut Gen, t: usize) -> bool {
    let Some((project, app)) = pick_app(g, t, |a| !a.keys.is_empty()) else {
        return false;
    };
    let keys = &mut g.tenants[t].projects[project].apps[app].keys;
    let key = keys.remove(g.rng.below(keys.len()));
    let event = "project.application.oidc.key.removed";
    emit(g, t, project, event, Some(json!({ "keyId": key })));
    true
}

/// Remove an app (before its project is removed; other apps go with their
/// project).
fn removed(g: &mut Gen, t: usize) -> bool {
    let Some((project, app)) = pick_app(g, t, |_| true) else {
        return false;
    };
    let payload = json!({ "appId": app_id(g, t, project, app), "name": "" });
    emit(g, t, project, "project.application.removed", Some(payload));
    g.tenants[t].projects[project].apps[app].removed = true;
    true
}
