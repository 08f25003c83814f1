//! Events of the `usergrant` aggregate, read by the user grants family:
//! grants of project roles to users, directly or through a project grant,
//! their changes, deactivation and removal, and the cascading changes and
//! removals other aggregates' events push with them.

use serde_json::{Value, json};

use crate::generator::{Action, Gen};
use crate::world::UserGrant;

/// The user grant actions.
pub(crate) const ACTIONS: &[Action] = &[
    Action::new("user.grant.added", 6, added),
    Action::new("user.grant.changed", 3, changed),
    Action::new("user.grant.deactivated", 1, deactivated),
    Action::new("user.grant.reactivated", 1, reactivated),
    Action::new("user.grant.removed", 2, removed),
];

/// Emit an event of user grant `grant`.
fn emit(g: &mut Gen, t: usize, grant: usize, event_type: &str, payload: Option<Value>) {
    let ug = &g.tenants[t].grants[grant];
    let id = ug.id.clone();
    let owner = g.tenants[t].orgs[ug.owner].id.clone();
    g.emit(t, ("usergrant", &id), event_type, &owner, payload);
}

/// Role keys as Go writes a slice: `null` for a nil one (sometimes, when
/// empty), else the array.
fn role_keys(g: &mut Gen, roles: &[String]) -> Value {
    if roles.is_empty() && g.rng.coin() {
        Value::Null
    } else {
        json!(roles)
    }
}

/// A new grant: through a project grant (to a user of the granted org), or
/// directly on a project (mostly to a user of the project's org); now and
/// then one that was removed is given again.
fn added(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let exists = |user: usize, project: usize, pg: Option<usize>| {
        tenant.grants.iter().enumerate().any(|(i, ug)| {
            ug.user == user
                && ug.project == project
                && ug.project_grant == pg
                && tenant.user_grant_live(i)
        })
    };
    let again: Vec<(usize, usize, Option<usize>, usize)> = tenant
        .grants
        .iter()
        .filter(|ug| {
            ug.removed
                && tenant.user_found(ug.user)
                && ug
                    .project_grant
                    .map_or(tenant.project_live(ug.project), |pg| {
                        tenant.project_grant_live(ug.project, pg)
                    })
                && !exists(ug.user, ug.project, ug.project_grant)
        })
        .map(|ug| (ug.user, ug.project, ug.project_grant, ug.owner))
        .collect();
    let again = if g.rng.chance(15) {
        g.rng.pick(&again).copied()
    } else {
        None
    };
    let (user, project, pg, owner, roles) = if let Some((user, p, pg, owner)) = again {
        let roles = match pg {
            Some(pg) => tenant.projects[p].grants[pg].roles.clone(),
            None => tenant.projects[p].roles.clone(),
        };
        (user, p, pg, owner, roles)
    } else {
        let through = tenant.live_project_grants(|_| true);
        let via_grant = !through.is_empty() && g.rng.chance(40);
        let (project, pg, owner, roles) = if via_grant {
            let Some(&(p, pg)) = g.rng.pick(&through) else {
                return false;
            };
            let grant = &tenant.projects[p].grants[pg];
            (p, Some(pg), grant.org, grant.roles.clone())
        } else {
            let projects = tenant.live_projects();
            let Some(&p) = g.rng.pick(&projects) else {
                return false;
            };
            let project = &tenant.projects[p];
            (p, None, project.org, project.roles.clone())
        };
        let users: Vec<usize> = tenant
            .live_users(|_| true)
            .into_iter()
            .filter(|u| tenant.user_found(*u) && !exists(*u, project, pg))
            .collect();
        let own: Vec<usize> = users
            .iter()
            .copied()
            .filter(|u| tenant.users[*u].org == owner)
            .collect();
        let from = if !own.is_empty() && (pg.is_some() || g.rng.chance(70)) {
            own
        } else {
            users
        };
        let Some(&user) = g.rng.pick(&from) else {
            return false;
        };
        (user, project, pg, owner, roles)
    };
    let roles = g.rng.subset(&roles, 0);
    let id = g.id();
    let grant = g.tenants[t].grants.len();
    g.tenants[t].grants.push(UserGrant {
        id,
        user,
        project,
        project_grant: pg,
        owner,
        roles: roles.clone(),
        active: true,
        removed: false,
    });
    let tenant = &g.tenants[t];
    let mut payload = serde_json::Map::new();
    payload.insert("userId".to_owned(), json!(tenant.users[user].id));
    payload.insert("projectId".to_owned(), json!(tenant.projects[project].id));
    if let Some(pg) = pg {
        let grant_id = tenant.projects[project].grants[pg].id.clone();
        payload.insert("grantId".to_owned(), json!(grant_id));
    }
    payload.insert("roleKeys".to_owned(), role_keys(g, &roles));
    emit(
        g,
        t,
        grant,
        "user.grant.added",
        Some(Value::Object(payload)),
    );
    true
}

