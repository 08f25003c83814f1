//! The checks of a session, in the order a login makes them: the user, a
//! first factor (password, an identity provider's intent or a passwordless
//! key), then second factors (U2F key, TOTP, OTP via SMS or email, a
//! recovery code). Each check is written with the time it was made and
//! followed by a new token. A factor is checked only for a user who has it
//! set up; a second factor of a session without a first factor comes with
//! a password check before it.

use serde_json::{Map, Value, json};

use super::{
    can_log_in, checked_at, create, emit, login_client, login_user, token, usable_sessions,
};
use crate::generator::{Action, Gen};
use crate::text;
use crate::world::User;

/// The check actions.
pub(super) const ACTIONS: &[Action] = &[
    Action::new("session.user.checked", 1, user_checked),
    Action::new("session.password.checked", 2, |g, t| {
        check(g, t, Factor::Password)
    }),
    Action::new("session.intent.checked", 1, |g, t| {
        check(g, t, Factor::Intent)
    }),
    Action::new("session.webAuthN.checked", 1, |g, t| {
        check(g, t, Factor::WebAuthn)
    }),
    Action::new("session.totp.checked", 1, |g, t| check(g, t, Factor::Totp)),
    Action::new("session.otp.sms.checked", 1, |g, t| {
        check(g, t, Factor::OtpSms)
    }),
    Action::new("session.otp.email.checked", 1, |g, t| {
        check(g, t, Factor::OtpEmail)
    }),
    Action::new("session.recoveryCode.checked", 1, |g, t| {
        check(g, t, Factor::Recovery)
    }),
];

/// A factor a session checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Factor {
    /// The password.
    Password,
    /// An identity provider's intent.
    Intent,
    /// A WebAuthn key (passwordless or U2F).
    WebAuthn,
    /// TOTP.
    Totp,
    /// OTP via SMS.
    OtpSms,
    /// OTP via email.
    OtpEmail,
    /// A recovery code.
    Recovery,
}

impl Factor {
    /// The event type of its check.
    fn event(self) -> &'static str {
        match self {
            Factor::Password => "session.password.checked",
            Factor::Intent => "session.intent.checked",
            Factor::WebAuthn => "session.webAuthN.checked",
            Factor::Totp => "session.totp.checked",
            Factor::OtpSms => "session.otp.sms.checked",
            Factor::OtpEmail => "session.otp.email.checked",
            Factor::Recovery => "session.recoveryCode.checked",
        }
    }

    /// Whether `user` has it set up.
    fn set_up(self, user: &User) -> bool {
        match self {
            Factor::Password | Factor::Intent => true,
            Factor::WebAuthn => user.tokens.iter().any(|k| k.verified),
            Factor::Totp => user.otp == Some(true),
            Factor::OtpSms => user.otp_sms,
            Factor::OtpEmail => user.otp_email,
            Factor::Recovery => user.recovery,
        }
    }

    /// Whether it is a first factor (a WebAuthn key is one when it is
    /// passwordless).
    fn first(self) -> bool {
        matches!(self, Factor::Password | Factor::Intent)
    }
}

/// Check `user` on session `s`.
pub(super) fn user(g: &mut Gen, t: usize, s: usize, user: usize) {
    let tenant = &g.tenants[t];
    let user_id = tenant.users[user].id.clone();
    let owner = tenant.orgs[tenant.users[user].org].id.clone();
    let mut p = Map::new();
    p.insert("userID".to_owned(), json!(user_id));
    p.insert("userResourceOwner".to_owned(), json!(owner));
    p.insert("checkedAt".to_owned(), json!(checked_at(g)));
    if g.rng.chance(40) {
        p.insert(
            "preferredLanguage".to_owned(),
            json!(g.rng.one(text::LANGUAGES)),
        );
    }
    emit(g, t, s, "session.user.checked", Some(Value::Object(p)));
    g.tenants[t].sessions[s].user = Some(user);
}

/// Write the check of `factor` on session `s` (whose user has it).
fn write(g: &mut Gen, t: usize, s: usize, factor: Factor) {
    let mut p = Map::new();
    p.insert("checkedAt".to_owned(), json!(checked_at(g)));
    let mut first = factor.first();
    if factor == Factor::WebAuthn {
        let user = g.tenants[t].sessions[s].user;
        let passwordless = user.is_some_and(|u| {
            g.tenants[t].users[u]
                .tokens
                .iter()
                .any(|k| k.verified && k.passwordless)
        });
        first = passwordless && !g.tenants[t].sessions[s].first_factor;
        let verified = first || g.rng.chance(20);
        p.insert("userVerified".to_owned(), json!(verified));
    }
    emit(g, t, s, factor.event(), Some(Value::Object(p)));
    let session = &mut g.tenants[t].sessions[s];
    session.first_factor |= first;
    session.password |= factor == Factor::Password;
}

/// Check a first factor on session `s`: mostly the password, else an
/// intent or a passwordless key.
pub(super) fn first_factor(g: &mut Gen, t: usize, s: usize) {
    let passwordless = g.tenants[t].sessions[s].user.is_some_and(|u| {
        g.tenants[t].users[u]
            .tokens
            .iter()
            .any(|k| k.verified && k.passwordless)
    });
    let factor = match g.rng.below(20) {
        0..=2 => Factor::Intent,
        3..=5 if passwordless => Factor::WebAuthn,
        _ => Factor::Password,
    };
    write(g, t, s, factor);
}

/// Check the user of a session created without one, now and then with a
/// first factor, and set a new token.
fn user_checked(g: &mut Gen, t: usize) -> bool {
    let sessions = usable_sessions(g, t, |s| s.user.is_none());
    let Some(&s) = g.rng.pick(&sessions) else {
        return false;
    };
    let Some(u) = login_user(g, t) else {
        return false;
    };
    g.creator(&login_client(g, t));
    user(g, t, s, u);
    if g.rng.chance(60) {
        first_factor(g, t, s);
    }
    token(g, t, s);
    true
}

/// Check `factor` for a user who has it set up: on one of the user's
/// sessions, else on a new one created for the check; a second factor of
/// a session without a first factor comes after a password check.
fn check(g: &mut Gen, t: usize, factor: Factor) -> bool {
    let tenant = &g.tenants[t];
    let users: Vec<usize> = (0..tenant.users.len())
        .filter(|u| can_log_in(g, t, *u) && factor.set_up(&tenant.users[*u]))
        .collect();
    let sessions = usable_sessions(g, t, |s| s.user.is_some_and(|u| users.contains(&u)));
    let s = match g.rng.pick(&sessions) {
        Some(&s) if g.rng.chance(75) => {
            g.creator(&login_client(g, t));
            s
        }
        _ => {
            let Some(&u) = g.rng.pick(&users) else {
                return false;
            };
            create(g, t, Some(u))
        }
    };
    if !factor.first() && !g.tenants[t].sessions[s].first_factor {
        write(g, t, s, Factor::Password);
    }
    write(g, t, s, factor);
    token(g, t, s);
    true
}
