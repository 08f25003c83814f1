//! A user's state, user name, profile, email, phone, avatar, password and
//! metadata.

use serde_json::{Map, Value, json};

use super::{emit, maybe, named, pick};
use crate::generator::{Action, Gen};
use crate::world::UserState;
use crate::{orgs, sessions, text};

/// The actions of this module.
pub(super) const ACTIONS: &[Action] = &[
    Action::new("user.human.initialization.code.added", 1, init_code)
        .writes(&["user.initialization.code.added"]),
    Action::new(
        "user.human.initialization.check.succeeded",
        4,
        init_succeeded,
    )
    .writes(&["user.initialization.check.succeeded"]),
    Action::new("user.locked", 1, locked),
    Action::new("user.unlocked", 1, unlocked),
    Action::new("user.deactivated", 1, deactivated),
    Action::new("user.reactivated", 1, reactivated),
    Action::new("user.username.changed", 2, username_changed),
    Action::new("user.domain.claimed", 1, domain_claimed),
    Action::new("user.human.profile.changed", 7, profile_changed).writes(&["user.profile.changed"]),
    Action::new("user.human.email.changed", 4, email_changed).writes(&["user.email.changed"]),
    Action::new("user.human.email.verified", 3, email_verified).writes(&["user.email.verified"]),
    Action::new("user.human.phone.changed", 3, phone_changed).writes(&["user.phone.changed"]),
    Action::new("user.human.phone.verified", 2, phone_verified).writes(&["user.phone.verified"]),
    Action::new("user.human.phone.removed", 1, phone_removed).writes(&["user.phone.removed"]),
    Action::new("user.human.avatar.added", 2, avatar_added),
    Action::new("user.human.avatar.removed", 1, avatar_removed),
    Action::new("user.human.password.changed", 4, password_changed),
    Action::new("user.metadata.set", 4, metadata_set),
    Action::new("user.metadata.removed", 2, metadata_removed),
    Action::new("user.metadata.removed.all", 1, metadata_removed_all),
];

/// User metadata keys.
const METADATA_KEYS: &[&str] = &[
    "department",
    "employee.id",
    "favourite 🍕",
    "språk",
    "$$key$$",
    "back\\slash",
    "avatar-url",
];

/// Resend the initialisation code of a user that has not used it yet.
fn init_code(g: &mut Gen, t: usize) -> bool {
    let legacy = "user.initialization.code.added";
    let Some(user) = pick(
        g,
        t,
        |u| u.human() && u.state == UserState::Initial,
        Some(legacy),
    ) else {
        return false;
    };
    let event_type = named(g, t, user, "user.human.initialization.code.added", legacy);
    let mut p = Map::new();
    p.insert("code".to_owned(), text::crypto_value(&mut g.rng));
    p.insert("expiry".to_owned(), json!(259_200_000_000_000_i64));
    maybe(
        g,
        &mut p,
        30,
        "triggeredAtOrigin",
        json!("https://login.example.com"),
    );
    emit(g, t, user, event_type, Some(Value::Object(p)));
    true
}

/// The user enters its initialisation code and sets a password, in one
/// transaction.
fn init_succeeded(g: &mut Gen, t: usize) -> bool {
    let legacy = "user.initialization.check.succeeded";
    let Some(user) = pick(
        g,
        t,
        |u| u.human() && u.state == UserState::Initial,
        Some(legacy),
    ) else {
        return false;
    };
    g.creator(&g.tenants[t].users[user].id.clone());
    let event_type = named(
        g,
        t,
        user,
        "user.human.initialization.check.succeeded",
        legacy,
    );
    emit(g, t, user, event_type, None);
    let payload = password_payload(g);
    emit(g, t, user, "user.human.password.changed", Some(payload));
    g.tenants[t].users[user].state = UserState::Active;
    true
}

fn locked(g: &mut Gen, t: usize) -> bool {
    state(g, t, "user.locked", &[UserState::Active], UserState::Locked)
}

fn unlocked(g: &mut Gen, t: usize) -> bool {
    state(
        g,
        t,
        "user.unlocked",
        &[UserState::Locked],
        UserState::Active,
    )
}

fn deactivated(g: &mut Gen, t: usize) -> bool {
    let from = [UserState::Active, UserState::Locked];
    state(g, t, "user.deactivated", &from, UserState::Inactive)
}

fn reactivated(g: &mut Gen, t: usize) -> bool {
    state(
        g,
        t,
        "user.reactivated",
        &[UserState::Inactive],
        UserState::Active,
    )
}

