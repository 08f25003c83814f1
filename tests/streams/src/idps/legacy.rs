//! Legacy IdP configs: `iam.idp.config.*` (the instance's, on the
//! `instance` aggregate) and `org.idp.config.*` (an org's), named by the
//! payload's `idpConfigId`. A config is added with its OIDC or JWT
//! configuration in the same transaction (`*.idp.oidc.config.added`,
//! `*.idp.jwt.config.added`), both changed later with some of their fields
//! (now and then none), deactivated and reactivated, and removed with the
//! cascades of its links.
//!
//! Each event type list holds the instance's form first, then the org's.

use serde_json::{Map, Value, json};

use super::providers::{self, Provider};
use super::{
    FEW, Idp, Kind, change_reason, emit, last_of_kind, links, live_idps, live_of_kind, unchanged,
};
use crate::generator::{Action, Gen};
use crate::text;

/// The configs added.
const ADDED: [&str; 2] = ["iam.idp.config.added", "org.idp.config.added"];
/// The configs changed.
const CHANGED: [&str; 2] = ["iam.idp.config.changed", "org.idp.config.changed"];
/// The configs deactivated.
const DEACTIVATED: [&str; 2] = ["iam.idp.config.deactivated", "org.idp.config.deactivated"];
/// The configs reactivated.
const REACTIVATED: [&str; 2] = ["iam.idp.config.reactivated", "org.idp.config.reactivated"];
/// The configs removed.
const REMOVED: [&str; 2] = ["iam.idp.config.removed", "org.idp.config.removed"];
/// The OIDC configurations added.
const OIDC_ADDED: [&str; 2] = ["iam.idp.oidc.config.added", "org.idp.oidc.config.added"];
/// The OIDC configurations changed.
const OIDC_CHANGED: [&str; 2] = ["iam.idp.oidc.config.changed", "org.idp.oidc.config.changed"];
/// The JWT configurations added.
const JWT_ADDED: [&str; 2] = ["iam.idp.jwt.config.added", "org.idp.jwt.config.added"];
/// The JWT configurations changed.
const JWT_CHANGED: [&str; 2] = ["iam.idp.jwt.config.changed", "org.idp.jwt.config.changed"];

/// The situations of a config's and of a configuration's change carrying
/// none of its fields.
const UNCHANGED: &str = "*.idp.config.changed/unchanged";
const CONFIG_UNCHANGED: &str = "*.idp.*.config.changed/unchanged";

/// The actions adding, changing, deactivating and reactivating configs.
pub(super) const ACTIONS: &[Action] = &[
    Action::new(ADDED[0], 2, added).writes(&[
        ADDED[1],
        OIDC_ADDED[0],
        OIDC_ADDED[1],
        JWT_ADDED[0],
        JWT_ADDED[1],
    ]),
    Action::new(CHANGED[0], 2, changed).writes(&[CHANGED[1], UNCHANGED]),
    Action::new(OIDC_CHANGED[0], 2, config_changed).writes(&[
        OIDC_CHANGED[1],
        JWT_CHANGED[0],
        JWT_CHANGED[1],
        CONFIG_UNCHANGED,
    ]),
    Action::new(DEACTIVATED[0], 1, |g, t| set_active(g, t, false)).writes(&[DEACTIVATED[1]]),
    Action::new(REACTIVATED[0], 1, |g, t| set_active(g, t, true)).writes(&[REACTIVATED[1]]),
];

/// The action removing configs with the cascades of their links.
pub(super) const REMOVAL: &[Action] = &[Action::new(REMOVED[0], 2, removed).writes(&[
    REMOVED[1],
    links::POLICY_CASCADE[0],
    links::POLICY_CASCADE[1],
    links::USER_CASCADE,
])];

/// The index of an event type list for `org`'s config (the instance's
/// when `None`).
fn at(org: Option<usize>) -> usize {
    usize::from(org.is_some())
}

