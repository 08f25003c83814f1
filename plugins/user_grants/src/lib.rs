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
    use projection_sdk::ProjectionError;
    use projection_sdk::testing::{
        assert_describes, assert_every_subscription_scopes, assert_instance_removed_clears,
        assert_rejects_unknown, assert_subscribes,
    };

    use super::UserGrants;

    #[test]
    fn describes_one_tenant_scoped_table() {
        let description =
            assert_describes::<UserGrants>("user_grants", "0.1.0", &["user_grants_projection"]);
        assert_eq!(description.tables[0].primary_key, ["instance_id", "id"]);
        assert_subscribes::<UserGrants>(
            &[
                ("usergrant", "user.grant.added"),
                ("user", "user.removed"),
                ("project", "project.grant.cascade.changed"),
                ("org", "org.removed"),
                ("instance", "instance.removed"),
            ],
            &[],
        );
    }

    #[test]
    fn instance_removed_clears_the_table() {
        assert_instance_removed_clears::<UserGrants>();
    }

    /// A new grant looks up its user, project and grant, and there are no
    /// stored events.
    #[test]
    fn every_mutation_but_the_looked_up_insert_passes_the_hosts_checks() {
        assert_every_subscription_scopes::<UserGrants>(&[None, Some("{}")], |e, error| {
            e.event_type == "user.grant.added" && matches!(error, ProjectionError::NotFound(_))
        });
    }

    #[test]
    fn rejects_unknown_and_empty_events() {
        assert_rejects_unknown::<UserGrants>(&[("user", "user.human.added")]);
    }
}
