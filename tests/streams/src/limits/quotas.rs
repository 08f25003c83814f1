//! Quotas of an instance (the `quota` aggregate, one per unit while it
//! exists): added by the system API's legacy call or set (created or
//! changed, only the changed fields present), with notifications or
//! without, a notification falling due and then sent, and removed (a later
//! quota of the unit is a new aggregate).

use serde_json::{Map, Value, json};

use crate::clock;
use crate::generator::{Action, Gen};

/// The quota actions.
pub(super) const ACTIONS: &[Action] = &[
    Action::new("quota.added", 1, |g, t| add(g, t, "quota.added")),
    Action::new("quota.set", 2, set).writes(&[WITH_NOTIFICATIONS, WITHOUT_NOTIFICATIONS]),
    Action::new("quota.notificationdue", 1, due),
    Action::new("quota.notified", 1, notified),
    Action::new("quota.removed", 1, removed),
];

/// The situations of a quota set with a list of notifications and of one
/// set without that key.
const WITH_NOTIFICATIONS: &str = "quota.set/with notifications";
const WITHOUT_NOTIFICATIONS: &str = "quota.set/without notifications";

/// Quota units: authenticated requests, action run seconds.
const UNITS: [u64; 2] = [1, 2];

/// Seconds of a day.
const DAY: i64 = 86_400;

/// A quota.
#[derive(Debug, Clone)]
pub(crate) struct Quota {
    /// The aggregate id.
    id: String,
    /// Unit.
    unit: u64,
    /// The start of the first period, seconds since the epoch.
    from: i64,
    /// The length of a period in seconds.
    interval: i64,
    /// The amount a period may use.
    amount: u64,
    /// Notifications.
    notifications: Vec<Notification>,
    /// Removed.
    removed: bool,
}

/// A notification of a quota.
#[derive(Debug, Clone)]
struct Notification {
    /// Id.
    id: String,
    /// The percentage of the amount that makes it due.
    percent: u64,
    /// Due again in each further hundred percent.
    repeat: bool,
    /// Where it is sent.
    call_url: String,
    /// The threshold that falls due next.
    threshold: u64,
    /// The payload of the due event not yet followed by `quota.notified`.
    due: Option<Map<String, Value>>,
}

/// Emit an event of quota `q` of tenant `t`.
fn emit(g: &mut Gen, t: usize, q: usize, event_type: &str, payload: Value) {
    let id = g.tenants[t].limits.quotas[q].id.clone();
    let owner = g.tenants[t].id.clone();
    g.creator("SYSTEM");
    g.emit(t, ("quota", &id), event_type, &owner, Some(payload));
}

/// The index of the live quota of `unit`.
fn live(g: &Gen, t: usize, unit: u64) -> Option<usize> {
    g.tenants[t]
        .limits
        .quotas
        .iter()
        .position(|q| !q.removed && q.unit == unit)
}

/// A list of notifications: one to three, each with an id of its own.
fn notifications(g: &mut Gen) -> Vec<Notification> {
    let n = g.rng.range(1, 3);
    let mut percents: Vec<u64> = g.rng.subset(&[50, 80, 90, 100, 150], n);
    percents.truncate(n);
    percents
        .into_iter()
        .map(|percent| {
            let id = g.id();
            let call_url = match g.rng.below(3) {
                0 => format!("https://hooks.example.com/quota/{id}"),
                1 => "https://billing.acme.ch/api/v1/notify?source=zitadel".to_owned(),
                _ => "http://localhost:8088/quota".to_owned(),
            };
            Notification {
                id,
                percent,
                repeat: g.rng.coin(),
                call_url,
                threshold: percent,
                due: None,
            }
        })
        .collect()
}

/// The notifications as a payload value.
fn notifications_value(notifications: &[Notification]) -> Value {
    json!(
        notifications
            .iter()
            .map(|n| json!({
                "id": n.id,
                "percent": n.percent,
                "repeat": n.repeat,
                "callUrl": n.call_url,
            }))
            .collect::<Vec<_>>()
    )
}

