//! A human's second factors and passwordless keys: TOTP, OTP via SMS and
//! email, recovery codes, U2F and passwordless WebAuthn tokens, and the
//! skipped MFA set-up.

use serde_json::{Map, Value, json};

use super::{emit, maybe, named, pick};
use crate::generator::{Action, Gen};
use crate::text;
use crate::world::{Token, User};

/// The actions of this module.
pub(super) const ACTIONS: &[Action] = &[
    Action::new("user.human.mfa.otp.added", 2, otp_added),
    Action::new("user.human.mfa.otp.verified", 2, otp_verified).writes(&["user.mfa.otp.verified"]),
    Action::new("user.human.mfa.otp.removed", 1, otp_removed),
    Action::new("user.human.mfa.otp.sms.added", 2, sms_added),
    Action::new("user.human.mfa.otp.sms.removed", 1, sms_removed),
    Action::new("user.human.mfa.otp.email.added", 2, email_added),
    Action::new("user.human.mfa.otp.email.removed", 1, email_removed),
    Action::new("user.human.mfa.recoverycode.added", 1, recovery_added),
    Action::new("user.human.mfa.recoverycode.removed", 1, recovery_removed),
    Action::new("user.human.mfa.u2f.token.added", 2, |g, t| {
        token_added(g, t, false)
    }),
    Action::new("user.human.mfa.u2f.token.verified", 2, |g, t| {
        token_verified(g, t, false)
    }),
    Action::new("user.human.mfa.u2f.token.removed", 1, |g, t| {
        token_removed(g, t, false)
    }),
    Action::new("user.human.passwordless.token.added", 2, |g, t| {
        token_added(g, t, true)
    }),
    Action::new("user.human.passwordless.token.verified", 2, |g, t| {
        token_verified(g, t, true)
    }),
    Action::new("user.human.passwordless.token.removed", 1, |g, t| {
        token_removed(g, t, true)
    }),
    Action::new("user.human.mfa.init.skipped", 2, init_skipped)
        .writes(&["user.mfa.otp.init.skipped"]),
];

/// WebAuthn token names.
const TOKEN_NAMES: &[&str] = &[
    "YubiKey 5 NFC",
    "Face ID – iPhone",
    "🔑 Backup key",
    "Windows Hello",
    "",
    "Clé \"bureau\"",
    "指紋",
];

/// A human with the current event names or, when `legacy` is fresh, a
/// legacy one, that passes `keep`.
fn human(
    g: &mut Gen,
    t: usize,
    keep: impl Fn(&User) -> bool,
    legacy: Option<&str>,
) -> Option<usize> {
    pick(g, t, |u| u.human() && keep(u), legacy)
}

/// Optionally the user agent of the request.
fn agent(g: &mut Gen, p: &mut Map<String, Value>) {
    let id = text::hex(&mut g.rng, 16);
    maybe(g, p, 50, "userAgentID", json!(id));
}

fn otp_added(g: &mut Gen, t: usize) -> bool {
    let Some(user) = human(g, t, |u| u.otp.is_none(), Some("user.mfa.otp.verified")) else {
        return false;
    };
    let event_type = named(g, t, user, "user.human.mfa.otp.added", "user.mfa.otp.added");
    let payload = json!({ "otpSecret": text::crypto_value(&mut g.rng) });
    emit(g, t, user, event_type, Some(payload));
    g.tenants[t].users[user].otp = Some(false);
    true
}

fn otp_verified(g: &mut Gen, t: usize) -> bool {
    let legacy = "user.mfa.otp.verified";
    let Some(user) = human(g, t, |u| u.otp == Some(false), Some(legacy)) else {
        return false;
    };
    let event_type = named(g, t, user, "user.human.mfa.otp.verified", legacy);
    let mut p = Map::new();
    agent(g, &mut p);
    emit(g, t, user, event_type, Some(Value::Object(p)));
    g.tenants[t].users[user].otp = Some(true);
    true
}

fn otp_removed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = human(g, t, |u| u.otp.is_some(), None) else {
        return false;
    };
    emit(g, t, user, "user.human.mfa.otp.removed", None);
    g.tenants[t].users[user].otp = None;
    true
}

fn sms_added(g: &mut Gen, t: usize) -> bool {
    let keep = |u: &User| u.phone_verified && !u.otp_sms;
    let Some(user) = human(g, t, keep, None) else {
        return false;
    };
    emit(g, t, user, "user.human.mfa.otp.sms.added", None);
    g.tenants[t].users[user].otp_sms = true;
    true
}

fn sms_removed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = human(g, t, |u| u.otp_sms, None) else {
        return false;
    };
    emit(g, t, user, "user.human.mfa.otp.sms.removed", None);
    g.tenants[t].users[user].otp_sms = false;
    true
}

fn email_added(g: &mut Gen, t: usize) -> bool {
    let Some(user) = human(g, t, |u| u.email_verified && !u.otp_email, None) else {
        return false;
    };
    emit(g, t, user, "user.human.mfa.otp.email.added", None);
    g.tenants[t].users[user].otp_email = true;
    true
}

