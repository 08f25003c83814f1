//! Events of the sessions family: sessions (the `session` aggregate, the
//! busiest of a live system: many per user, each check of each login) and
//! auth requests (`auth_request`), both owned by the instance.
//!
//! | module | events |
//! |---|---|
//! | `sessions.rs` | sessions created (with a user agent, checks, token, lifetime, metadata), metadata and lifetime set, terminated |
//! | `sessions/checks.rs` | the user and factor checks, each followed by a new token |
//! | `sessions/auth_requests.rs` | auth requests added, then succeeded or failed |
//!
//! A session's user is a live human who is not locked or deactivated,
//! checked before its factors; a factor is checked only for a user who has
//! it set up. Logins favour users who logged in before, so some users have
//! many sessions. The user events that end a session's row
//! (`user.locked`, `user.deactivated`, `user.removed`) come from the users
//! module, which tells this one ([`user_ended`]); after them the session
//! gets no further checks, but may still be terminated. A password change
//! ([`password_changed`]) voids the password checks of the user's sessions.
//! The module takes a fixed share of the generator's steps ([`PER_MILLE`]).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::generator::{Action, Gen};
use crate::world::{Kind, UserState};
use crate::{clock, text};

mod auth_requests;
mod checks;

/// Per mille of the generator's steps that pick an action of this module.
pub(crate) const PER_MILLE: usize = 50;

/// The actions creating and changing sessions.
const ACTIONS: &[Action] = &[
    Action::new("session.added", 8, added).writes(&["session.token.set"]),
    Action::new("session.metadata.set", 1, metadata_set)
        .writes(&[METADATA_CHANGED, METADATA_EMPTIED]),
    Action::new("session.lifetime.set", 1, lifetime_set),
];

/// The action ending sessions, listed after everything else a session goes
/// through.
const REMOVAL: &[Action] =
    &[Action::new("session.terminated", 3, terminated).writes(&[AFTER_USER])];

/// The situations of metadata changed (a key's value replaced or a key
/// deleted) and of metadata emptied.
const METADATA_CHANGED: &str = "session.metadata.set/changed";
const METADATA_EMPTIED: &str = "session.metadata.set/emptied";

/// The situation of a session terminated after its user's events ended its
/// row.
const AFTER_USER: &str = "session.terminated/after its user";

/// Every action of the family's aggregates.
pub(crate) fn actions() -> impl Iterator<Item = &'static Action> {
    ACTIONS
        .iter()
        .chain(checks::ACTIONS)
        .chain(auth_requests::ACTIONS)
        .chain(REMOVAL)
}

/// A session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Id (the aggregate id).
    id: String,
    /// The checked user.
    user: Option<usize>,
    /// A first factor (password, intent, passwordless key) was checked.
    first_factor: bool,
    /// The password was checked.
    password: bool,
    /// Metadata: key and base64 value.
    metadata: BTreeMap<String, String>,
    /// Terminated.
    terminated: bool,
    /// Its user was locked, deactivated or removed, which ended its row.
    ended: bool,
}

/// An auth request.
#[derive(Debug, Clone)]
pub(crate) struct AuthRequest {
    /// Id (the aggregate id).
    id: String,
    /// Still pending (neither succeeded nor failed).
    pending: bool,
}

/// Session metadata keys.
const METADATA_KEYS: &[&str] = &[
    "device",
    "risk.score",
    "tenant-hint",
    "sprache",
    "ログイン元",
    "$$flags$$",
    "client \"legacy\"",
];

/// Emit an event of session `s` (owned by the instance).
fn emit(g: &mut Gen, t: usize, s: usize, event_type: &str, payload: Option<Value>) {
    let id = g.tenants[t].sessions[s].id.clone();
    let owner = g.tenants[t].id.clone();
    g.emit(t, ("session", &id), event_type, &owner, payload);
}

/// The login client of tenant `t`: the service user the login UI calls the
/// session API with (the first live machine user, else the first admin).
fn login_client(g: &Gen, t: usize) -> String {
    let tenant = &g.tenants[t];
    tenant
        .live_users(|u| u.kind == Kind::Machine)
        .first()
        .map_or_else(|| tenant.creator(), |u| tenant.users[*u].id.clone())
}

