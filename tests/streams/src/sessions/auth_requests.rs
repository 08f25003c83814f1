//! Auth requests of the login flow (the `auth_request` aggregate, owned by
//! the instance): an OIDC app's request added by the login client, with the
//! optional fields varied, then succeeded (the first ones reach the
//! milestones of a login) or failed; some stay pending.

use serde_json::{Map, Value, json};

use super::{AuthRequest, login_client};
use crate::generator::{Action, Gen};
use crate::limits::{AUTHENTICATED_ON_APPLICATION, AUTHENTICATED_ON_INSTANCE, reach};
use crate::text;
use crate::world::AppKind;

/// The auth request actions.
pub(super) const ACTIONS: &[Action] = &[
    Action::new("auth_request.added", 4, added),
    Action::new("auth_request.succeeded", 3, |g, t| {
        ended(g, t, "auth_request.succeeded")
    }),
    Action::new("auth_request.failed", 1, |g, t| {
        ended(g, t, "auth_request.failed")
    }),
];

/// Redirect URIs of the apps.
const REDIRECTS: &[&str] = &[
    "https://app.example.com/auth/callback",
    "http://localhost:4200/auth/callback",
    "com.example.app:/oauth2redirect",
    "https://portal.example.org/signin-oidc?tenant=ü",
];

/// Scopes besides `openid`.
const SCOPES: &[&str] = &[
    "profile",
    "email",
    "offline_access",
    "urn:zitadel:iam:org:project:id:zitadel:aud",
    "urn:zitadel:iam:user:metadata",
    "urn:zitadel:iam:org:id:290000000000000001",
];

/// Emit an event of auth request `r` (owned by the instance).
fn emit(g: &mut Gen, t: usize, r: usize, event_type: &str, payload: Option<Value>) {
    let id = g.tenants[t].auth_requests[r].id.clone();
    let owner = g.tenants[t].id.clone();
    g.emit(t, ("auth_request", &id), event_type, &owner, payload);
}

/// A new auth request of a live OIDC app.
fn added(g: &mut Gen, t: usize) -> bool {
    let clients: Vec<String> = g.tenants[t]
        .live_apps(|a| a.kind == AppKind::Oidc && a.active)
        .into_iter()
        .map(|(p, a)| g.tenants[t].projects[p].apps[a].client_id.clone())
        .collect();
    let Some(client_id) = g.rng.pick(&clients).cloned() else {
        return false;
    };
    let login = login_client(g, t);
    g.creator(&login);
    let mut scope = vec!["openid".to_owned()];
    scope.extend(g.rng.subset(SCOPES, 0).into_iter().map(str::to_owned));
    let mut p = Map::new();
    p.insert("login_client".to_owned(), json!(login));
    p.insert("client_id".to_owned(), json!(client_id));
    p.insert("redirect_uri".to_owned(), json!(g.rng.one(REDIRECTS)));
    p.insert("state".to_owned(), json!(text::hex(&mut g.rng, 24)));
    p.insert("nonce".to_owned(), json!(text::hex(&mut g.rng, 16)));
    p.insert("scope".to_owned(), json!(scope));
    p.insert("audience".to_owned(), json!([client_id]));
    p.insert("response_type".to_owned(), json!(g.rng.below(3)));
    p.insert("response_mode".to_owned(), json!(g.rng.below(3)));
    if g.rng.chance(60) {
        let challenge = text::base64(&text::bytes(&mut g.rng, 32));
        p.insert(
            "code_challenge".to_owned(),
            json!({ "challenge": challenge, "method": 1 }),
        );
    }
    if g.rng.chance(50) {
        let prompt: Vec<usize> = g.rng.subset(&[1, 2, 3, 4, 5], 0);
        p.insert("prompt".to_owned(), json!(prompt));
    }
    if g.rng.chance(40) {
        let locales = g.rng.subset(text::LANGUAGES, 1);
        p.insert("ui_locales".to_owned(), json!(locales));
    }
    if g.rng.chance(25) {
        let max_age: i64 = g.rng.one(&[0, 300, 3_600, 86_400]);
        p.insert("max_age".to_owned(), json!(max_age * 1_000_000_000));
    }
    let users = g.tenants[t].live_users(|u| u.human());
    if let Some(&user) = g.rng.pick(&users).filter(|_| g.rng.chance(30)) {
        let record = &g.tenants[t].users[user];
        let (name, id) = (record.username.clone(), record.id.clone());
        p.insert("login_hint".to_owned(), json!(name));
        if g.rng.coin() {
            p.insert("hint_user_id".to_owned(), json!(id));
        }
    }
    p.insert("need_refresh_token".to_owned(), json!(g.rng.coin()));
    p.insert(
        "issuer".to_owned(),
        json!(format!("https://{}", g.tenants[t].primary_domain())),
    );
    let id = g.id();
    g.tenants[t]
        .auth_requests
        .push(AuthRequest { id, pending: true });
    let r = g.tenants[t].auth_requests.len() - 1;
    emit(g, t, r, "auth_request.added", Some(Value::Object(p)));
    true
}

/// End a pending auth request with `event_type`; a success reaches the
/// milestones of the first logins.
fn ended(g: &mut Gen, t: usize, event_type: &str) -> bool {
    let pending: Vec<usize> = (0..g.tenants[t].auth_requests.len())
        .filter(|r| g.tenants[t].auth_requests[*r].pending)
        .collect();
    let Some(&r) = g.rng.pick(&pending) else {
        return false;
    };
    g.creator(&login_client(g, t));
    let payload = if event_type == "auth_request.failed" && g.rng.coin() {
        Some(json!({ "reason": g.rng.below(4) }))
    } else {
        None
    };
    emit(g, t, r, event_type, payload);
    g.tenants[t].auth_requests[r].pending = false;
    if event_type == "auth_request.succeeded" {
        reach(g, t, AUTHENTICATED_ON_INSTANCE);
        reach(g, t, AUTHENTICATED_ON_APPLICATION);
    }
    true
}