/// A live grant that passes `keep`.
fn pick(g: &mut Gen, t: usize, keep: impl Fn(&UserGrant) -> bool) -> Option<usize> {
    let grants = g.tenants[t].live_grants(keep);
    g.rng.pick(&grants).copied()
}

/// The roles a grant may hold: those of its project grant or its project.
fn available(g: &Gen, t: usize, grant: usize) -> Vec<String> {
    let tenant = &g.tenants[t];
    let ug = &tenant.grants[grant];
    let project = &tenant.projects[ug.project];
    match ug.project_grant {
        Some(pg) => project.grants[pg].roles.clone(),
        None => project.roles.clone(),
    }
}

fn changed(g: &mut Gen, t: usize) -> bool {
    let Some(grant) = pick(g, t, |_| true) else {
        return false;
    };
    let roles = g.rng.subset(&available(g, t, grant), 0);
    let user_id = g.tenants[t].users[g.tenants[t].grants[grant].user]
        .id
        .clone();
    let keys = role_keys(g, &roles);
    let payload = json!({ "userId": user_id, "roleKeys": keys });
    emit(g, t, grant, "user.grant.changed", Some(payload));
    g.tenants[t].grants[grant].roles = roles;
    true
}

fn deactivated(g: &mut Gen, t: usize) -> bool {
    let Some(grant) = pick(g, t, |ug| ug.active) else {
        return false;
    };
    emit(g, t, grant, "user.grant.deactivated", None);
    g.tenants[t].grants[grant].active = false;
    true
}

fn reactivated(g: &mut Gen, t: usize) -> bool {
    let Some(grant) = pick(g, t, |ug| !ug.active) else {
        return false;
    };
    emit(g, t, grant, "user.grant.reactivated", None);
    g.tenants[t].grants[grant].active = true;
    true
}

fn removed(g: &mut Gen, t: usize) -> bool {
    let Some(grant) = pick(g, t, |_| true) else {
        return false;
    };
    emit(g, t, grant, "user.grant.removed", None);
    g.tenants[t].grants[grant].removed = true;
    true
}

/// Remove, by cascade, the live grants that pass `keep`.
pub(crate) fn cascade_removed(g: &mut Gen, t: usize, keep: impl Fn(&UserGrant) -> bool) {
    for grant in g.tenants[t].live_grants(keep) {
        emit(g, t, grant, "user.grant.cascade.removed", None);
        g.tenants[t].grants[grant].removed = true;
    }
}

/// Remove the grants of `user` as part of the user's removal.
pub(crate) fn cascade_for_user(g: &mut Gen, t: usize, user: usize) {
    cascade_removed(g, t, |ug| ug.user == user);
}

/// Take role `key` out of the live grants that pass `keep`.
pub(crate) fn cascade_roles(g: &mut Gen, t: usize, keep: impl Fn(&UserGrant) -> bool, key: &str) {
    let grants = g.tenants[t].live_grants(|ug| keep(ug) && ug.roles.iter().any(|r| r == key));
    for grant in grants {
        g.tenants[t].grants[grant].roles.retain(|r| r != key);
        let roles = g.tenants[t].grants[grant].roles.clone();
        let keys = role_keys(g, &roles);
        emit(
            g,
            t,
            grant,
            "user.grant.cascade.changed",
            Some(json!({ "roleKeys": keys })),
        );
    }
}

/// Keep only the roles `kept` in the live grants that pass `keep`.
pub(crate) fn cascade_kept(
    g: &mut Gen,
    t: usize,
    keep: impl Fn(&UserGrant) -> bool,
    kept: &[String],
) {
    let grants =
        g.tenants[t].live_grants(|ug| keep(ug) && ug.roles.iter().any(|r| !kept.contains(r)));
    for grant in grants {
        g.tenants[t].grants[grant]
            .roles
            .retain(|r| kept.contains(r));
        let roles = g.tenants[t].grants[grant].roles.clone();
        let keys = role_keys(g, &roles);
        emit(
            g,
            t,
            grant,
            "user.grant.cascade.changed",
            Some(json!({ "roleKeys": keys })),
        );
    }
}