/// Whether user `user` may log in: a live human, active or still to be
/// initialised (not locked, not deactivated).
fn can_log_in(g: &Gen, t: usize, user: usize) -> bool {
    let tenant = &g.tenants[t];
    tenant.user_live(user)
        && tenant.users[user].human()
        && matches!(
            tenant.users[user].state,
            UserState::Active | UserState::Initial
        )
}

/// Whether session `s` may get further checks and attributes: its row
/// exists and its user (if checked) may log in.
fn usable(g: &Gen, t: usize, s: usize) -> bool {
    let session = &g.tenants[t].sessions[s];
    !session.terminated && !session.ended && session.user.is_none_or(|u| can_log_in(g, t, u))
}

/// The usable sessions that pass `keep`.
fn usable_sessions(g: &Gen, t: usize, keep: impl Fn(&Session) -> bool) -> Vec<usize> {
    (0..g.tenants[t].sessions.len())
        .filter(|s| usable(g, t, *s) && keep(&g.tenants[t].sessions[*s]))
        .collect()
}

/// A check time: a few milliseconds before the transaction, as Go writes a
/// `time.Time` (nanoseconds, now and then in a local zone).
fn checked_at(g: &mut Gen) -> String {
    let micros = g.now() - i64::try_from(g.rng.range(200, 40_000)).unwrap_or(0);
    let nanos = u32::try_from(g.rng.below(1_000)).unwrap_or(0);
    let offset = if g.rng.chance(15) {
        g.rng.one(&[60, 120, -300, 330])
    } else {
        0
    };
    clock::go_time_at(micros, nanos, offset)
}

/// A user agent of `session.added`: fingerprint, IP (v4, v6, v4-mapped,
/// empty or absent), description and header, some of them absent.
fn user_agent(g: &mut Gen) -> Value {
    let mut agent = Map::new();
    agent.insert("fingerprint_id".to_owned(), json!(g.id()));
    let ip = match g.rng.below(8) {
        0 => Some(format!(
            "2001:db8:{:x}::{:x}",
            g.rng.below(65_536),
            g.rng.below(65_536)
        )),
        1 => Some(format!("::ffff:192.0.2.{}", g.rng.range(1, 254))),
        2 => Some(String::new()),
        3 => None,
        _ => Some(format!(
            "{}.{}.{}.{}",
            g.rng.range(1, 223),
            g.rng.below(256),
            g.rng.below(256),
            g.rng.range(1, 254)
        )),
    };
    if let Some(ip) = ip {
        agent.insert("ip".to_owned(), json!(ip));
    }
    let (description, header) = match g.rng.below(4) {
        0 => (
            "Chrome, Windows",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/132.0.0.0 Safari/537.36",
        ),
        1 => (
            "Safari, iOS",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1",
        ),
        2 => (
            "Firefox, Linux",
            "Mozilla/5.0 (X11; Linux x86_64; rv:134.0) Gecko/20100101 Firefox/134.0",
        ),
        _ => ("", "okhttp/4.12.0"),
    };
    if !description.is_empty() || g.rng.coin() {
        agent.insert("description".to_owned(), json!(description));
    }
    if g.rng.chance(80) {
        let mut names = Map::new();
        names.insert("User-Agent".to_owned(), json!([header]));
        if g.rng.coin() {
            let languages = g
                .rng
                .one(&["de-CH,de;q=0.9,en;q=0.8", "ja-JP", "he-IL,he;q=0.9"]);
            names.insert("Accept-Language".to_owned(), json!([languages]));
        }
        if g.rng.chance(30) {
            names.insert(
                "X-Forwarded-For".to_owned(),
                json!(["10.0.0.1", "172.16.4.2"]),
            );
        }
        agent.insert("header".to_owned(), Value::Object(names));
    }
    Value::Object(agent)
}

