//! Events of the `user` aggregate, read by the users family (and
//! `user.removed` by all four): humans and machines, their creation with the
//! optional fields real data varies, and their removal with the cascading
//! membership and grant removals.
//!
//! | module | events |
//! |---|---|
//! | `users.rs` | creation (current and legacy names), removal |
//! | `users/profile.rs` | state, user name, profile, email, phone, avatar, password, metadata |
//! | `users/factors.rs` | OTP, SMS and email OTP, recovery codes, U2F and passwordless keys, skipped MFA |
//! | `users/machine.rs` | machine changes, secrets, keys, personal access tokens |

use serde_json::{Map, Value, json};

use crate::generator::{Action, Gen};
use crate::world::{Kind, User, UserState};
use crate::{instances, orgs, project_members, sessions, text, user_grants};

mod factors;
mod machine;
mod profile;

/// How a human is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Creation {
    /// `user.human.added`.
    Added,
    /// `user.human.selfregistered`.
    SelfRegistered,
    /// The legacy `user.added`.
    Legacy,
    /// The legacy `user.selfregistered`.
    LegacySelfRegistered,
}

/// The user actions.
pub(crate) const ACTIONS: &[Action] = &[
    Action::new("user.human.added", 14, |g, t| added(g, t, Creation::Added)),
    Action::new("user.human.selfregistered", 4, |g, t| {
        added(g, t, Creation::SelfRegistered)
    }),
    Action::new("user.added", 2, |g, t| added(g, t, Creation::Legacy)),
    Action::new("user.selfregistered", 1, |g, t| {
        added(g, t, Creation::LegacySelfRegistered)
    }),
    Action::new("user.machine.added", 5, machine_added),
    Action::new("user.removed", 3, removed).writes(&CASCADES),
];

/// The cascade events of a user's removal.
const CASCADES: [&str; 5] = [
    "instance.member.cascade.removed",
    "org.member.cascade.removed",
    "project.member.cascade.removed",
    "project.grant.member.cascade.removed",
    "user.grant.cascade.removed",
];

/// Every action of the `user` aggregate.
pub(crate) fn actions() -> impl Iterator<Item = &'static Action> {
    ACTIONS
        .iter()
        .chain(profile::ACTIONS)
        .chain(factors::ACTIONS)
        .chain(machine::ACTIONS)
}

/// Emit an event of user `user`.
pub(crate) fn emit(g: &mut Gen, t: usize, user: usize, event_type: &str, payload: Option<Value>) {
    let id = g.tenants[t].users[user].id.clone();
    let owner = g.tenants[t].orgs[g.tenants[t].users[user].org].id.clone();
    g.emit(t, ("user", &id), event_type, &owner, payload);
}

/// A live user that passes `keep`, chosen at random; when `legacy_name`
/// was never written, a user created with the legacy names is preferred.
pub(crate) fn pick(
    g: &mut Gen,
    t: usize,
    keep: impl Fn(&User) -> bool,
    legacy_name: Option<&str>,
) -> Option<usize> {
    let candidates = g.tenants[t].live_users(&keep);
    let legacy: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|u| g.tenants[t].users[*u].legacy())
        .collect();
    if legacy_name.is_some_and(|name| g.fresh(name)) {
        if !legacy.is_empty() {
            return g.rng.pick(&legacy).copied();
        }
        if g.strict {
            return None;
        }
    }
    g.rng.pick(&candidates).copied()
}

/// The event name for `user`: the legacy name for most events of users
/// created with the legacy names, else the current one.
pub(crate) fn named(
    g: &mut Gen,
    t: usize,
    user: usize,
    current: &'static str,
    legacy: &'static str,
) -> &'static str {
    if g.tenants[t].users[user].legacy() && (g.fresh(legacy) || g.rng.chance(60)) {
        legacy
    } else {
        current
    }
}

/// Insert `key` into `map` with probability `percent`.
pub(crate) fn maybe(
    g: &mut Gen,
    map: &mut Map<String, Value>,
    percent: usize,
    key: &str,
    value: Value,
) {
    if g.rng.chance(percent) {
        map.insert(key.to_owned(), value);
    }
}

/// A user name: mail-like, dotted or plain, in several scripts and cases.
fn username(g: &mut Gen, t: usize, org: usize, given: &str, family: &str) -> String {
    let n = g.tenants[t].users.len();
    let domain = g.tenants[t].orgs[org]
        .domains
        .iter()
        .find(|d| d.primary)
        .map_or_else(|| "example.com".to_owned(), |d| d.name.clone());
    match g.rng.below(5) {
        0 => format!("{}.{}{n}", given.to_lowercase(), family.to_lowercase()),
        1 => format!("{given}{n}@{domain}"),
        2 => format!("user{n}"),
        3 => format!("{}{n}", given.to_uppercase()),
        _ => format!("{}_{n}@Example.COM", family.replace(' ', "")),
    }
}