/// The event type of a configuration (`oidc`, else JWT) added at org level
/// (`org`) or instance level: its added event, or, outside strict mode
/// when no such config exists, an event never written that needs one, so
/// that it can be written next.
fn added_for(g: &Gen, t: usize, org: bool, oidc: bool) -> String {
    let i = usize::from(org);
    let added = if oidc { OIDC_ADDED[i] } else { JWT_ADDED[i] };
    let exists = !live_idps(&g.tenants[t], |c| {
        c.org.is_some() == org && c.kind == Kind::Legacy { oidc }
    })
    .is_empty();
    if g.fresh(added) || exists || g.strict {
        return added.to_owned();
    }
    let detail = if oidc {
        OIDC_CHANGED[i]
    } else {
        JWT_CHANGED[i]
    };
    [
        CHANGED[i],
        detail,
        DEACTIVATED[i],
        REACTIVATED[i],
        REMOVED[i],
    ]
    .into_iter()
    .find(|e| g.fresh(e))
    .unwrap_or(added)
    .to_owned()
}

/// An OIDC mapping field: unspecified (left out), preferred login name or
/// email.
fn mapping(g: &mut Gen) -> usize {
    g.rng.below(3)
}

/// The fields of an OIDC configuration (every one, empty ones included).
fn oidc_fields(g: &mut Gen, t: usize) -> Vec<(&'static str, Value)> {
    let host = providers::own_host(g, t);
    let scopes = g.rng.subset(&["openid", "profile", "email", "address"], 0);
    let endpoints = g.rng.chance(30);
    let endpoint = |path: &str| {
        if endpoints {
            format!("https://{host}{path}")
        } else {
            String::new()
        }
    };
    vec![
        ("clientId", json!(text::hex(&mut g.rng, 20))),
        ("clientSecret", providers::secret(g)),
        ("issuer", json!(format!("https://{host}"))),
        ("authorizationEndpoint", json!(endpoint("/authorize"))),
        ("tokenEndpoint", json!(endpoint("/token"))),
        ("scopes", json!(scopes)),
        ("idpDisplayNameMapping", json!(mapping(g))),
        ("usernameMapping", json!(mapping(g))),
    ]
}

/// The fields of a JWT configuration (every one, empty ones included).
fn jwt_fields(g: &mut Gen, t: usize) -> Vec<(&'static str, Value)> {
    let host = providers::own_host(g, t);
    vec![
        ("jwtEndpoint", json!(format!("https://{host}/jwt"))),
        ("issuer", json!(format!("https://{host}"))),
        ("keysEndpoint", json!(format!("https://{host}/keys"))),
        (
            "headerName",
            json!(g.rng.one(&["Authorization", "x-custom-tkn", ""])),
        ),
    ]
}

/// Whether Go's `omitempty` leaves `value` out.
fn omitted(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Number(n) => n.as_i64() == Some(0),
        Value::Bool(b) => !b,
        _ => false,
    }
}

