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
    use projection_sdk::testing::{
        assert_every_subscription_scopes, assert_rejects_unknown, assert_subscribes, event,
        no_errors,
    };
    use projection_sdk::validate::{Rejection, SYSTEM_TENANT, scope};
    use projection_sdk::{Context, Family, NoEvents};

    use super::System;

    #[test]
    fn describes_one_system_scoped_table_without_instance_removal() {
        let description = System::describe();
        assert_eq!(description.name, "system");
        assert!(description.tables.iter().all(|t| t.is_system_scoped()));
        assert_subscribes::<System>(
            &[
                ("feature", "feature.system.login_v2.set"),
                ("feature", "feature.system.reset"),
            ],
            &[
                ("instance", "instance.removed"),
                ("feature", "feature.instance.login_v2.set"),
            ],
        );
    }

    #[test]
    fn every_mutation_of_a_system_event_passes_the_hosts_checks() {
        let payloads = [
            None,
            Some(r#"{"value":{"required":true}}"#),
            Some(r#"{"Value":[1]}"#),
        ];
        let handled = assert_every_subscription_scopes::<System>(&payloads, no_errors);
        assert!(handled.iter().all(|(e, _)| e.instance_id == SYSTEM_TENANT));
    }

    #[test]
    fn a_tenants_event_cannot_write_the_system_table() {
        let description = System::describe();
        let e = event(
            "feature",
            "feature.system.login_v2.set",
            Some(r#"{"value":true}"#),
        );
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
        assert_rejects_unknown::<System>(&[(
            "feature",
            "feature.system.oidc_single_v1_session_termination.set",
        )]);
    }
}
