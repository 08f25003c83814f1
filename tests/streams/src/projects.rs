//! Events of the `project` aggregate, read by the projects and apps families
//! (and by the user grants and users families for grants, roles,
//! application keys and removals): projects with their flags, changes,
//! deactivation, owner correction and removal, and their roles. The other
//! parts of the aggregate have modules of their own:
//!
//! | module | events |
//! |---|---|
//! | `projects.rs` | projects and roles |
//! | `project_grants.rs` | grants to other orgs |
//! | `project_members.rs` | project members and project grant members |
//! | `apps.rs` | applications and their keys |
//! | `app_configs.rs` | the API, OIDC and SAML configurations of applications |

use serde_json::{Map, Value, json};

use crate::generator::{Action, Gen};
use crate::world::Project;
use crate::{apps, limits, project_grants, project_members, text, user_grants};

/// The actions creating and changing projects and roles.
const ACTIONS: &[Action] = &[
    Action::new("project.added", 2, added),
    Action::new("project.changed", 2, changed),
    Action::new("project.deactivated", 1, deactivated),
    Action::new("project.reactivated", 1, reactivated),
    Action::new("project.owner.corrected", 1, owner_corrected),
    Action::new("project.role.added", 2, role_added),
    Action::new("project.role.changed", 1, role_changed),
    Action::new("project.role.removed", 2, role_removed).writes(&[
        "project.grant.cascade.changed",
        "user.grant.cascade.changed",
    ]),
];

/// The action removing projects, listed after everything else a project
/// goes through.
const REMOVAL: &[Action] = &[Action::new("project.removed", 1, removed).writes(&[
    "user.grant.cascade.removed",
    REMOVED_WITH[0],
    REMOVED_WITH[1],
    REMOVED_WITH[2],
])];

/// The situations of a project removed while it still has apps, grants or
/// members.
const REMOVED_WITH: [&str; 3] = [
    "project.removed/with apps",
    "project.removed/with grants",
    "project.removed/with members",
];

/// Every action of the `project` aggregate, in the order of a project's
/// life.
pub(crate) fn actions() -> impl Iterator<Item = &'static Action> {
    ACTIONS
        .iter()
        .chain(project_grants::ACTIONS)
        .chain(project_members::ACTIONS)
        .chain(apps::ACTIONS)
        .chain(REMOVAL)
}

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

/// Role groups (the empty one is written as `""` or left out).
const GROUPS: &[&str] = &["", "Management", "Clients", "社内", "Équipe \"A\""];

/// Emit an event of project `project`, owned by the project's org.
pub(crate) fn emit(
    g: &mut Gen,
    t: usize,
    project: usize,
    event_type: &str,
    payload: Option<Value>,
) {
    let owner = g.tenants[t].orgs[g.tenants[t].projects[project].org]
        .id
        .clone();
    emit_owned(g, t, project, event_type, &owner, payload);
}

/// Emit an event of project `project` with resource owner `owner`.
pub(crate) fn emit_owned(
    g: &mut Gen,
    t: usize,
    project: usize,
    event_type: &str,
    owner: &str,
    payload: Option<Value>,
) {
    let id = g.tenants[t].projects[project].id.clone();
    g.emit(t, ("project", &id), event_type, owner, payload);
}

/// A live project that passes `keep`.
pub(crate) fn pick(g: &mut Gen, t: usize, keep: impl Fn(&Project) -> bool) -> Option<usize> {
    let tenant = &g.tenants[t];
    let projects: Vec<usize> = tenant
        .live_projects()
        .into_iter()
        .filter(|p| keep(&tenant.projects[*p]))
        .collect();
    g.rng.pick(&projects).copied()
}

/// Insert the text `value` under `key`; an empty one, as Go's `omitempty`
/// drops it, is left out half the time.
pub(crate) fn text_field(g: &mut Gen, map: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() || g.rng.coin() {
        map.insert(key.to_owned(), json!(value));
    }
}

/// Whether a change of `event_type` carries none of its optional fields
/// (which changes nothing): `percent` of the time, and half the time while
/// such a change was never written.
pub(crate) fn unchanged(g: &mut Gen, event_type: &str, percent: usize) -> bool {
    let situation = format!("{event_type}/unchanged");
    let none = if g.fresh(&situation) {
        g.rng.coin()
    } else {
        g.rng.chance(percent)
    };
    if none {
        g.mark(&situation);
    }
    none
}

/// A role's display name: mostly a name with the key, sometimes empty or
/// long.
fn display_name(g: &mut Gen, key: &str) -> String {
    match g.rng.below(20) {
        0 | 1 => String::new(),
        2 => text::long(&mut g.rng, 2100),
        _ => format!("{} {key}", text::given(&mut g.rng)),
    }
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
    let mut p = Map::new();
    p.insert("key".to_owned(), json!(key));
    let display = display_name(g, &key);
    text_field(g, &mut p, "displayName", &display);
    let group = g.rng.one(GROUPS);
    text_field(g, &mut p, "group", group);
    emit(g, t, project, "project.role.added", Some(Value::Object(p)));
    g.tenants[t].projects[project].roles.push(key);
}

