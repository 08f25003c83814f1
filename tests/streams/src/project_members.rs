//! Members of projects and of project grants (events of the `project`
//! aggregate): added, changed and removed, and removed by cascade with
//! their user. A member's user is always one whose creation event look-ups
//! find (the projections read the user's resource owner from it); a grant
//! member names a grant whose `project.grant.added` came before.
//!
//! The cascade on a user's removal reads the memberships from projections
//! that may lag, so now and then it misses one: that membership stays, and
//! a later `project.member.removed` or `project.grant.member.removed` names
//! the removed user. Memberships of users whose org was removed stay too
//! and may be removed later.

use serde_json::{Value, json};

use crate::generator::{Action, Gen};
use crate::project_grants::pick_grant;
use crate::projects::{emit, pick};
use crate::world::Member;

/// The member actions.
pub(crate) const ACTIONS: &[Action] = &[
    Action::new("project.member.added", 3, added),
    Action::new("project.member.changed", 2, changed),
    Action::new("project.member.removed", 2, removed).writes(&[AFTER_USER[0]]),
    Action::new("project.grant.member.added", 6, grant_added),
    Action::new("project.grant.member.changed", 2, grant_changed),
    Action::new("project.grant.member.removed", 1, grant_removed).writes(&[AFTER_USER[1]]),
];

/// Project member roles, Zitadel's and custom ones.
const PROJECT_ROLES: &[&str] = &[
    "PROJECT_OWNER",
    "PROJECT_OWNER_VIEWER",
    "PROJECT_OWNER_GLOBAL",
    "PROJECT_OWNER_VIEWER_GLOBAL",
    "PROJEKT_PRÜFER",
    "プロジェクト閲覧者",
];

/// Project grant member roles, Zitadel's and custom ones.
const GRANT_ROLES: &[&str] = &[
    "PROJECT_GRANT_OWNER",
    "PROJECT_GRANT_OWNER_VIEWER",
    "PROJECT_GRANT_MEMBER_MANAGER",
    "GRANT_ÉDITEUR",
    "مدير_المنحة",
];

/// Percent of memberships a user's removal does not cascade to (once the
/// removal of such a membership was written; all before).
const MISSED: usize = 10;

/// The situations of a project member and of a project grant member
/// removed after the removal of its user.
const AFTER_USER: [&str; 2] = [
    "project.member.removed/after user.removed",
    "project.grant.member.removed/after user.removed",
];

/// A member's roles: mostly one, often several, rarely none (written as
/// `[]` or as Go's nil slice, `null`).
fn roles(g: &mut Gen, from: &[&str]) -> Vec<String> {
    let chosen: Vec<&str> = match g.rng.below(20) {
        0 => Vec::new(),
        1..=10 => vec![g.rng.one(from)],
        _ => g.rng.subset(from, 2),
    };
    chosen.into_iter().map(str::to_owned).collect()
}

/// The roles as a payload value.
fn roles_value(g: &mut Gen, roles: &[String]) -> Value {
    if roles.is_empty() && g.rng.coin() {
        Value::Null
    } else {
        json!(roles)
    }
}

/// A user that may become a member beside `members`: live and found by
/// its creation event; one of `org` is preferred.
fn candidate(g: &mut Gen, t: usize, members: &[Member], org: usize) -> Option<usize> {
    let tenant = &g.tenants[t];
    let users: Vec<usize> = tenant
        .live_users(|_| true)
        .into_iter()
        .filter(|u| tenant.user_found(*u) && !members.iter().any(|m| m.user == *u))
        .collect();
    let own: Vec<usize> = users
        .iter()
        .copied()
        .filter(|u| tenant.users[*u].org == org)
        .collect();
    let from = if !own.is_empty() && g.rng.chance(75) {
        own
    } else {
        users
    };
    g.rng.pick(&from).copied()
}

fn added(g: &mut Gen, t: usize) -> bool {
    let Some(project) = pick(g, t, |_| true) else {
        return false;
    };
    let p = &g.tenants[t].projects[project];
    let (members, org) = (p.members.clone(), p.org);
    let Some(user) = candidate(g, t, &members, org) else {
        return false;
    };
    let roles = roles(g, PROJECT_ROLES);
    let user_id = g.tenants[t].users[user].id.clone();
    let value = roles_value(g, &roles);
    let payload = json!({ "userId": user_id, "roles": value });
    emit(g, t, project, "project.member.added", Some(payload));
    g.tenants[t].projects[project]
        .members
        .push(Member { user, roles });
    true
}

