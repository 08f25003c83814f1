//! The family as a whole: its description, events that reach several
//! tables, and events it refuses.

use projection_sdk::testing::{
    assert_describes, assert_every_subscription_scopes, assert_rejects_unknown, assert_subscribes,
    event, no_errors,
};
use projection_sdk::{Context, Family, NoEvents, ProjectionError, delete, insert, upsert};

use super::Limits;

const TABLES: [&str; 5] = [
    "milestones_projection",
    "quotas_projection",
    "quotas_periods_projection",
    "quotas_notifications_projection",
    "limits_projection",
];

#[test]
fn describes_five_tenant_scoped_tables() {
    let description = assert_describes::<Limits>("limits", "0.1.0", &TABLES);
    // As in the reference, no foreign key ties the quota sub-tables to
    // their quota: a period or notification row may exist alone.
    assert!(description.tables.iter().all(|t| t.parent.is_none()));
}

#[test]
fn subscribes_to_its_three_aggregates_and_instance_removal() {
    assert_subscribes::<Limits>(
        &[
            ("milestone", "milestone.v2.reached"),
            ("milestone", "milestone.v2.pushed"),
            ("quota", "quota.added"),
            ("quota", "quota.set"),
            ("quota", "quota.removed"),
            ("quota", "quota.notificationdue"),
            ("quota", "quota.notified"),
            ("limits", "limits.set"),
            ("limits", "limits.reset"),
            ("instance", "instance.removed"),
        ],
        &[("org", "org.removed")],
    );
}

#[test]
fn instance_removed_clears_the_quota_tables_children_first_then_limits_but_not_milestones() {
    let e = event("instance", "instance.removed", None);
    let in_order = [TABLES[2], TABLES[3], TABLES[1], TABLES[4]];
    let expected: Vec<_> = in_order
        .iter()
        .map(|t| delete(t).eq("instance_id", "instance-id").build())
        .collect();
    assert_eq!(Limits::handle(&e, &Context::new(&NoEvents)), Ok(expected));
}

#[test]
fn quota_set_upserts_the_quota_before_its_notifications() {
    let e = event(
        "quota",
        "quota.set",
        Some(r#"{"unit":1,"amount":5,"notifications":[{"id":"n","percent":80,"callUrl":"u"}]}"#),
    );
    let expected = vec![
        upsert("quotas_projection", &["instance_id", "unit"])
            .value("amount", 5)
            .value("id", "agg-id")
            .value("unit", 1)
            .build(),
        delete("quotas_notifications_projection")
            .eq("unit", 1)
            .build(),
        insert("quotas_notifications_projection")
            .value("unit", 1)
            .value("id", "n")
            .value("call_url", "u")
            .value("percent", 80)
            .value("repeat", false)
            .build(),
    ];
    assert_eq!(Limits::handle(&e, &Context::new(&NoEvents)), Ok(expected));
}

#[test]
fn every_handled_event_without_a_payload_passes_the_hosts_checks() {
    assert_every_subscription_scopes::<Limits>(&[None, Some("{}"), Some("null")], no_errors);
}

#[test]
fn rejects_unknown_and_empty_events() {
    assert_rejects_unknown::<Limits>(&[("milestone", "milestone.reached")]);
}

#[test]
fn a_payload_that_is_not_an_object_is_refused() {
    let e = event("limits", "limits.set", Some("[1]"));
    assert!(matches!(
        Limits::handle(&e, &Context::new(&NoEvents)),
        Err(ProjectionError::InvalidPayload(_))
    ));
}