/// A period length: an hour, a day, 30 days.
fn interval(g: &mut Gen) -> i64 {
    g.rng.one(&[3_600, DAY, 30 * DAY])
}

/// An amount of a period.
fn amount(g: &mut Gen) -> u64 {
    g.rng
        .one(&[1_000, 25_000, 1_000_000, 9_007_199_254_740_991])
}

/// Add a quota of a unit the instance has none of, with every field
/// (`quota.added`, the legacy call, or `quota.set`); with notifications or
/// without.
pub(super) fn add(g: &mut Gen, t: usize, event_type: &str) -> bool {
    let listed = g.rng.chance(60);
    add_listed(g, t, event_type, listed)
}

/// Add a quota as [`add`] does, with notifications when `listed` (else
/// with an empty list or none).
fn add_listed(g: &mut Gen, t: usize, event_type: &str, listed: bool) -> bool {
    let units: Vec<u64> = UNITS
        .into_iter()
        .filter(|u| live(g, t, *u).is_none())
        .collect();
    let Some(&unit) = g.rng.pick(&units) else {
        return false;
    };
    let from = clock::START / 1_000_000 - i64::try_from(g.rng.below(60)).unwrap_or(0) * DAY;
    let quota = Quota {
        id: g.id(),
        unit,
        from: from - from.rem_euclid(DAY),
        interval: interval(g),
        amount: amount(g),
        notifications: if listed { notifications(g) } else { Vec::new() },
        removed: false,
    };
    let mut p = Map::new();
    p.insert("unit".to_owned(), json!(unit));
    p.insert("from".to_owned(), json!(clock::go_time(quota.from, 0, 0)));
    p.insert("interval".to_owned(), json!(quota.interval * 1_000_000_000));
    p.insert("amount".to_owned(), json!(quota.amount));
    p.insert("limit".to_owned(), json!(g.rng.coin()));
    if listed || (event_type == "quota.added" && g.rng.coin()) {
        p.insert(
            "notifications".to_owned(),
            notifications_value(&quota.notifications),
        );
    }
    let with = p.contains_key("notifications");
    g.tenants[t].limits.quotas.push(quota);
    let q = g.tenants[t].limits.quotas.len() - 1;
    emit(g, t, q, event_type, Value::Object(p));
    if event_type == "quota.set" {
        g.mark(if with {
            WITH_NOTIFICATIONS
        } else {
            WITHOUT_NOTIFICATIONS
        });
    }
    true
}

/// Set a quota: create one for a unit without, or change some fields of a
/// live one (the amount, the limit, the period, the notifications: a new
/// list, an empty one, or the key left out). While a set with or without
/// notifications was never written, such one.
fn set(g: &mut Gen, t: usize) -> bool {
    let change_list = if g.fresh(WITH_NOTIFICATIONS) {
        true
    } else if g.fresh(WITHOUT_NOTIFICATIONS) {
        false
    } else {
        g.rng.chance(40)
    };
    let live: Vec<usize> = (0..g.tenants[t].limits.quotas.len())
        .filter(|q| !g.tenants[t].limits.quotas[*q].removed)
        .collect();
    let Some(&q) = g.rng.pick(&live).filter(|_| g.rng.chance(75)) else {
        return add_listed(g, t, "quota.set", change_list);
    };
    let quota = &g.tenants[t].limits.quotas[q];
    let mut p = Map::new();
    p.insert("unit".to_owned(), json!(quota.unit));
    let mut fields = 0;
    if g.rng.chance(40) {
        let new = amount(g);
        g.tenants[t].limits.quotas[q].amount = new;
        p.insert("amount".to_owned(), json!(new));
        fields += 1;
    }
    if g.rng.chance(30) {
        p.insert("limit".to_owned(), json!(g.rng.coin()));
        fields += 1;
    }
    if g.rng.chance(20) || (fields == 0 && !change_list) {
        let new = interval(g);
        g.tenants[t].limits.quotas[q].interval = new;
        p.insert("interval".to_owned(), json!(new * 1_000_000_000));
    }
    if change_list {
        let list = if g.rng.chance(15) {
            Vec::new()
        } else {
            notifications(g)
        };
        p.insert("notifications".to_owned(), notifications_value(&list));
        g.tenants[t].limits.quotas[q].notifications = list;
        g.mark(WITH_NOTIFICATIONS);
    } else {
        g.mark(WITHOUT_NOTIFICATIONS);
    }
    emit(g, t, q, "quota.set", Value::Object(p));
    true
}

