//! The configurations of applications (events of the `project` aggregate,
//! read by the apps family): OIDC, API and SAML configurations as an app's
//! creation writes them, their changes with varying subsets of fields, and
//! client secrets (hashed, or as the older `CryptoValue`) and their
//! rehashing.
//!
//! Added configurations leave out the zero values Go's `omitempty` drops
//! most of the time and write them explicitly now and then; changes carry
//! the fields they change, zero values included, and now and then none.

use serde_json::{Map, Value, json};

use crate::apps::{app_id, pick_app};
use crate::generator::Gen;
use crate::projects::{emit, unchanged};
use crate::text;
use crate::world::{App, AppKind};

/// The event changing an API app's secret.
pub(crate) const API_SECRET: &str = "project.application.config.api.secret.changed";

/// Redirect URIs per OIDC application type (web, user agent, native).
const REDIRECTS: [&[&str]; 3] = [
    &[
        "https://app.example.com/callback",
        "https://ümlaut.example.com/auth/callback",
        "https://portal.example.org/oidc/cb?tenant=a&x=1",
    ],
    &[
        "https://spa.example.com/",
        "http://localhost:4200/auth/callback",
        "https://例え.jp/callback",
    ],
    &[
        "com.example.app:/oauth2redirect",
        "http://127.0.0.1:8080/callback",
        "myapp://login",
    ],
];

/// Post-logout redirect URIs.
const LOGOUTS: &[&str] = &[
    "https://app.example.com/logout",
    "https://spa.example.com/bye",
    "http://localhost:4200/",
];

/// Additional CORS origins.
const ORIGINS: &[&str] = &[
    "https://other.example.com",
    "http://localhost:3000",
    "https://bücher.example.de",
];

/// Clock skews in nanoseconds, as Go writes a `time.Duration`.
const SKEWS: &[i64] = &[0, 500_000_000, 1_000_000_000, 5_000_000_000];

/// SAML service provider hosts.
const SAML_HOSTS: &[&str] = &["sp.example.com", "dienst.münchen.de", "saml.example.jp"];

/// Insert `value` under `key` when it is true, and now and then an
/// explicit false (which `omitempty` drops).
fn flag(g: &mut Gen, map: &mut Map<String, Value>, key: &str, value: bool) {
    if value || g.rng.chance(30) {
        map.insert(key.to_owned(), json!(value));
    }
}

/// Insert the number `value` under `key` when it is not zero, and now and
/// then an explicit zero.
fn number<T: Into<Value> + Default + PartialEq>(
    g: &mut Gen,
    map: &mut Map<String, Value>,
    key: &str,
    value: T,
) {
    if value != T::default() || g.rng.chance(30) {
        map.insert(key.to_owned(), value.into());
    }
}

/// A non-empty subset of `items`.
fn some<T: Copy>(g: &mut Gen, items: &[T]) -> Vec<T> {
    g.rng.subset(items, 1)
}

/// Response types (0 code, 1 id token, 2 id token and token).
fn response_types(g: &mut Gen) -> Vec<usize> {
    if g.rng.chance(60) {
        vec![0]
    } else {
        some(g, &[0, 1, 2])
    }
}

/// Grant types (0 authorization code, 1 implicit, 2 refresh token, 3
/// device code, 4 token exchange).
fn grant_types(g: &mut Gen) -> Vec<usize> {
    if g.rng.chance(40) {
        vec![0, 2]
    } else {
        some(g, &[0, 1, 2, 3, 4])
    }
}

/// A login version (1 or 2) and, mostly with 2, the base URI of the login.
fn login(g: &mut Gen, map: &mut Map<String, Value>) {
    match g.rng.below(4) {
        1 => {
            map.insert("loginVersion".to_owned(), json!(1));
        }
        2 | 3 => {
            map.insert("loginVersion".to_owned(), json!(2));
            if g.rng.chance(70) {
                map.insert(
                    "loginBaseURI".to_owned(),
                    json!("https://login.example.com/ui/v2/login"),
                );
            }
        }
        _ => {}
    }
}

/// A client secret: mostly a hash, in older events a `CryptoValue`.
fn secret(g: &mut Gen, map: &mut Map<String, Value>) {
    if g.rng.chance(70) {
        let hash = text::password_hash(&mut g.rng);
        map.insert("hashedSecret".to_owned(), json!(hash));
    } else {
        map.insert("clientSecret".to_owned(), text::client_secret(&mut g.rng));
    }
}