/// Move a user from one of `from` to `to` with `event_type`.
fn state(g: &mut Gen, t: usize, event_type: &str, from: &[UserState], to: UserState) -> bool {
    let Some(user) = pick(g, t, |u| from.contains(&u.state), None) else {
        return false;
    };
    emit(g, t, user, event_type, None);
    g.tenants[t].users[user].state = to;
    if matches!(to, UserState::Locked | UserState::Inactive) {
        sessions::user_ended(g, t, user, event_type);
    }
    true
}

fn username_changed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = pick(g, t, |_| true, None) else {
        return false;
    };
    let old = g.tenants[t].users[user].username.clone();
    let new = match g.rng.below(3) {
        0 => format!("{old}.renamed"),
        1 => format!("{}{user}", text::given(&mut g.rng).to_lowercase()),
        _ => format!("New.Name{user}@Example.com"),
    };
    let mut p = Map::new();
    p.insert("userName".to_owned(), json!(new));
    maybe(g, &mut p, 70, "oldUserName", json!(old));
    let must = g.rng.coin();
    maybe(g, &mut p, 50, "userLoginMustBeDomain", json!(must));
    emit(g, t, user, "user.username.changed", Some(Value::Object(p)));
    g.tenants[t].users[user].username = new;
    true
}

/// Another org verified the domain of the user's name: the user gets a
/// generated name.
fn domain_claimed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = pick(g, t, |u| u.human(), None) else {
        return false;
    };
    let old = g.tenants[t].users[user].username.clone();
    let new = format!(
        "{}@temporary.{}",
        g.tenants[t].users[user].id,
        g.tenants[t].primary_domain()
    );
    let payload =
        json!({ "userName": new, "oldUserName": old, "userLoginMustBeDomain": g.rng.coin() });
    emit(g, t, user, "user.domain.claimed", Some(payload));
    g.tenants[t].users[user].username = new;
    true
}

fn profile_changed(g: &mut Gen, t: usize) -> bool {
    let legacy = "user.profile.changed";
    let Some(user) = pick(g, t, |u| u.human(), Some(legacy)) else {
        return false;
    };
    let event_type = named(g, t, user, "user.human.profile.changed", legacy);
    let mut p = Map::new();
    let given = text::given(&mut g.rng);
    maybe(g, &mut p, 40, "firstName", json!(given));
    let family = text::family(&mut g.rng);
    maybe(g, &mut p, 40, "lastName", json!(family));
    let nick = if g.rng.chance(25) {
        String::new()
    } else {
        text::given(&mut g.rng)
    };
    maybe(g, &mut p, 25, "nickName", json!(nick));
    let display = if g.rng.chance(10) {
        text::long(&mut g.rng, 2500)
    } else {
        format!("{given} {family}")
    };
    maybe(g, &mut p, 40, "displayName", json!(display));
    let language = g.rng.one(text::LANGUAGES);
    maybe(g, &mut p, 25, "preferredLanguage", json!(language));
    let gender = g.rng.below(4);
    maybe(g, &mut p, 20, "gender", json!(gender));
    if p.is_empty() {
        p.insert("displayName".to_owned(), json!(display));
    }
    emit(g, t, user, event_type, Some(Value::Object(p)));
    true
}

fn email_changed(g: &mut Gen, t: usize) -> bool {
    let legacy = "user.email.changed";
    let Some(user) = pick(g, t, |u| u.human(), Some(legacy)) else {
        return false;
    };
    let event_type = named(g, t, user, "user.human.email.changed", legacy);
    let given = text::given(&mut g.rng);
    let email = super::email(g, &given, user);
    emit(g, t, user, event_type, Some(json!({ "email": email })));
    g.tenants[t].users[user].email_verified = false;
    if g.rng.chance(30) {
        let verified = named(
            g,
            t,
            user,
            "user.human.email.verified",
            "user.email.verified",
        );
        emit(g, t, user, verified, None);
        g.tenants[t].users[user].email_verified = true;
    } else if g.rng.chance(50) {
        let code =
            json!({ "code": text::crypto_value(&mut g.rng), "expiry": 3_600_000_000_000_i64 });
        emit(g, t, user, "user.human.email.code.added", Some(code));
    }
    true
}

fn email_verified(g: &mut Gen, t: usize) -> bool {
    let legacy = "user.email.verified";
    let Some(user) = pick(g, t, |u| u.human() && !u.email_verified, Some(legacy)) else {
        return false;
    };
    let event_type = named(g, t, user, "user.human.email.verified", legacy);
    emit(g, t, user, event_type, None);
    g.tenants[t].users[user].email_verified = true;
    true
}