/// A user to log in: mostly one who logged in before, the more sessions it
/// has the likelier (users have many sessions, some very many), else any
/// who may log in.
fn login_user(g: &mut Gen, t: usize) -> Option<usize> {
    let users: Vec<usize> = (0..g.tenants[t].users.len())
        .filter(|u| can_log_in(g, t, *u))
        .collect();
    let sessions: Vec<usize> = users
        .iter()
        .map(|u| {
            let of_user = |s: &&Session| s.user == Some(*u);
            g.tenants[t].sessions.iter().filter(of_user).count()
        })
        .collect();
    if sessions.iter().any(|n| *n > 0) && g.rng.chance(70) {
        return g.rng.weighted(&sessions).map(|i| users[i]);
    }
    g.rng.pick(&users).copied()
}

/// Create a session in the open transaction (its user checked when `user`
/// is given); returns its index.
fn create(g: &mut Gen, t: usize, user: Option<usize>) -> usize {
    let client = login_client(g, t);
    g.creator(&client);
    let id = g.id();
    let s = g.tenants[t].sessions.len();
    g.tenants[t].sessions.push(Session {
        id,
        user: None,
        first_factor: false,
        password: false,
        metadata: BTreeMap::new(),
        terminated: false,
        ended: false,
    });
    let mut p = Map::new();
    if g.rng.chance(80) {
        p.insert("user_agent".to_owned(), user_agent(g));
    }
    if g.rng.chance(30) {
        p.insert("domain".to_owned(), json!(g.tenants[t].primary_domain()));
    }
    emit(g, t, s, "session.added", Some(Value::Object(p)));
    if let Some(user) = user {
        checks::user(g, t, s, user);
    }
    s
}

/// A new token of session `s`, as every change of a session writes.
fn token(g: &mut Gen, t: usize, s: usize) {
    let token = g.id();
    emit(
        g,
        t,
        s,
        "session.token.set",
        Some(json!({ "tokenID": token })),
    );
}

/// A new session, as the login creates one: mostly with its user and a
/// first factor checked, now and then with a lifetime and metadata; always
/// with its token.
fn added(g: &mut Gen, t: usize) -> bool {
    let user = if g.rng.chance(80) {
        login_user(g, t)
    } else {
        None
    };
    let s = create(g, t, user);
    if user.is_some() && g.rng.chance(75) {
        checks::first_factor(g, t, s);
    }
    if g.rng.chance(25) {
        lifetime(g, t, s);
    }
    if g.rng.chance(15) {
        metadata(g, t, s);
    }
    token(g, t, s);
    true
}

/// A metadata value: base64 of some bytes or text, never empty (an empty
/// value deletes the key).
fn metadata_value(g: &mut Gen) -> String {
    let bytes = match g.rng.below(4) {
        0 => text::bytes(&mut g.rng, 16),
        1 => {
            let n = g.rng.range(300, 1500);
            text::long(&mut g.rng, n).into_bytes()
        }
        _ => {
            let n = g.rng.range(1, 4);
            text::words(&mut g.rng, n).into_bytes()
        }
    };
    text::base64(&bytes)
}

/// Change session `s`'s metadata (add or replace keys, delete some; now
/// and then delete all, always while that was never written) and write the
/// whole map.
fn metadata(g: &mut Gen, t: usize, s: usize) {
    let mut changed = false;
    let mut map = g.tenants[t].sessions[s].metadata.clone();
    let emptied = !map.is_empty() && (g.fresh(METADATA_EMPTIED) || g.rng.chance(10));
    if emptied {
        map.clear();
        g.mark(METADATA_EMPTIED);
    } else {
        if let Some(key) = map
            .keys()
            .next()
            .cloned()
            .filter(|_| g.fresh(METADATA_CHANGED))
        {
            map.insert(key, metadata_value(g));
            changed = true;
        }
        for _ in 0..g.rng.range(1, 3) {
            let key = g.rng.one(METADATA_KEYS).to_owned();
            if map.contains_key(&key) && g.rng.chance(30) {
                map.remove(&key);
                changed = true;
            } else {
                let value = metadata_value(g);
                changed |= map.insert(key, value).is_some();
            }
        }
    }
    if changed {
        g.mark(METADATA_CHANGED);
    }
    let payload = json!({ "metadata": map });
    emit(g, t, s, "session.metadata.set", Some(payload));
    g.tenants[t].sessions[s].metadata = map;
}