/// A phone number in one of the formats users type.
pub(crate) fn phone(g: &mut Gen) -> String {
    match g.rng.below(3) {
        0 => format!(
            "+41 79 {:03} {:02} {:02}",
            g.rng.below(1000),
            g.rng.below(100),
            g.rng.below(100)
        ),
        1 => format!("+1{:010}", g.rng.below(10_000_000_000)),
        _ => format!("+49-151-{:08}", g.rng.below(100_000_000)),
    }
}

/// An email address.
pub(crate) fn email(g: &mut Gen, given: &str, n: usize) -> String {
    let local: String = given
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>();
    let local = if local.is_empty() {
        "user".to_owned()
    } else {
        local
    };
    match g.rng.below(3) {
        0 => format!("{local}.{n}@example.com"),
        1 => format!("{}+{n}@Mail.Example.ORG", local.to_uppercase()),
        _ => format!("{local}{n}@xn--mnchen-3ya.de"),
    }
}

/// Add a human of `org` (with the events Zitadel pushes with it: verified
/// email or phone, an initialisation code when no password was given);
/// returns its index.
pub(crate) fn add_human(g: &mut Gen, t: usize, org: usize, creation: Creation) -> usize {
    let id = g.id();
    let self_registered = matches!(
        creation,
        Creation::SelfRegistered | Creation::LegacySelfRegistered
    );
    let legacy = matches!(creation, Creation::Legacy | Creation::LegacySelfRegistered);
    if self_registered {
        g.creator(&id);
    }
    let given = text::given(&mut g.rng);
    let family = text::family(&mut g.rng);
    let username = username(g, t, org, &given, &family);
    let n = g.tenants[t].users.len();
    let mut p = Map::new();
    p.insert("userName".to_owned(), json!(username));
    p.insert("firstName".to_owned(), json!(given));
    p.insert("lastName".to_owned(), json!(family));
    let nick = if g.rng.chance(20) {
        String::new()
    } else {
        text::given(&mut g.rng)
    };
    maybe(g, &mut p, 35, "nickName", json!(nick));
    let display = if g.rng.chance(5) {
        text::long(&mut g.rng, 3000)
    } else {
        format!("{given} {family}")
    };
    maybe(g, &mut p, 60, "displayName", json!(display));
    let language = g.rng.one(text::LANGUAGES);
    maybe(g, &mut p, 70, "preferredLanguage", json!(language));
    let gender = g.rng.below(4);
    maybe(g, &mut p, 50, "gender", json!(gender));
    p.insert("email".to_owned(), json!(email(g, &given, n)));
    let phone = if g.rng.chance(30) {
        Some(if g.rng.chance(10) {
            String::new()
        } else {
            phone(g)
        })
    } else {
        None
    };
    if let Some(phone) = &phone {
        p.insert("phone".to_owned(), json!(phone));
    }
    let change_required = g.rng.coin();
    maybe(g, &mut p, 50, "changeRequired", json!(change_required));
    let password = match g.rng.below(20) {
        _ if self_registered => {
            p.insert(
                "encodedHash".to_owned(),
                json!(text::password_hash(&mut g.rng)),
            );
            true
        }
        0..=8 => {
            p.insert(
                "encodedHash".to_owned(),
                json!(text::password_hash(&mut g.rng)),
            );
            true
        }
        9..=10 => {
            p.insert("secret".to_owned(), text::crypto_value(&mut g.rng));
            true
        }
        _ => false,
    };
    if self_registered {
        p.insert("userAgentID".to_owned(), json!(text::hex(&mut g.rng, 16)));
    }
    if g.rng.chance(10) {
        p.insert(
            "country".to_owned(),
            json!(g.rng.one(&["CH", "DE", "JP", "IL", ""])),
        );
        p.insert(
            "locality".to_owned(),
            json!(g.rng.one(&["Zürich", "東京", "תל אביב"])),
        );
        p.insert(
            "postalCode".to_owned(),
            json!(format!("{:04}", g.rng.below(10_000))),
        );
        p.insert("region".to_owned(), json!(""));
        p.insert(
            "streetAddress".to_owned(),
            json!("Bahnhofstrasse 1\nc/o \"Müller\""),
        );
    }
    let kind = if legacy {
        Kind::LegacyHuman
    } else {
        Kind::Human
    };
    let user = g.tenants[t].users.len();
    let mut record = User::new(id, org, kind, username);
    record.phone = phone.filter(|p| !p.is_empty());
    g.tenants[t].users.push(record);
    let event_type = match creation {
        Creation::Added => "user.human.added",
        Creation::SelfRegistered => "user.human.selfregistered",
        Creation::Legacy => "user.added",
        Creation::LegacySelfRegistered => "user.selfregistered",
    };
    emit(g, t, user, event_type, Some(Value::Object(p)));
    if g.rng.chance(40) {
        let verified = if legacy {
            "user.email.verified"
        } else {
            "user.human.email.verified"
        };
        emit(g, t, user, verified, None);
        g.tenants[t].users[user].email_verified = true;
    }
    if g.tenants[t].users[user].phone.is_some() && g.rng.chance(30) {
        let verified = if legacy {
            "user.phone.verified"
        } else {
            "user.human.phone.verified"
        };
        emit(g, t, user, verified, None);
        g.tenants[t].users[user].phone_verified = true;
    }
    if !password && !self_registered && g.rng.chance(80) {
        let code = if legacy {
            "user.initialization.code.added"
        } else {
            "user.human.initialization.code.added"
        };
        let payload =
            json!({ "code": text::crypto_value(&mut g.rng), "expiry": 259_200_000_000_000_i64 });
        emit(g, t, user, code, Some(payload));
        g.tenants[t].users[user].state = UserState::Initial;
    }
    user
}

