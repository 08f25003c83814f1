//! The instances table family.
//!
//! Projects the events of the `instance` aggregate (plus `org.removed`,
//! `user.removed` and the instance-level `feature` events) into five tables,
//! one module each:
//!
//! | table | module |
//! |---|---|
//! | `instances_projection` | `instance.rs` |
//! | `instance_domains_projection` | `domain.rs` |
//! | `instance_trusted_domains_projection` | `trusted_domain.rs` |
//! | `instance_members_projection` | `member.rs` |
//! | `instance_features_projection` | `feature.rs` |
//!
//! Every table module states its table and its handlers (`event types →
//! reducer`, removals declared); [`Instances`] runs them in table order and
//! concatenates their mutations, so an event that touches several tables
//! (`instance.removed`) yields its mutations table by table.
//!
//! The host scopes every mutation to the event's tenant and stamps
//! `change_date`/`sequence` (and `creation_date` on inserts), so the reducers
//! never write those columns themselves.

mod domain;
mod feature;
mod instance;
mod member;
mod trusted_domain;

projection_sdk::family! {
    /// The instances table family.
    Instances,
    name: "instances",
    version: "0.1.1",
    tables: [instance, domain, trusted_domain, member, feature],
}

#[cfg(test)]
projection_conformance::passes!(
    Instances,
    "instance",
    "instance_domain",
    "instance_trusted_domain",
    "instance_member",
    "instance_features",
);

#[cfg(test)]
mod tests {
    use projection_sdk::testing::{
        assert_describes, assert_every_subscription_scopes, assert_rejects_unknown,
        assert_subscribes, event,
    };
    use projection_sdk::{Context, Family, NoEvents, ProjectionError, delete};

    use super::Instances;

    #[test]
    fn describes_five_tenant_scoped_tables() {
        assert_describes::<Instances>(
            "instances",
            "0.1.1",
            &[
                "instances_projection",
                "instance_domains_projection",
                "instance_trusted_domains_projection",
                "instance_members_projection",
                "instance_features_projection",
            ],
        );
        assert_subscribes::<Instances>(
            &[
                ("instance", "instance.removed"),
                ("org", "org.removed"),
                ("user", "user.removed"),
                ("feature", "feature.instance.login_v2.set"),
                ("feature", "feature.featurelogindefaultorg.set"),
            ],
            &[("feature", "feature.system.login_v2.set")],
        );
    }

    /// The instance's own row goes by its id, the other tables' by tenant.
    #[test]
    fn instance_removed_clears_every_table() {
        let e = event("instance", "instance.removed", None);
        let got = Instances::handle(&e, &Context::new(&NoEvents));
        let mut expected = vec![delete("instances_projection").eq("id", "agg-id").build()];
        expected.extend(
            [
                "instance_domains_projection",
                "instance_trusted_domains_projection",
                "instance_members_projection",
                "instance_features_projection",
            ]
            .map(|t| delete(t).eq("instance_id", "instance-id").build()),
        );
        assert_eq!(got, Ok(expected));
    }

    /// An added member's user is looked up, and there are no stored events.
    #[test]
    fn every_mutation_but_the_looked_up_member_passes_the_hosts_checks() {
        assert_every_subscription_scopes::<Instances>(&[None, Some("{}")], |e, error| {
            e.event_type == "instance.member.added" && matches!(error, ProjectionError::NotFound(_))
        });
    }

    #[test]
    fn rejects_unknown_and_empty_events() {
        assert_rejects_unknown::<Instances>(&[("org", "org.added")]);
    }
}
