//! The orgs table family.
//!
//! Projects the events of the `org` aggregate (plus `instance.removed` and
//! `user.removed`) into four tables, one module each:
//!
//! | table | module |
//! |---|---|
//! | `orgs_projection` | `org.rs` |
//! | `org_domains_projection` | `domain.rs` |
//! | `org_members_projection` | `member.rs` |
//! | `org_metadata_projection` | `metadata.rs` |
//!
//! Every table module states its table and its handlers (`event types →
//! reducer`, removals declared); [`Orgs`] runs them in table order and
//! concatenates their mutations, so an event that touches several tables
//! (`org.removed`, `org.domain.primary.set`, `instance.removed`) yields its
//! mutations table by table.
//!
//! The host scopes every mutation to the event's tenant and stamps
//! `change_date`/`sequence` (and `creation_date` on inserts), so the reducers
//! never write those columns themselves.

mod domain;
mod member;
mod metadata;
mod org;

projection_sdk::family! {
    /// The orgs table family.
    Orgs, name: "orgs", version: "0.1.0", tables: [org, domain, member, metadata]
}

#[cfg(test)]
projection_conformance::passes!(Orgs, "org", "org_domain", "org_member", "org_metadata");

#[cfg(test)]
mod tests {
    use projection_sdk::testing::{
        assert_describes, assert_every_subscription_scopes, assert_instance_removed_clears,
        assert_rejects_unknown, assert_subscribes, event,
    };
    use projection_sdk::{Context, Family, NoEvents, ProjectionError, delete, update};

    use super::Orgs;

    #[test]
    fn describes_four_tenant_scoped_tables() {
        assert_describes::<Orgs>(
            "orgs",
            "0.1.0",
            &[
                "orgs_projection",
                "org_domains_projection",
                "org_members_projection",
                "org_metadata_projection",
            ],
        );
        assert_subscribes::<Orgs>(
            &[
                ("org", "org.metadata.removed.all"),
                ("instance", "instance.removed"),
                ("user", "user.removed"),
            ],
            &[("org", "instance.removed")],
        );
    }

    #[test]
    fn org_removed_fans_out_table_by_table() {
        let e = event("org", "org.removed", None);
        let expected = vec![
            delete("orgs_projection").eq("id", "agg-id").build(),
            delete("org_domains_projection")
                .eq("org_id", "agg-id")
                .build(),
            delete("org_members_projection")
                .eq("resource_owner", "agg-id")
                .build(),
            delete("org_members_projection")
                .eq("user_resource_owner", "agg-id")
                .build(),
            update("org_metadata_projection")
                .set("owner_removed", true)
                .eq("resource_owner", "agg-id")
                .build(),
        ];
        assert_eq!(Orgs::handle(&e, &Context::new(&NoEvents)), Ok(expected));
    }

    #[test]
    fn instance_removed_clears_every_table() {
        assert_instance_removed_clears::<Orgs>();
    }

    #[test]
    fn org_changed_without_name_is_a_no_op() {
        let e = event("org", "org.changed", Some("{}"));
        assert_eq!(Orgs::handle(&e, &Context::new(&NoEvents)), Ok(vec![]));
    }

    /// An added member's user is looked up, and there are no stored events.
    #[test]
    fn every_mutation_but_the_looked_up_member_passes_the_hosts_checks() {
        assert_every_subscription_scopes::<Orgs>(&[None, Some("{}")], |e, error| {
            e.event_type == "org.member.added" && matches!(error, ProjectionError::NotFound(_))
        });
    }

    #[test]
    fn rejects_unknown_and_empty_events() {
        assert_rejects_unknown::<Orgs>(&[("instance", "instance.added")]);
    }
}
