//! The user grants table family (reference §4.10).
//!
//! Projects the `usergrant` aggregate, plus the `user`, `project`, `org` and
//! `instance` events that cascade into grants, into one table:
//!
//! | table | module |
//! |---|---|
//! | `user_grants_projection` | `user_grant.rs` (look-ups in `lookup.rs`) |
//!
//! Why a family of its own rather than part of `users`: a new grant needs
//! facts from other aggregates' events (the orgs of the user, the project
//! and the project grant, reference §9.1), and project events (`project.
//! role.removed`, `project.grant.changed`, …) fan out into existing grants.
//! Neither concerns the user tables; keeping them apart keeps the users
//! plugin free of event-store look-ups and project subscriptions, and lets
//! either family be rebuilt alone.
//!
//! [`UserGrants`] runs the table's handlers; the host scopes every mutation
//! to the event's tenant and stamps `change_date`/`sequence` (and
//! `creation_date` on inserts), except the project-driven role changes,
//! which the reference does not bump (reference §9.4).

mod lookup;
mod user_grant;

projection_sdk::family! {
    /// The user grants table family.
    UserGrants, name: "user_grants", version: "0.1.0", tables: [user_grant]
}

#[cfg(test)]
projection_conformance::passes!(UserGrants, "user_grant");

#[cfg(test)]
mod tests {
    use projection_sdk::validate::scope;
    use projection_sdk::{Context, Family, NoEvents, ProjectionError};

    use super::UserGrants;
    use projection_sdk::testing::event;

    #[test]
    fn describes_one_tenant_scoped_table() {
        let description = UserGrants::describe();
        assert_eq!(description.name, "user_grants");
        let names: Vec<&str> = description.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["user_grants_projection"]);
        assert_eq!(description.tables[0].primary_key, ["instance_id", "id"]);
        for (aggregate, event_type) in [
            ("usergrant", "user.grant.added"),
            ("user", "user.removed"),
            ("project", "project.grant.cascade.changed"),
            ("org", "org.removed"),
            ("instance", "instance.removed"),
        ] {
            assert!(description.wants(aggregate, event_type), "{event_type}");
        }
    }

    #[test]
    fn every_mutation_but_the_looked_up_insert_passes_the_hosts_checks() {
        let description = UserGrants::describe();
        for sub in &description.subscriptions {
            for event_type in &sub.event_types {
                let e = event(&sub.aggregate_type, event_type, Some("{}"));
                match UserGrants::handle(&e, &Context::new(&NoEvents)) {
                    Ok(mutations) => {
                        for m in mutations {
                            scope(&description, &e, m).unwrap();
                        }
                    }
                    Err(error) => {
                        assert_eq!(event_type, "user.grant.added");
                        assert!(matches!(error, ProjectionError::NotFound(_)));
                    }
                }
            }
        }
    }

    #[test]
    fn rejects_unknown_and_empty_events() {
        let ctx = Context::new(&NoEvents);
        let mut empty = event("", "", None);
        empty.instance_id.clear();
        assert!(matches!(
            UserGrants::handle(&empty, &ctx),
            Err(ProjectionError::UnhandledEvent(_))
        ));
        let other = event("user", "user.human.added", Some("{}"));
        assert!(matches!(
            UserGrants::handle(&other, &ctx),
            Err(ProjectionError::UnhandledEvent(_))
        ));
    }
}