/// Set session `s`'s lifetime (a Go duration in nanoseconds).
fn lifetime(g: &mut Gen, t: usize, s: usize) {
    let minutes: i64 = g.rng.one(&[5, 60, 12 * 60, 24 * 60, 30 * 24 * 60]);
    let lifetime = minutes * 60 * 1_000_000_000;
    emit(
        g,
        t,
        s,
        "session.lifetime.set",
        Some(json!({ "lifetime": lifetime })),
    );
}

/// A usable session; with metadata when `with_metadata` and there is one
/// (only then in strict mode).
fn pick_usable(g: &mut Gen, t: usize, with_metadata: bool) -> Option<usize> {
    let all = usable_sessions(g, t, |_| true);
    let with: Vec<usize> = all
        .iter()
        .copied()
        .filter(|s| !g.tenants[t].sessions[*s].metadata.is_empty())
        .collect();
    let from = if with_metadata && (!with.is_empty() || g.strict) {
        with
    } else {
        all
    };
    g.rng.pick(&from).copied()
}

/// Set metadata of a session, with a new token; while a change or the
/// emptying of metadata was never written, of a session that has some.
fn metadata_set(g: &mut Gen, t: usize) -> bool {
    let fresh = g.fresh(METADATA_CHANGED) || g.fresh(METADATA_EMPTIED);
    let with_metadata = fresh && !g.fresh("session.metadata.set");
    let Some(s) = pick_usable(g, t, with_metadata) else {
        return false;
    };
    g.creator(&login_client(g, t));
    metadata(g, t, s);
    token(g, t, s);
    true
}

/// Set the lifetime of a session, with a new token.
fn lifetime_set(g: &mut Gen, t: usize) -> bool {
    let Some(s) = pick_usable(g, t, false) else {
        return false;
    };
    g.creator(&login_client(g, t));
    lifetime(g, t, s);
    token(g, t, s);
    true
}

/// Terminate a session (log out): mostly a usable one, now and then one
/// whose row its user's events ended (while that was never written, such
/// one if there is one).
fn terminated(g: &mut Gen, t: usize) -> bool {
    let sessions = &g.tenants[t].sessions;
    let after_user: Vec<usize> = (0..sessions.len())
        .filter(|s| !sessions[*s].terminated && sessions[*s].ended)
        .collect();
    let usable = usable_sessions(g, t, |_| true);
    let from = if !after_user.is_empty() && (g.fresh(AFTER_USER) || g.rng.chance(15)) {
        after_user
    } else if g.strict && !g.fresh("session.terminated") {
        return false;
    } else {
        usable
    };
    let Some(&s) = g.rng.pick(&from) else {
        return false;
    };
    let payload = if g.rng.coin() {
        let origin = format!("https://{}", g.tenants[t].primary_domain());
        Some(json!({ "triggerOrigin": origin }))
    } else {
        None
    };
    g.creator(&login_client(g, t));
    emit(g, t, s, "session.terminated", payload);
    if g.tenants[t].sessions[s].ended {
        g.mark(AFTER_USER);
    }
    g.tenants[t].sessions[s].terminated = true;
    true
}

/// `event_type` (`user.locked`, `user.deactivated` or `user.removed`) of
/// `user` was written: the rows of the user's sessions are gone. Notes
/// the situation `<event_type>/with sessions` when it had some.
pub(crate) fn user_ended(g: &mut Gen, t: usize, user: usize, event_type: &str) {
    let mut had = false;
    for session in &mut g.tenants[t].sessions {
        if session.user == Some(user) && !session.terminated && !session.ended {
            session.ended = true;
            had = true;
        }
    }
    if had {
        g.mark(&format!("{event_type}/with sessions"));
    }
}

/// `user.human.password.changed` of `user` was written: the password
/// checks of the user's sessions are void. Notes the situation of a change
/// that clears some.
pub(crate) fn password_changed(g: &mut Gen, t: usize, user: usize) {
    let mut had = false;
    for session in &mut g.tenants[t].sessions {
        if session.user == Some(user) && !session.terminated && !session.ended && session.password {
            session.password = false;
            had = true;
        }
    }
    if had {
        g.mark("user.human.password.changed/with sessions");
    }
}