fn email_removed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = human(g, t, |u| u.otp_email, None) else {
        return false;
    };
    emit(g, t, user, "user.human.mfa.otp.email.removed", None);
    g.tenants[t].users[user].otp_email = false;
    true
}

fn recovery_added(g: &mut Gen, t: usize) -> bool {
    let Some(user) = human(g, t, |u| !u.recovery, None) else {
        return false;
    };
    let codes: Vec<String> = (0..10).map(|_| text::password_hash(&mut g.rng)).collect();
    let mut p = Map::new();
    p.insert("codes".to_owned(), json!(codes));
    agent(g, &mut p);
    emit(
        g,
        t,
        user,
        "user.human.mfa.recoverycode.added",
        Some(Value::Object(p)),
    );
    g.tenants[t].users[user].recovery = true;
    true
}

fn recovery_removed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = human(g, t, |u| u.recovery, None) else {
        return false;
    };
    emit(g, t, user, "user.human.mfa.recoverycode.removed", None);
    g.tenants[t].users[user].recovery = false;
    true
}

/// The event type of a WebAuthn token event.
fn token_event(passwordless: bool, what: &str) -> String {
    if passwordless {
        format!("user.human.passwordless.token.{what}")
    } else {
        format!("user.human.mfa.u2f.token.{what}")
    }
}

fn token_added(g: &mut Gen, t: usize, passwordless: bool) -> bool {
    let Some(user) = human(g, t, |_| true, None) else {
        return false;
    };
    let id = g.id();
    let mut p = Map::new();
    p.insert("webAuthNTokenId".to_owned(), json!(id));
    p.insert(
        "challenge".to_owned(),
        json!(text::base64(&text::bytes(&mut g.rng, 32))),
    );
    p.insert("rpID".to_owned(), json!(g.tenants[t].primary_domain()));
    agent(g, &mut p);
    emit(
        g,
        t,
        user,
        &token_event(passwordless, "added"),
        Some(Value::Object(p)),
    );
    g.tenants[t].users[user].tokens.push(Token {
        id,
        passwordless,
        verified: false,
    });
    true
}

/// A human and one of its tokens that passes `keep`.
fn pick_token(
    g: &mut Gen,
    t: usize,
    passwordless: bool,
    keep: impl Fn(&Token) -> bool,
) -> Option<(usize, usize)> {
    let tenant = &g.tenants[t];
    let found: Vec<(usize, usize)> = tenant
        .live_users(User::human)
        .into_iter()
        .flat_map(|u| {
            let tokens = &tenant.users[u].tokens;
            (0..tokens.len())
                .filter(|k| tokens[*k].passwordless == passwordless && keep(&tokens[*k]))
                .map(move |k| (u, k))
        })
        .collect();
    g.rng.pick(&found).copied()
}

fn token_verified(g: &mut Gen, t: usize, passwordless: bool) -> bool {
    let Some((user, k)) = pick_token(g, t, passwordless, |k| !k.verified) else {
        return false;
    };
    let id = g.tenants[t].users[user].tokens[k].id.clone();
    let mut p = Map::new();
    p.insert("webAuthNTokenId".to_owned(), json!(id));
    p.insert(
        "webAuthNTokenName".to_owned(),
        json!(g.rng.one(TOKEN_NAMES)),
    );
    p.insert(
        "keyId".to_owned(),
        json!(text::base64(&text::bytes(&mut g.rng, 32))),
    );
    p.insert(
        "publicKey".to_owned(),
        json!(text::base64(&text::bytes(&mut g.rng, 77))),
    );
    p.insert(
        "attestationType".to_owned(),
        json!(g.rng.one(&["none", "packed", ""])),
    );
    p.insert(
        "AAGUID".to_owned(),
        json!(text::base64(&text::bytes(&mut g.rng, 16))),
    );
    p.insert("signCount".to_owned(), json!(g.rng.below(50)));
    agent(g, &mut p);
    emit(
        g,
        t,
        user,
        &token_event(passwordless, "verified"),
        Some(Value::Object(p)),
    );
    g.tenants[t].users[user].tokens[k].verified = true;
    true
}

fn token_removed(g: &mut Gen, t: usize, passwordless: bool) -> bool {
    let Some((user, k)) = pick_token(g, t, passwordless, |_| true) else {
        return false;
    };
    let id = g.tenants[t].users[user].tokens.remove(k).id;
    emit(
        g,
        t,
        user,
        &token_event(passwordless, "removed"),
        Some(json!({ "webAuthNTokenId": id })),
    );
    true
}

fn init_skipped(g: &mut Gen, t: usize) -> bool {
    let legacy = "user.mfa.otp.init.skipped";
    let Some(user) = human(g, t, |_| true, Some(legacy)) else {
        return false;
    };
    let event_type = named(g, t, user, "user.human.mfa.init.skipped", legacy);
    emit(g, t, user, event_type, None);
    true
}
