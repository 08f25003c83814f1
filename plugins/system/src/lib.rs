//! The system table family: rows that belong to the whole installation,
//! not to a tenant.
//!
//! | table | module |
//! |---|---|
//! | `system_features_projection` | `feature.rs` |
//!
//! Its tables are system-scoped: they declare no `instance_id` column
//! ([`projection_sdk::Table::is_system_scoped`]). The host lets only events
//! of the system tenant (`instance_id` `''`, as the reference's system API
//! writes them) write them, and refuses a tenant's event that tries; the
//! system tenant's events in turn write no tenant's table. So the family
//! has no `instance.removed` handler: removing an instance never touches
//! installation-wide rows.

mod feature;

projection_sdk::family! {
    /// The system table family.
    System, name: "system", version: "0.1.0", tables: [feature]
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::validate::{Rejection, SYSTEM_TENANT, scope};
    use projection_sdk::{Context, Family, NoEvents, ProjectionError};

    use super::System;

    fn system_event(event_type: &str, payload: Option<&str>) -> projection_sdk::Event {
        let mut e = event("feature", event_type, payload);
        e.instance_id = SYSTEM_TENANT.to_owned();
        e.aggregate_id = "SYSTEM".to_owned();
        e.owner = "SYSTEM".to_owned();
        e
    }

    #[test]
    fn describes_one_system_scoped_table_without_instance_removal() {
        let description = System::describe();
        assert_eq!(description.name, "system");
        assert!(description.tables.iter().all(|t| t.is_system_scoped()));
        assert!(description.wants("feature", "feature.system.login_v2.set"));
        assert!(description.wants("feature", "feature.system.reset"));
        assert!(!description.wants("instance", "instance.removed"));
        assert!(!description.wants("feature", "feature.instance.login_v2.set"));
    }

    #[test]
    fn every_mutation_of_a_system_event_passes_the_hosts_checks() {
        let description = System::describe();
        let ctx = Context::new(&NoEvents);
        for (event_type, payload) in [
            ("feature.system.login_v2.set", Some(r#"{"value":{"required":true}}"#)),
            ("feature.system.improved_performance.set", Some(r#"{"Value":[1]}"#)),
            ("feature.system.user_schema.set", None),
            ("feature.system.reset", None),
        ] {
            let e = system_event(event_type, payload);
            for mutation in System::handle(&e, &ctx).unwrap() {
                assert!(scope(&description, &e, mutation).is_ok(), "{event_type}");
            }
        }
    }

    #[test]
    fn a_tenants_event_cannot_write_the_system_table() {
        let description = System::describe();
        let e = event("feature", "feature.system.login_v2.set", Some(r#"{"value":true}"#));
        let mutations = System::handle(&e, &Context::new(&NoEvents)).unwrap();
        for mutation in mutations {
            assert!(matches!(
                scope(&description, &e, mutation),
                Err(Rejection::TenantWritesSystemTable { .. })
            ));
        }
    }

    #[test]
    fn rejects_unknown_and_empty_events() {
        let ctx = Context::new(&NoEvents);
        let mut empty = event("", "", None);
        empty.instance_id.clear();
        empty.aggregate_id.clear();
        assert!(matches!(
            System::handle(&empty, &ctx),
            Err(ProjectionError::UnhandledEvent(_))
        ));
        let other = system_event("feature.system.oidc_single_v1_session_termination.set", None);
        assert!(matches!(
            System::handle(&other, &ctx),
            Err(ProjectionError::UnhandledEvent(_))
        ));
    }
}