/// The OIDC configuration of a new app (the console: a user agent app
/// without secret) with its auth method.
pub(crate) fn oidc(g: &mut Gen, app_id: &str, client_id: &str, console: bool) -> (Value, usize) {
    let app_type = match g.rng.below(4) {
        _ if console => 1,
        0 | 1 => 0,
        n => n - 1,
    };
    let auth = match app_type {
        _ if console => 2,
        0 => g.rng.one(&[0, 0, 1, 2, 3]),
        _ => 2,
    };
    let mut p = Map::new();
    p.insert("appId".to_owned(), json!(app_id));
    number(g, &mut p, "oidcVersion", 0_usize);
    p.insert("clientId".to_owned(), json!(client_id));
    if auth <= 1 {
        secret(g, &mut p);
    }
    if !g.rng.chance(8) {
        let uris = some(g, REDIRECTS[app_type]);
        p.insert("redirectUris".to_owned(), json!(uris));
    }
    if !g.rng.chance(8) {
        p.insert("responseTypes".to_owned(), json!(response_types(g)));
    }
    if !g.rng.chance(8) {
        p.insert("grantTypes".to_owned(), json!(grant_types(g)));
    }
    number(g, &mut p, "applicationType", app_type);
    number(g, &mut p, "authMethodType", auth);
    if g.rng.coin() {
        p.insert("postLogoutRedirectUris".to_owned(), json!(some(g, LOGOUTS)));
    }
    let dev = g.rng.chance(20);
    flag(g, &mut p, "devMode", dev);
    let token = g.rng.below(2);
    number(g, &mut p, "accessTokenType", token);
    for key in [
        "accessTokenRoleAssertion",
        "idTokenRoleAssertion",
        "idTokenUserinfoAssertion",
    ] {
        let value = g.rng.coin();
        flag(g, &mut p, key, value);
    }
    let skew = g.rng.one(SKEWS);
    number(g, &mut p, "clockSkew", skew);
    if g.rng.chance(30) {
        p.insert("additionalOrigins".to_owned(), json!(some(g, ORIGINS)));
    }
    let skip = app_type == 2 && g.rng.coin();
    flag(g, &mut p, "skipNativeAppSuccessPage", skip);
    if g.rng.chance(20) {
        p.insert(
            "backChannelLogoutURI".to_owned(),
            json!("https://app.example.com/backchannel-logout"),
        );
    }
    login(g, &mut p);
    (Value::Object(p), auth)
}

/// The API configuration of a new app with its auth method (basic, with a
/// secret, while no API secret was changed).
pub(crate) fn api(g: &mut Gen, app_id: &str, client_id: &str) -> (Value, usize) {
    let auth = usize::from(!g.fresh(API_SECRET) && g.rng.chance(35));
    let mut p = Map::new();
    p.insert("appId".to_owned(), json!(app_id));
    p.insert("clientId".to_owned(), json!(client_id));
    if auth == 0 {
        secret(g, &mut p);
    }
    number(g, &mut p, "authMethodType", auth);
    (Value::Object(p), auth)
}

/// A new SAML entity id, unique within the tenant.
fn entity_id(g: &mut Gen) -> String {
    let host = g.rng.one(SAML_HOSTS);
    format!("https://{host}/saml/{}", g.id())
}

/// The SAML configuration of a new app with its entity id.
pub(crate) fn saml(g: &mut Gen, app_id: &str) -> (Value, String) {
    let entity = entity_id(g);
    let mut p = Map::new();
    p.insert("appId".to_owned(), json!(app_id));
    p.insert("entityId".to_owned(), json!(entity));
    let metadata = text::saml_metadata(&mut g.rng, &entity);
    p.insert("metadata".to_owned(), json!(metadata));
    if g.rng.chance(40) {
        p.insert(
            "metadata_url".to_owned(),
            json!(format!("{entity}/metadata.xml")),
        );
    }
    login(g, &mut p);
    (Value::Object(p), entity)
}

/// Change a varying subset of an OIDC app's settings (each written with
/// its value, zero values included); now and then none.
pub(crate) fn oidc_changed(g: &mut Gen, t: usize) -> bool {
    let Some((project, app)) = pick_app(g, t, |a| a.kind == AppKind::Oidc) else {
        return false;
    };
    let mut p = Map::new();
    p.insert("appId".to_owned(), json!(app_id(g, t, project, app)));
    if unchanged(g, "project.application.config.oidc.changed", 6) {
        let event = "project.application.config.oidc.changed";
        emit(g, t, project, event, Some(Value::Object(p)));
        return true;
    }
    let mut set = |g: &mut Gen, key: &str, value: Value| {
        if g.rng.chance(25) {
            p.insert(key.to_owned(), value);
        }
    };
    let app_type = g.rng.below(3);
    set(g, "oidcVersion", json!(0));
    let uris = g.rng.subset(REDIRECTS[app_type], 0);
    set(g, "redirectUris", json!(uris));
    let types = response_types(g);
    set(g, "responseTypes", json!(types));
    let types = grant_types(g);
    set(g, "grantTypes", json!(types));
    set(g, "applicationType", json!(app_type));
    let auth = g.rng.below(4);
    set(g, "authMethodType", json!(auth));
    let uris = g.rng.subset(LOGOUTS, 0);
    set(g, "postLogoutRedirectUris", json!(uris));
    for key in [
        "devMode",
        "accessTokenRoleAssertion",
        "idTokenRoleAssertion",
        "idTokenUserinfoAssertion",
        "skipNativeAppSuccessPage",
    ] {
        let value = g.rng.coin();
        set(g, key, json!(value));
    }
    let token = g.rng.below(2);
    set(g, "accessTokenType", json!(token));
    let skew = g.rng.one(SKEWS);
    set(g, "clockSkew", json!(skew));
    let origins = g.rng.subset(ORIGINS, 0);
    set(g, "additionalOrigins", json!(origins));
    let uri = g.rng.one(&["", "https://app.example.com/bcl"]);
    set(g, "backChannelLogoutURI", json!(uri));
    let version = g.rng.range(1, 2);
    set(g, "loginVersion", json!(version));
    let uri = g.rng.one(&["", "https://login.example.com/ui/v2/login"]);
    set(g, "loginBaseURI", json!(uri));
    if p.len() == 1 {
        let uris = g.rng.subset(REDIRECTS[app_type], 1);
        p.insert("redirectUris".to_owned(), json!(uris));
    }
    if let Some(auth) = p.get("authMethodType").and_then(Value::as_u64) {
        g.tenants[t].projects[project].apps[app].auth_method = usize::try_from(auth).unwrap_or(0);
    }
    let event = "project.application.config.oidc.changed";
    emit(g, t, project, event, Some(Value::Object(p)));
    true
}