/// A member of a live project, with a live user when `live_user`; else
/// mostly one whose user is gone if there is one.
fn pick_member(g: &mut Gen, t: usize, live_user: bool) -> Option<(usize, usize)> {
    let tenant = &g.tenants[t];
    let all: Vec<(usize, usize)> = tenant
        .live_projects()
        .into_iter()
        .flat_map(|p| (0..tenant.projects[p].members.len()).map(move |m| (p, m)))
        .collect();
    let gone: Vec<(usize, usize)> = all
        .iter()
        .copied()
        .filter(|(p, m)| !tenant.user_live(tenant.projects[*p].members[*m].user))
        .collect();
    let live: Vec<(usize, usize)> = all.into_iter().filter(|pm| !gone.contains(pm)).collect();
    let from = if !live_user && !gone.is_empty() && g.rng.chance(75) {
        gone
    } else if live_user {
        live
    } else {
        [live, gone].concat()
    };
    g.rng.pick(&from).copied()
}

fn changed(g: &mut Gen, t: usize) -> bool {
    let Some((project, m)) = pick_member(g, t, true) else {
        return false;
    };
    let roles = roles(g, PROJECT_ROLES);
    let user = g.tenants[t].projects[project].members[m].user;
    let user_id = g.tenants[t].users[user].id.clone();
    let value = roles_value(g, &roles);
    let payload = json!({ "userId": user_id, "roles": value });
    emit(g, t, project, "project.member.changed", Some(payload));
    g.tenants[t].projects[project].members[m].roles = roles;
    true
}

/// Remove a project member; while the removal of a member after its
/// user's removal was never written, such a member if there is one.
fn removed(g: &mut Gen, t: usize) -> bool {
    let fresh = g.fresh(AFTER_USER[0]);
    let only_situation = g.strict && !g.fresh("project.member.removed");
    let tenant = &g.tenants[t];
    let after_user: Vec<(usize, usize)> = tenant
        .live_projects()
        .into_iter()
        .flat_map(|p| {
            let members = &tenant.projects[p].members;
            (0..members.len())
                .filter(|m| tenant.users[members[*m].user].removed)
                .map(move |m| (p, m))
        })
        .collect();
    let picked = match g.rng.pick(&after_user).copied() {
        Some(found) if fresh => Some(found),
        _ if fresh && only_situation => return false,
        _ => pick_member(g, t, false),
    };
    let Some((project, m)) = picked else {
        return false;
    };
    let member = g.tenants[t].projects[project].members.remove(m);
    let user_id = g.tenants[t].users[member.user].id.clone();
    emit(
        g,
        t,
        project,
        "project.member.removed",
        Some(json!({ "userId": user_id })),
    );
    if g.tenants[t].users[member.user].removed {
        g.mark(AFTER_USER[0]);
    }
    true
}

fn grant_added(g: &mut Gen, t: usize) -> bool {
    let Some((project, pg)) = pick_grant(g, t, |_| true) else {
        return false;
    };
    let grant = &g.tenants[t].projects[project].grants[pg];
    let (members, org) = (grant.members.clone(), grant.org);
    let Some(user) = candidate(g, t, &members, org) else {
        return false;
    };
    let roles = roles(g, GRANT_ROLES);
    let user_id = g.tenants[t].users[user].id.clone();
    let grant_id = g.tenants[t].projects[project].grants[pg].id.clone();
    let value = roles_value(g, &roles);
    let payload = json!({ "userId": user_id, "grantId": grant_id, "roles": value });
    emit(g, t, project, "project.grant.member.added", Some(payload));
    g.tenants[t].projects[project].grants[pg]
        .members
        .push(Member { user, roles });
    true
}

/// A member of a live project grant, as [`pick_member`] picks one.
fn pick_grant_member(g: &mut Gen, t: usize, live_user: bool) -> Option<(usize, usize, usize)> {
    let tenant = &g.tenants[t];
    let all: Vec<(usize, usize, usize)> = tenant
        .live_project_grants(|_| true)
        .into_iter()
        .flat_map(|(p, pg)| {
            (0..tenant.projects[p].grants[pg].members.len()).map(move |m| (p, pg, m))
        })
        .collect();
    let gone: Vec<(usize, usize, usize)> = all
        .iter()
        .copied()
        .filter(|(p, pg, m)| !tenant.user_live(tenant.projects[*p].grants[*pg].members[*m].user))
        .collect();
    let live: Vec<(usize, usize, usize)> = all.into_iter().filter(|x| !gone.contains(x)).collect();
    let from = if !live_user && !gone.is_empty() && g.rng.chance(75) {
        gone
    } else if live_user {
        live
    } else {
        [live, gone].concat()
    };
    g.rng.pick(&from).copied()
}