/// A live quota's notification that passes `keep`, as (quota,
/// notification).
fn pick_notification(
    g: &mut Gen,
    t: usize,
    keep: impl Fn(&Notification) -> bool,
) -> Option<(usize, usize)> {
    let quotas = &g.tenants[t].limits.quotas;
    let found: Vec<(usize, usize)> = (0..quotas.len())
        .filter(|q| !quotas[*q].removed)
        .flat_map(|q| {
            (0..quotas[q].notifications.len())
                .filter(|n| keep(&quotas[q].notifications[*n]))
                .map(move |n| (q, n))
                .collect::<Vec<_>>()
        })
        .collect();
    g.rng.pick(&found).copied()
}

/// A notification's threshold is reached in the current period; mostly it
/// is sent right after (in a transaction of its own), always while that was
/// never written.
fn due(g: &mut Gen, t: usize) -> bool {
    let Some((q, n)) = pick_notification(g, t, |n| n.due.is_none() && n.threshold < 65_000) else {
        return false;
    };
    let quota = &g.tenants[t].limits.quotas[q];
    let now = g.now() / 1_000_000;
    let periods = (now - quota.from).max(0) / quota.interval;
    let start = quota.from + periods * quota.interval;
    let notification = &quota.notifications[n];
    let usage = quota.amount / 100 * notification.threshold;
    let mut p = Map::new();
    p.insert("unit".to_owned(), json!(quota.unit));
    p.insert("id".to_owned(), json!(notification.id));
    p.insert("callURL".to_owned(), json!(notification.call_url));
    p.insert("periodStart".to_owned(), json!(clock::go_time(start, 0, 0)));
    p.insert("threshold".to_owned(), json!(notification.threshold));
    p.insert("usage".to_owned(), json!(usage));
    emit(g, t, q, "quota.notificationdue", Value::Object(p.clone()));
    let notification = &mut g.tenants[t].limits.quotas[q].notifications[n];
    if notification.repeat {
        notification.threshold += 100;
    } else {
        notification.threshold = u64::MAX;
    }
    notification.due = Some(p);
    if g.fresh("quota.notified") || g.rng.chance(70) {
        g.commit();
        send(g, t, q, n);
    }
    true
}

/// Send the due notification `n` of quota `q`: `quota.notified` with the
/// due event's fields and its id.
fn send(g: &mut Gen, t: usize, q: usize, n: usize) {
    if let Some(mut p) = g.tenants[t].limits.quotas[q].notifications[n].due.take() {
        p.insert("dueEventID".to_owned(), json!(g.id()));
        emit(g, t, q, "quota.notified", Value::Object(p));
    }
}

/// A due notification not sent yet is sent.
fn notified(g: &mut Gen, t: usize) -> bool {
    let Some((q, n)) = pick_notification(g, t, |n| n.due.is_some()) else {
        return false;
    };
    send(g, t, q, n);
    true
}

/// Remove a quota with its periods and notifications.
fn removed(g: &mut Gen, t: usize) -> bool {
    let live: Vec<usize> = (0..g.tenants[t].limits.quotas.len())
        .filter(|q| !g.tenants[t].limits.quotas[*q].removed)
        .collect();
    let Some(&q) = g.rng.pick(&live) else {
        return false;
    };
    let unit = g.tenants[t].limits.quotas[q].unit;
    emit(g, t, q, "quota.removed", json!({ "unit": unit }));
    g.tenants[t].limits.quotas[q].removed = true;
    true
}