/// Change an API app's auth method; now and then without it (no change).
pub(crate) fn api_changed(g: &mut Gen, t: usize) -> bool {
    let Some((project, app)) = pick_app(g, t, |a| a.kind == AppKind::Api) else {
        return false;
    };
    let mut p = Map::new();
    p.insert("appId".to_owned(), json!(app_id(g, t, project, app)));
    if !unchanged(g, "project.application.config.api.changed", 25) {
        let auth = g.rng.below(2);
        p.insert("authMethodType".to_owned(), json!(auth));
        g.tenants[t].projects[project].apps[app].auth_method = auth;
    }
    let event = "project.application.config.api.changed";
    emit(g, t, project, event, Some(Value::Object(p)));
    true
}

/// The event name of a secret event of an app of `kind`.
fn secret_event(kind: AppKind, what: &str) -> String {
    let config = if kind == AppKind::Api { "api" } else { "oidc" };
    format!("project.application.config.{config}.secret.{what}")
}

/// Set a new client secret of an app of `kind` whose auth method uses one.
pub(crate) fn secret_changed(g: &mut Gen, t: usize, kind: AppKind) -> bool {
    let Some((project, app)) = pick_app(g, t, |a| a.kind == kind && a.uses_secret()) else {
        return false;
    };
    let mut p = Map::new();
    p.insert("appId".to_owned(), json!(app_id(g, t, project, app)));
    secret(g, &mut p);
    let event = secret_event(kind, "changed");
    emit(g, t, project, &event, Some(Value::Object(p)));
    g.tenants[t].projects[project].apps[app].secret = true;
    true
}

/// Rehash the client secret of an app of `kind` (on a successful check
/// with an outdated hash algorithm).
pub(crate) fn secret_updated(g: &mut Gen, t: usize, kind: AppKind) -> bool {
    let keep = |a: &App| a.kind == kind && a.secret && a.uses_secret();
    let Some((project, app)) = pick_app(g, t, keep) else {
        return false;
    };
    let hash = text::password_hash(&mut g.rng);
    let payload = json!({ "appId": app_id(g, t, project, app), "hashedSecret": hash });
    let event = secret_event(kind, "updated");
    emit(g, t, project, &event, Some(payload));
    true
}

/// The situation of a SAML app changed with new metadata.
const NEW_METADATA: &str = "project.application.config.saml.changed/metadata";

/// Change a SAML app: new metadata (always while that was never written;
/// with a new entity id or the same one), the metadata URL, the login
/// version or base URI; now and then nothing. The entity id is always
/// written, empty when unchanged.
pub(crate) fn saml_changed(g: &mut Gen, t: usize) -> bool {
    let Some((project, app)) = pick_app(g, t, |a| a.kind == AppKind::Saml) else {
        return false;
    };
    let mut p = Map::new();
    p.insert("appId".to_owned(), json!(app_id(g, t, project, app)));
    p.insert("entityId".to_owned(), json!(""));
    if !unchanged(g, "project.application.config.saml.changed", 8) {
        let metadata = g.fresh(NEW_METADATA) || g.rng.chance(50);
        if metadata {
            let entity = if g.rng.coin() {
                let entity = entity_id(g);
                p.insert("entityId".to_owned(), json!(entity));
                g.tenants[t].projects[project].apps[app]
                    .entity_id
                    .clone_from(&entity);
                entity
            } else {
                g.tenants[t].projects[project].apps[app].entity_id.clone()
            };
            let xml = text::saml_metadata(&mut g.rng, &entity);
            p.insert("metadata".to_owned(), json!(xml));
            g.mark(NEW_METADATA);
        }
        if g.rng.chance(30) || !metadata {
            let url = g.rng.one(&["", "https://sp.example.com/saml/metadata.xml"]);
            p.insert("metadata_url".to_owned(), json!(url));
        }
        if g.rng.chance(30) {
            login(g, &mut p);
        }
    }
    let event = "project.application.config.saml.changed";
    emit(g, t, project, event, Some(Value::Object(p)));
    true
}