/// A payload naming config `id`, with `fields` (those `omitempty` leaves
/// out dropped when `added`).
fn payload(id: &str, fields: Vec<(&'static str, Value)>, added: bool) -> Value {
    let mut p = Map::new();
    p.insert("idpConfigId".to_owned(), json!(id));
    for (key, value) in fields {
        if !added || !omitted(&value) {
            p.insert(key.to_owned(), value);
        }
    }
    Value::Object(p)
}

/// Add a config (while a configuration's added event or an event needing a
/// config of a level and configuration none exists of was never written,
/// of such a level and configuration; else mostly an OIDC one, a JWT one
/// while the live tenants have few) with its OIDC or JWT configuration,
/// in one transaction; half the time (outside strict mode always while the
/// cascade removal of such an offer was never written) offered at the
/// owner's login policy right after, and now and then (always while the
/// cascade removal of a user link was never written) a first user linked
/// to it.
fn added(g: &mut Gen, t: usize) -> bool {
    let orgs = g.tenants[t].live_orgs(|_, _| true);
    let reasons: Vec<String> = [(false, true), (false, false), (true, true), (true, false)]
        .into_iter()
        .map(|(org, oidc)| added_for(g, t, org, oidc))
        .collect();
    let levels = std::iter::once(None).chain(orgs.iter().copied().map(Some));
    let options: Vec<((Option<usize>, bool), String)> = levels
        .flat_map(|org| {
            let i = 2 * at(org);
            [
                ((org, true), reasons[i].clone()),
                ((org, false), reasons[i + 1].clone()),
            ]
        })
        .collect();
    let fresh = options.iter().any(|(_, e)| g.fresh(e));
    let (org, oidc) = if fresh || g.strict {
        let Some(choice) = g.choose(&options) else {
            return false;
        };
        choice
    } else {
        let org = super::level(g, t, &orgs);
        let few = |oidc| live_of_kind(g, Kind::Legacy { oidc }) < FEW;
        let oidc = if few(false) {
            false
        } else {
            few(true) || g.rng.chance(70)
        };
        (org, oidc)
    };
    let id = g.id();
    let provider = if oidc { Provider::Oidc } else { Provider::Jwt };
    let name = providers::name(g, provider);
    let config = vec![
        ("name", json!(name)),
        ("idpType", json!(if oidc { 0 } else { 2 })),
        ("stylingType", json!(usize::from(g.rng.chance(20)))),
        ("autoRegister", json!(g.rng.coin())),
    ];
    emit(g, t, org, ADDED[at(org)], payload(&id, config, true));
    let (event, fields) = if oidc {
        (OIDC_ADDED[at(org)], oidc_fields(g, t))
    } else {
        (JWT_ADDED[at(org)], jwt_fields(g, t))
    };
    emit(g, t, org, event, payload(&id, fields, true));
    g.tenants[t].idps.list.push(Idp {
        id,
        org,
        kind: Kind::Legacy { oidc },
        active: true,
        removed: false,
    });
    let idp = g.tenants[t].idps.list.len() - 1;
    let cascade = !g.strict && g.fresh(links::POLICY_CASCADE[at(org)]);
    if cascade || g.rng.coin() {
        links::offer(g, t, idp);
    }
    let cascade = !g.strict && g.fresh(links::USER_CASCADE);
    if cascade || g.rng.chance(25) {
        links::link_first(g, t, idp);
    }
    true
}

/// A live config that passes `keep`, chosen as [`Gen::choose`] does with
/// the reason `reason` gives for each (the event type its choice writes,
/// or a situation); with its id and org.
fn pick(
    g: &mut Gen,
    t: usize,
    reason: impl Fn(&Gen, &Idp) -> String,
    keep: impl Fn(&Idp) -> bool,
) -> Option<(usize, String, Option<usize>)> {
    let tenant = &g.tenants[t];
    let options: Vec<(usize, String)> =
        live_idps(tenant, |i| matches!(i.kind, Kind::Legacy { .. }) && keep(i))
            .into_iter()
            .map(|i| (i, reason(g, &tenant.idps.list[i])))
            .collect();
    let idp = g.choose(&options)?;
    let config = &g.tenants[t].idps.list[idp];
    Some((idp, config.id.clone(), config.org))
}

/// Change a config's name, styling or auto registration: some of them,
/// now and then none.
fn changed(g: &mut Gen, t: usize) -> bool {
    let reason = |g: &Gen, i: &Idp| change_reason(g, CHANGED[at(i.org)], UNCHANGED);
    let Some((_, id, org)) = pick(g, t, reason, |_| true) else {
        return false;
    };
    let mut fields = Vec::new();
    if !unchanged(g, UNCHANGED, 8) {
        if g.rng.chance(60) {
            fields.push(("name", json!(providers::name(g, Provider::Oidc))));
        }
        if g.rng.chance(30) {
            fields.push(("stylingType", json!(g.rng.below(2))));
        }
        if g.rng.chance(40) || fields.is_empty() {
            fields.push(("autoRegister", json!(g.rng.coin())));
        }
    }
    emit(g, t, org, CHANGED[at(org)], payload(&id, fields, false));
    true
}

/// Change a config's OIDC or JWT configuration: some of its fields, now
/// and then none.
fn config_changed(g: &mut Gen, t: usize) -> bool {
    let event = |g: &Gen, i: &Idp| {
        let event = match i.kind {
            Kind::Legacy { oidc: true } => OIDC_CHANGED[at(i.org)],
            _ => JWT_CHANGED[at(i.org)],
        };
        change_reason(g, event, CONFIG_UNCHANGED)
    };
    let Some((idp, id, org)) = pick(g, t, event, |_| true) else {
        return false;
    };
    let oidc = g.tenants[t].idps.list[idp].kind == Kind::Legacy { oidc: true };
    let mut fields = Vec::new();
    if !unchanged(g, CONFIG_UNCHANGED, 8) {
        let all = if oidc {
            oidc_fields(g, t)
        } else {
            jwt_fields(g, t)
        };
        let share = g.rng.one(&[25, 50, 80]);
        for (key, value) in all {
            if g.rng.chance(share) && !matches!(&value, Value::Array(v) if v.is_empty()) {
                fields.push((key, value));
            }
        }
        if fields.is_empty() {
            fields.push((
                "issuer",
                json!(format!("https://{}", providers::own_host(g, t))),
            ));
        }
    }
    let event = if oidc {
        OIDC_CHANGED[at(org)]
    } else {
        JWT_CHANGED[at(org)]
    };
    emit(g, t, org, event, payload(&id, fields, false));
    true
}

/// Deactivate an active config or reactivate an inactive one (outside
/// strict mode, while a level's reactivation was never written, a
/// deactivation there is preferred).
fn set_active(g: &mut Gen, t: usize, active: bool) -> bool {
    let events = if active { REACTIVATED } else { DEACTIVATED };
    let enabling = [0, 1].map(|i| !active && !g.strict && g.fresh(REACTIVATED[i]));
    let reason = |_: &Gen, i: &Idp| {
        if enabling[at(i.org)] {
            REACTIVATED[at(i.org)].to_owned()
        } else {
            events[at(i.org)].to_owned()
        }
    };
    let Some((idp, id, org)) = pick(g, t, reason, |i| i.active != active) else {
        return false;
    };
    emit(g, t, org, events[at(org)], json!({ "idpConfigId": id }));
    g.tenants[t].idps.list[idp].active = active;
    true
}

/// Remove a config (not one whose change, or when inactive reactivation,
/// was never written at its level, nor the tenant's last of its
/// configuration unless that writes something never written) with the cascades of its login policy
/// and user links in the same transaction (while a cascade was never
/// written, a config whose removal writes it).
fn removed(g: &mut Gen, t: usize) -> bool {
    let tenant = &g.tenants[t];
    let needed = |i: &Idp| {
        let at = at(i.org);
        let detail = match i.kind {
            Kind::Legacy { oidc: true } => OIDC_CHANGED[at],
            _ => JWT_CHANGED[at],
        };
        g.fresh(CHANGED[at]) || g.fresh(detail) || (!i.active && g.fresh(REACTIVATED[at]))
    };
    let options: Vec<(usize, String)> = live_idps(tenant, |i| {
        matches!(i.kind, Kind::Legacy { .. }) && !needed(i)
    })
    .into_iter()
    .map(|i| {
        let own = REMOVED[at(tenant.idps.list[i].org)];
        let reason = links::cascades(tenant, i)
            .into_iter()
            .find(|e| g.fresh(e))
            .unwrap_or(own);
        (i, reason.to_owned())
    })
    .filter(|(i, reason)| g.fresh(reason) || !last_of_kind(tenant, *i))
    .collect();
    let Some(idp) = g.choose(&options) else {
        return false;
    };
    let Idp { id, org, .. } = g.tenants[t].idps.list[idp].clone();
    emit(g, t, org, REMOVED[at(org)], json!({ "idpConfigId": id }));
    links::cascade(g, t, idp);
    g.tenants[t].idps.list[idp].removed = true;
    true
}