fn grant_changed(g: &mut Gen, t: usize) -> bool {
    let Some((project, pg, m)) = pick_grant_member(g, t, true) else {
        return false;
    };
    let roles = roles(g, GRANT_ROLES);
    let grant = &g.tenants[t].projects[project].grants[pg];
    let user_id = g.tenants[t].users[grant.members[m].user].id.clone();
    let grant_id = grant.id.clone();
    let value = roles_value(g, &roles);
    let payload = json!({ "userId": user_id, "grantId": grant_id, "roles": value });
    emit(g, t, project, "project.grant.member.changed", Some(payload));
    g.tenants[t].projects[project].grants[pg].members[m].roles = roles;
    true
}

/// Remove a project grant member, as [`removed`] removes a project member.
fn grant_removed(g: &mut Gen, t: usize) -> bool {
    let fresh = g.fresh(AFTER_USER[1]);
    let only_situation = g.strict && !g.fresh("project.grant.member.removed");
    let tenant = &g.tenants[t];
    let after_user: Vec<(usize, usize, usize)> = tenant
        .live_project_grants(|_| true)
        .into_iter()
        .flat_map(|(p, pg)| {
            let members = &tenant.projects[p].grants[pg].members;
            (0..members.len())
                .filter(|m| tenant.users[members[*m].user].removed)
                .map(move |m| (p, pg, m))
        })
        .collect();
    let picked = match g.rng.pick(&after_user).copied() {
        Some(found) if fresh => Some(found),
        _ if fresh && only_situation => return false,
        _ => pick_grant_member(g, t, false),
    };
    let Some((project, pg, m)) = picked else {
        return false;
    };
    let grant = &mut g.tenants[t].projects[project].grants[pg];
    let member = grant.members.remove(m);
    let grant_id = grant.id.clone();
    let user_id = g.tenants[t].users[member.user].id.clone();
    emit(
        g,
        t,
        project,
        "project.grant.member.removed",
        Some(json!({ "userId": user_id, "grantId": grant_id })),
    );
    if g.tenants[t].users[member.user].removed {
        g.mark(AFTER_USER[1]);
    }
    true
}

/// Percent of user removals that pick a member of a project or project
/// grant when there is one: more while the removal of a membership after
/// its user's removal was never written.
pub(crate) fn removal_share(g: &Gen) -> usize {
    if AFTER_USER.iter().any(|s| g.fresh(s)) {
        60
    } else {
        25
    }
}

/// Whether `user` is a member of a live project or project grant, as
/// (project member, grant member).
pub(crate) fn memberships(g: &Gen, t: usize, user: usize) -> (bool, bool) {
    let tenant = &g.tenants[t];
    let project = tenant
        .live_projects()
        .into_iter()
        .any(|p| tenant.projects[p].members.iter().any(|m| m.user == user));
    let grant = tenant
        .live_project_grants(|gr| gr.members.iter().any(|m| m.user == user))
        .into_iter()
        .next()
        .is_some();
    (project, grant)
}

/// Whether the cascade misses a membership: never while `event_type` was
/// never written, always while the removal of a membership after its
/// user's removal (`situation`) was never written, else now and then.
fn missed(g: &mut Gen, event_type: &str, situation: &str) -> bool {
    if g.fresh(event_type) {
        false
    } else if g.fresh(situation) {
        true
    } else {
        g.rng.chance(MISSED)
    }
}

/// Remove the memberships of `user` in live projects and project grants
/// as part of the user's removal, with a cascade event each; now and then
/// one is missed and stays.
pub(crate) fn cascade(g: &mut Gen, t: usize, user: usize) {
    let event = "project.member.cascade.removed";
    for project in g.tenants[t].live_projects() {
        if !g.tenants[t].projects[project]
            .members
            .iter()
            .any(|m| m.user == user)
            || missed(g, event, AFTER_USER[0])
        {
            continue;
        }
        g.tenants[t].projects[project]
            .members
            .retain(|m| m.user != user);
        let user_id = g.tenants[t].users[user].id.clone();
        emit(g, t, project, event, Some(json!({ "userId": user_id })));
    }
    let event = "project.grant.member.cascade.removed";
    let grants = g.tenants[t].live_project_grants(|gr| gr.members.iter().any(|m| m.user == user));
    for (project, pg) in grants {
        if missed(g, event, AFTER_USER[1]) {
            continue;
        }
        let grant = &mut g.tenants[t].projects[project].grants[pg];
        grant.members.retain(|m| m.user != user);
        let grant_id = grant.id.clone();
        let user_id = g.tenants[t].users[user].id.clone();
        let payload = json!({ "userId": user_id, "grantId": grant_id });
        emit(g, t, project, event, Some(payload));
    }
}