/// A human in a random live org, created by the admin or by itself.
fn added(g: &mut Gen, t: usize, creation: Creation) -> bool {
    let orgs = g.tenants[t].live_orgs(|_, _| true);
    let Some(&org) = g.rng.pick(&orgs) else {
        return false;
    };
    add_human(g, t, org, creation);
    true
}

fn machine_added(g: &mut Gen, t: usize) -> bool {
    let orgs = g.tenants[t].live_orgs(|_, _| true);
    let Some(&org) = g.rng.pick(&orgs) else {
        return false;
    };
    let id = g.id();
    let n = g.tenants[t].users.len();
    let username = match g.rng.below(3) {
        0 => format!("svc-{n}"),
        1 => format!("ci.pipeline.{n}"),
        _ => format!("サービス{n}"),
    };
    let mut p = Map::new();
    p.insert("userName".to_owned(), json!(username));
    let name = if g.rng.chance(10) {
        text::long(&mut g.rng, 2048)
    } else {
        format!("Service account {n}")
    };
    p.insert("name".to_owned(), json!(name));
    let description = text::description(&mut g.rng);
    maybe(g, &mut p, 60, "description", json!(description));
    let token_type = g.rng.below(2);
    maybe(g, &mut p, 50, "accessTokenType", json!(token_type));
    let user = g.tenants[t].users.len();
    g.tenants[t]
        .users
        .push(User::new(id, org, Kind::Machine, username));
    emit(g, t, user, "user.machine.added", Some(Value::Object(p)));
    true
}

/// Remove `user` with its memberships and grants, in one transaction.
pub(crate) fn remove(g: &mut Gen, t: usize, user: usize) {
    emit(g, t, user, "user.removed", None);
    instances::member_cascade(g, t, user);
    orgs::member_cascade(g, t, user);
    project_members::cascade(g, t, user);
    user_grants::cascade_for_user(g, t, user);
    sessions::user_ended(g, t, user, "user.removed");
    g.tenants[t].users[user].removed = true;
}

/// Remove a user other than the first admin; while a cascade event was
/// never written, a user whose removal writes it is preferred, and now and
/// then a member of a project or project grant is (see
/// [`project_members::removal_share`]).
fn removed(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let admin = tenant.admin;
    let users: Vec<usize> = tenant
        .live_users(|_| true)
        .into_iter()
        .filter(|u| Some(*u) != admin)
        .collect();
    let cascades = |u: usize| {
        let (project, grant) = project_members::memberships(g, t, u);
        [
            tenant.members.iter().any(|m| m.user == u),
            tenant
                .orgs
                .iter()
                .any(|o| !o.removed && o.members.iter().any(|m| m.user == u)),
            project,
            grant,
            !tenant.live_grants(|ug| ug.user == u).is_empty(),
        ]
    };
    let fresh = CASCADES.map(|e| g.fresh(e));
    let preferred: Vec<usize> = users
        .iter()
        .copied()
        .filter(|u| {
            cascades(*u)
                .iter()
                .zip(fresh)
                .any(|(has, fresh)| *has && fresh)
        })
        .collect();
    let members: Vec<usize> = users
        .iter()
        .copied()
        .filter(|u| cascades(*u)[2..4].contains(&true))
        .collect();
    let from = if !preferred.is_empty() {
        preferred
    } else if g.strict && fresh.contains(&true) {
        return false;
    } else if !members.is_empty() && g.rng.chance(project_members::removal_share(g)) {
        members
    } else {
        users
    };
    let Some(&user) = g.rng.pick(&from) else {
        return false;
    };
    remove(g, t, user);
    true
}
