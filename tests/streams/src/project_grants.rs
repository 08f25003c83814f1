//! Grants of a project to other orgs of the same tenant (events of the
//! `project` aggregate): added with a subset of the project's roles,
//! changed, deactivated, reactivated and removed, with the cascades to the
//! user grants given through them. Now and then a grant is written with the
//! granted org as resource owner, as Zitadel did before v2.66, until
//! `project.owner.corrected` follows.

use serde_json::{Map, Value, json};

use crate::generator::{Action, Gen};
use crate::projects::{emit, emit_owned};
use crate::user_grants;
use crate::world::ProjectGrant;

/// The project grant actions.
pub(crate) const ACTIONS: &[Action] = &[
    Action::new("project.grant.added", 6, added),
    Action::new("project.grant.changed", 2, changed).writes(&["user.grant.cascade.changed"]),
    Action::new("project.grant.deactivated", 1, deactivated),
    Action::new("project.grant.reactivated", 1, reactivated),
    Action::new("project.grant.removed", 1, removed).writes(&["user.grant.cascade.removed"]),
];

/// Percent of new grants written with the granted org as resource owner
/// (more while `project.owner.corrected` was never written).
const MISOWNED: usize = 8;

/// The role keys of the payloads: a subset, or Go's nil slice (`null`) now
/// and then when empty.
fn role_keys(roles: &[String], null_when_empty: bool) -> Value {
    if roles.is_empty() && null_when_empty {
        Value::Null
    } else {
        json!(roles)
    }
}

/// Grant a project with roles to another live org it is not granted to.
fn added(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let pairs: Vec<(usize, usize)> = tenant
        .live_projects()
        .into_iter()
        .filter(|p| !tenant.projects[*p].roles.is_empty())
        .flat_map(|project| {
            let p = &tenant.projects[project];
            tenant
                .live_orgs(|o, _| {
                    o != p.org
                        && !p
                            .grants
                            .iter()
                            .enumerate()
                            .any(|(i, gr)| gr.org == o && tenant.project_grant_live(project, i))
                })
                .into_iter()
                .map(move |o| (project, o))
        })
        .collect();
    let Some(&(project, org)) = g.rng.pick(&pairs) else {
        return false;
    };
    let roles = if g.rng.chance(8) {
        Vec::new()
    } else {
        g.rng
            .subset(&g.tenants[t].projects[project].roles.clone(), 1)
    };
    let id = g.id();
    let granted = g.tenants[t].orgs[org].id.clone();
    let mut payload = Map::new();
    payload.insert("grantId".to_owned(), json!(id));
    payload.insert("grantedOrgId".to_owned(), json!(granted));
    if !roles.is_empty() || g.rng.coin() {
        payload.insert("roleKeys".to_owned(), json!(roles));
    }
    let payload = Some(Value::Object(payload));
    let misowned = if g.fresh("project.owner.corrected") {
        MISOWNED * 4
    } else {
        MISOWNED
    };
    if g.rng.chance(misowned) {
        emit_owned(g, t, project, "project.grant.added", &granted, payload);
        g.tenants[t].projects[project].misowned = true;
    } else {
        emit(g, t, project, "project.grant.added", payload);
    }
    g.tenants[t].projects[project].grants.push(ProjectGrant {
        id,
        org,
        roles,
        removed: false,
        active: true,
        members: Vec::new(),
    });
    true
}

/// A live project grant that passes `keep`.
pub(crate) fn pick_grant(
    g: &mut Gen,
    t: usize,
    keep: impl Fn(&ProjectGrant) -> bool,
) -> Option<(usize, usize)> {
    let found = g.tenants[t].live_project_grants(keep);
    g.rng.pick(&found).copied()
}