/// The flags of `project.added`: each one true, false or left out (Go's
/// `omitempty` drops a false one).
fn flags(g: &mut Gen, p: &mut Map<String, Value>) {
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
}

/// Add a project of `org` with a few roles; returns its index.
pub(crate) fn add(g: &mut Gen, t: usize, org: usize, name: &str) -> usize {
    let id = g.id();
    let project = g.tenants[t].projects.len();
    g.tenants[t].projects.push(Project::new(id, org));
    let mut p = Map::new();
    p.insert("name".to_owned(), json!(name));
    flags(g, &mut p);
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
    limits::reach(g, t, limits::PROJECT_CREATED);
    true
}

/// Change a varying subset of a project's settings; now and then none of
/// them (an empty payload).
fn changed(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |_| true) else {
        return false;
    };
    let mut p = Map::new();
    if !unchanged(g, "project.changed", 8) {
        if g.rng.chance(40) {
            let name = if g.rng.chance(10) {
                text::long(&mut g.rng, 2048)
            } else {
                text::project_name(&mut g.rng)
            };
            p.insert("name".to_owned(), json!(name));
        }
        for key in [
            "projectRoleAssertion",
            "projectRoleCheck",
            "hasProjectCheck",
        ] {
            if g.rng.chance(40) {
                p.insert(key.to_owned(), json!(g.rng.coin()));
            }
        }
        if g.rng.chance(30) || p.is_empty() {
            p.insert("privateLabelingSetting".to_owned(), json!(g.rng.below(3)));
        }
    }
    emit(g, t, project, "project.changed", Some(Value::Object(p)));
    true
}

/// Deactivate an active project other than the IAM project.
fn deactivated(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |p| p.active).filter(|p| *p != 0) else {
        return false;
    };
    emit(g, t, project, "project.deactivated", None);
    g.tenants[t].projects[project].active = false;
    true
}

fn reactivated(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |p| !p.active) else {
        return false;
    };
    emit(g, t, project, "project.reactivated", None);
    g.tenants[t].projects[project].active = true;
    true
}

/// Correct the owner of a project some of whose grants were written with
/// the granted org as resource owner: the event carries the project's org.
fn owner_corrected(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |p| p.misowned) else {
        return false;
    };
    emit(g, t, project, "project.owner.corrected", None);
    g.tenants[t].projects[project].misowned = false;
    true
}

fn role_added(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |_| true) else {
        return false;
    };
    add_role(g, t, project);
    true
}

/// Change a role's display name, group, both or (rarely) neither.
fn role_changed(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let pairs: Vec<(usize, String)> = tenant
        .live_projects()
        .into_iter()
        .flat_map(|p| tenant.projects[p].roles.iter().map(move |r| (p, r.clone())))
        .collect();
    let Some((project, key)) = g.rng.pick(&pairs).cloned() else {
        return false;
    };
    let mut p = Map::new();
    p.insert("key".to_owned(), json!(key));
    if !unchanged(g, "project.role.changed", 8) {
        let display = g.rng.chance(60);
        let group = g.rng.chance(50) || !display;
        if display {
            let name = display_name(g, &key);
            p.insert("displayName".to_owned(), json!(name));
        }
        if group {
            let name = g.rng.one(GROUPS);
            p.insert("group".to_owned(), json!(name));
        }
    }
    emit(
        g,
        t,
        project,
        "project.role.changed",
        Some(Value::Object(p)),
    );
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
    project_grants::cascade_role(g, t, project, &key);
    user_grants::cascade_roles(g, t, |ug| ug.project == project, &key);
    true
}

/// Remove a project (not the IAM project of the tenant's first set-up),
/// mostly one that still has apps, grants or members (while one of those
/// situations was never written, one that writes it): its user grants are
/// removed by cascade in the same transaction.
fn removed(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let has = |p: usize| {
        let project = &tenant.projects[p];
        [
            project.apps.iter().any(|a| !a.removed),
            (0..project.grants.len()).any(|pg| tenant.project_grant_live(p, pg)),
            !project.members.is_empty(),
        ]
    };
    let projects: Vec<usize> = tenant
        .live_projects()
        .into_iter()
        .filter(|p| *p != 0)
        .collect();
    let fresh = REMOVED_WITH.map(|s| g.fresh(s));
    let preferred: Vec<usize> = projects
        .iter()
        .copied()
        .filter(|p| has(*p).iter().zip(fresh).any(|(has, fresh)| *has && fresh))
        .collect();
    let busy: Vec<usize> = projects
        .iter()
        .copied()
        .filter(|p| has(*p).contains(&true))
        .collect();
    let from = if !preferred.is_empty() {
        preferred
    } else if g.strict && fresh.contains(&true) && !g.fresh("project.removed") {
        return false;
    } else if !busy.is_empty() && g.rng.chance(70) {
        busy
    } else {
        projects
    };
    let Some(&project) = g.rng.pick(&from) else {
        return false;
    };
    let content = has(project);
    emit(g, t, project, "project.removed", None);
    for (situation, had) in REMOVED_WITH.iter().zip(content) {
        if had {
            g.mark(situation);
        }
    }
    user_grants::cascade_removed(g, t, |ug| ug.project == project);
    g.tenants[t].projects[project].removed = true;
    true
}