fn phone_changed(g: &mut Gen, t: usize) -> bool {
    let legacy = "user.phone.changed";
    let Some(user) = pick(g, t, |u| u.human(), Some(legacy)) else {
        return false;
    };
    let event_type = named(g, t, user, "user.human.phone.changed", legacy);
    let phone = super::phone(g);
    emit(g, t, user, event_type, Some(json!({ "phone": phone })));
    let record = &mut g.tenants[t].users[user];
    record.phone = Some(phone);
    record.phone_verified = false;
    true
}

fn phone_verified(g: &mut Gen, t: usize) -> bool {
    let legacy = "user.phone.verified";
    let keep = |u: &crate::world::User| u.human() && u.phone.is_some() && !u.phone_verified;
    let Some(user) = pick(g, t, keep, Some(legacy)) else {
        return false;
    };
    let event_type = named(g, t, user, "user.human.phone.verified", legacy);
    emit(g, t, user, event_type, None);
    g.tenants[t].users[user].phone_verified = true;
    true
}

/// Remove the phone (which also ends OTP via SMS).
fn phone_removed(g: &mut Gen, t: usize) -> bool {
    let legacy = "user.phone.removed";
    let Some(user) = pick(g, t, |u| u.human() && u.phone.is_some(), Some(legacy)) else {
        return false;
    };
    let event_type = named(g, t, user, "user.human.phone.removed", legacy);
    emit(g, t, user, event_type, None);
    let record = &mut g.tenants[t].users[user];
    record.phone = None;
    record.phone_verified = false;
    record.otp_sms = false;
    true
}

fn avatar_added(g: &mut Gen, t: usize) -> bool {
    let Some(user) = pick(g, t, |u| u.human(), None) else {
        return false;
    };
    let key = format!(
        "{}/{}/avatar-{}",
        g.tenants[t].id,
        g.tenants[t].users[user].id,
        text::hex(&mut g.rng, 8)
    );
    emit(
        g,
        t,
        user,
        "user.human.avatar.added",
        Some(json!({ "storeKey": key })),
    );
    g.tenants[t].users[user].avatar = true;
    true
}

fn avatar_removed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = pick(g, t, |u| u.human() && u.avatar, None) else {
        return false;
    };
    let key = format!("{}/{}/avatar", g.tenants[t].id, g.tenants[t].users[user].id);
    emit(
        g,
        t,
        user,
        "user.human.avatar.removed",
        Some(json!({ "storeKey": key })),
    );
    g.tenants[t].users[user].avatar = false;
    true
}

/// The payload of a password change: a hash (or, as older events carry,
/// an encrypted secret) and the optional fields.
fn password_payload(g: &mut Gen) -> Value {
    let mut p = Map::new();
    if g.rng.chance(85) {
        p.insert(
            "encodedHash".to_owned(),
            json!(text::password_hash(&mut g.rng)),
        );
    } else {
        p.insert("secret".to_owned(), text::crypto_value(&mut g.rng));
    }
    let required = g.rng.coin();
    maybe(g, &mut p, 60, "changeRequired", json!(required));
    let agent = text::hex(&mut g.rng, 16);
    maybe(g, &mut p, 40, "userAgentID", json!(agent));
    maybe(
        g,
        &mut p,
        20,
        "triggeredAtOrigin",
        json!("https://console.example.com"),
    );
    Value::Object(p)
}

fn password_changed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = pick(g, t, |u| u.human() && u.state == UserState::Active, None) else {
        return false;
    };
    let payload = password_payload(g);
    emit(g, t, user, "user.human.password.changed", Some(payload));
    sessions::password_changed(g, t, user);
    true
}

fn metadata_set(g: &mut Gen, t: usize) -> bool {
    let Some(user) = pick(g, t, |_| true, None) else {
        return false;
    };
    let key = g.rng.one(METADATA_KEYS).to_owned();
    let value = orgs::metadata_value(g);
    emit(
        g,
        t,
        user,
        "user.metadata.set",
        Some(json!({ "key": key, "value": value })),
    );
    let keys = &mut g.tenants[t].users[user].metadata;
    if !keys.contains(&key) {
        keys.push(key);
    }
    true
}

fn metadata_removed(g: &mut Gen, t: usize) -> bool {
    let Some(user) = pick(g, t, |u| !u.metadata.is_empty(), None) else {
        return false;
    };
    let n = g.tenants[t].users[user].metadata.len();
    let key = g.tenants[t].users[user].metadata.remove(g.rng.below(n));
    emit(
        g,
        t,
        user,
        "user.metadata.removed",
        Some(json!({ "key": key })),
    );
    true
}

fn metadata_removed_all(g: &mut Gen, t: usize) -> bool {
    let Some(user) = pick(g, t, |u| !u.metadata.is_empty(), None) else {
        return false;
    };
    g.tenants[t].users[user].metadata.clear();
    emit(g, t, user, "user.metadata.removed.all", None);
    true
}