/// Change the roles of a project grant; user grants through it lose the
/// roles no longer granted, with a cascade event each.
fn changed(g: &mut Gen, t: usize) -> bool {
    let held = |g: &Gen, project: usize, pg: usize| -> Vec<String> {
        let tenant = &g.tenants[t];
        tenant
            .live_grants(|ug| ug.project == project && ug.project_grant == Some(pg))
            .into_iter()
            .flat_map(|ug| tenant.grants[ug].roles.clone())
            .collect()
    };
    let fresh = g.fresh("user.grant.cascade.changed");
    let picked = if fresh {
        let with_roles: Vec<(usize, usize)> = g.tenants[t]
            .live_project_grants(|_| true)
            .into_iter()
            .filter(|(p, pg)| !held(g, *p, *pg).is_empty())
            .collect();
        match g.rng.pick(&with_roles).copied() {
            Some(found) => Some(found),
            None if g.strict => return false,
            None => pick_grant(g, t, |_| true),
        }
    } else {
        pick_grant(g, t, |_| true)
    };
    let Some((project, pg)) = picked else {
        return false;
    };
    let mut all = g.tenants[t].projects[project].roles.clone();
    if fresh && let Some(dropped) = held(g, project, pg).first() {
        all.retain(|r| r != dropped);
    }
    let roles = g.rng.subset(&all, 0);
    let id = g.tenants[t].projects[project].grants[pg].id.clone();
    let null = g.rng.coin();
    let payload = json!({ "grantId": id, "roleKeys": role_keys(&roles, null) });
    emit(g, t, project, "project.grant.changed", Some(payload));
    g.tenants[t].projects[project].grants[pg]
        .roles
        .clone_from(&roles);
    user_grants::cascade_kept(
        g,
        t,
        |ug| ug.project == project && ug.project_grant == Some(pg),
        &roles,
    );
    true
}

/// Take role `key`, just removed from `project`, out of the live grants of
/// the project that hold it, with a cascade event each.
pub(crate) fn cascade_role(g: &mut Gen, t: usize, project: usize, key: &str) {
    for pg in 0..g.tenants[t].projects[project].grants.len() {
        if !g.tenants[t].project_grant_live(project, pg)
            || !g.tenants[t].projects[project].grants[pg]
                .roles
                .iter()
                .any(|r| r == key)
        {
            continue;
        }
        let grant = &mut g.tenants[t].projects[project].grants[pg];
        grant.roles.retain(|r| r != key);
        let payload = json!({ "grantId": grant.id, "roleKeys": grant.roles });
        emit(
            g,
            t,
            project,
            "project.grant.cascade.changed",
            Some(payload),
        );
    }
}

fn deactivated(g: &mut Gen, t: usize) -> bool {
    let Some((project, pg)) = pick_grant(g, t, |gr| gr.active) else {
        return false;
    };
    let id = g.tenants[t].projects[project].grants[pg].id.clone();
    emit(
        g,
        t,
        project,
        "project.grant.deactivated",
        Some(json!({ "grantId": id })),
    );
    g.tenants[t].projects[project].grants[pg].active = false;
    true
}

fn reactivated(g: &mut Gen, t: usize) -> bool {
    let Some((project, pg)) = pick_grant(g, t, |gr| !gr.active) else {
        return false;
    };
    let id = g.tenants[t].projects[project].grants[pg].id.clone();
    emit(
        g,
        t,
        project,
        "project.grant.reactivated",
        Some(json!({ "grantId": id })),
    );
    g.tenants[t].projects[project].grants[pg].active = true;
    true
}

/// Remove a grant, whatever members it still has; the user grants through
/// it are removed by cascade in the same transaction.
fn removed(g: &mut Gen, t: usize) -> bool {
    let Some((project, pg)) = pick_grant(g, t, |_| true) else {
        return false;
    };
    let grant = &g.tenants[t].projects[project].grants[pg];
    let payload = json!({
        "grantId": grant.id,
        "grantedOrgId": g.tenants[t].orgs[grant.org].id,
    });
    emit(g, t, project, "project.grant.removed", Some(payload));
    user_grants::cascade_removed(g, t, |ug| {
        ug.project == project && ug.project_grant == Some(pg)
    });
    g.tenants[t].projects[project].grants[pg].removed = true;
    true
}
