//! The projects table family (reference §3.1–3.5).
//!
//! Projects the events of the `project` aggregate (plus `org.removed`,
//! `user.removed` and `instance.removed`) into five tables, one module
//! each:
//!
//! | table | module |
//! |---|---|
//! | `projects_projection` | `project.rs` |
//! | `project_roles_projection` | `role.rs` |
//! | `project_grants_projection` | `grant.rs` |
//! | `project_members_projection` | `member.rs` |
//! | `project_grant_members_projection` | `grant_member.rs` |
//!
//! Every table module states its table and its handlers (`event types →
//! reducer`, removals declared); [`Projects`] runs them in table order and
//! concatenates their mutations, so an event that touches several tables
//! (`project.removed`, `project.grant.removed`, `org.removed`,
//! `instance.removed`) yields its mutations table by table. The two member
//! tables are the SDK's member tables
//! ([`projection_sdk::member`]): an added member's `user_resource_owner`
//! (and a grant member's `granted_org`) come from the event store, so an
//! added member whose user or grant is not found is an error.
//!
//! The host scopes every mutation to the event's tenant and stamps
//! `change_date`/`sequence` (and `creation_date` on inserts), so the reducers
//! never write those columns themselves; `project.owner.corrected` on the
//! grants is not stamped (reference §9.4).

mod grant;
mod grant_member;
mod member;
mod project;
mod role;

projection_sdk::family! {
    /// The projects table family.
    Projects,
    name: "projects",
    version: "0.1.0",
    tables: [project, role, grant, member, grant_member],
}

#[cfg(test)]
projection_conformance::passes!(
    Projects,
    "project",
    "project_role",
    "project_grant",
    "project_member",
    "project_grant_member",
);

#[cfg(test)]
mod tests {
    use projection_sdk::testing::{
        assert_describes, assert_every_subscription_scopes, assert_instance_removed_clears,
        assert_rejects_unknown, assert_scoped, assert_subscribes, event,
    };
    use projection_sdk::{Context, EventList, Family, NoEvents, ProjectionError, delete};

    use super::Projects;

    #[test]
    fn describes_five_tenant_scoped_tables() {
        assert_describes::<Projects>(
            "projects",
            "0.1.0",
            &[
                "projects_projection",
                "project_roles_projection",
                "project_grants_projection",
                "project_members_projection",
                "project_grant_members_projection",
            ],
        );
        assert_subscribes::<Projects>(
            &[
                ("project", "project.added"),
                ("project", "project.owner.corrected"),
                ("project", "project.grant.member.cascade.removed"),
                ("org", "org.removed"),
                ("user", "user.removed"),
                ("instance", "instance.removed"),
            ],
            &[("user", "user.human.added")],
        );
    }

    #[test]
    fn project_removed_fans_out_table_by_table() {
        let e = event("project", "project.removed", None);
        let expected = vec![
            delete("projects_projection").eq("id", "agg-id").build(),
            delete("project_roles_projection")
                .eq("project_id", "agg-id")
                .build(),
            delete("project_grants_projection")
                .eq("project_id", "agg-id")
                .build(),
            delete("project_members_projection")
                .eq("project_id", "agg-id")
                .build(),
            delete("project_grant_members_projection")
                .eq("project_id", "agg-id")
                .build(),
        ];
        assert_eq!(Projects::handle(&e, &Context::new(&NoEvents)), Ok(expected));
    }

    #[test]
    fn grant_removed_takes_the_grant_and_its_members() {
        let e = event(
            "project",
            "project.grant.removed",
            Some(r#"{"grantId":"grant-id"}"#),
        );
        let expected = [
            "project_grants_projection",
            "project_grant_members_projection",
        ]
        .map(|t| {
            delete(t)
                .eq("grant_id", "grant-id")
                .eq("project_id", "agg-id")
                .build()
        });
        assert_eq!(
            Projects::handle(&e, &Context::new(&NoEvents)),
            Ok(expected.to_vec())
        );
    }

    #[test]
    fn org_removed_fans_out_to_owners_users_and_granted_orgs() {
        let e = event("org", "org.removed", None);
        let by = |table: &str, column: &str| delete(table).eq(column, "agg-id").build();
        let expected = vec![
            by("projects_projection", "resource_owner"),
            by("project_roles_projection", "resource_owner"),
            by("project_grants_projection", "resource_owner"),
            by("project_grants_projection", "granted_org_id"),
            by("project_members_projection", "resource_owner"),
            by("project_members_projection", "user_resource_owner"),
            by("project_grant_members_projection", "resource_owner"),
            by("project_grant_members_projection", "user_resource_owner"),
            by("project_grant_members_projection", "granted_org"),
        ];
        assert_eq!(Projects::handle(&e, &Context::new(&NoEvents)), Ok(expected));
    }

    #[test]
    fn user_removed_takes_the_users_memberships() {
        let e = event("user", "user.removed", None);
        let expected = [
            "project_members_projection",
            "project_grant_members_projection",
        ]
        .map(|t| delete(t).eq("user_id", "agg-id").build());
        assert_eq!(
            Projects::handle(&e, &Context::new(&NoEvents)),
            Ok(expected.to_vec())
        );
    }

    #[test]
    fn instance_removed_clears_every_table() {
        assert_instance_removed_clears::<Projects>();
    }

    #[test]
    fn every_mutation_passes_the_hosts_checks() {
        let mut user = event("user", "user.human.added", Some("{}"));
        user.aggregate_id = "user-id".to_owned();
        let grant = event(
            "project",
            "project.grant.added",
            Some(r#"{"grantId":"grant-id","grantedOrgId":"org"}"#),
        );
        let store = EventList(vec![user, grant]);
        let member = r#"{"userId":"user-id","grantId":"grant-id","roles":["r"]}"#;
        for (event_type, payload) in [
            ("project.added", None),
            (
                "project.changed",
                Some(r#"{"name":"n","hasProjectCheck":true}"#),
            ),
            ("project.deactivated", None),
            ("project.role.added", None),
            ("project.role.changed", Some(r#"{"key":"k","group":"g"}"#)),
            ("project.grant.added", None),
            ("project.grant.changed", Some(r#"{"grantId":"g"}"#)),
            ("project.owner.corrected", None),
            ("project.member.added", Some(member)),
            ("project.member.changed", Some(member)),
            ("project.grant.member.added", Some(member)),
            ("project.grant.member.removed", Some(member)),
        ] {
            let e = event("project", event_type, payload);
            let mutations = assert_scoped::<Projects>(&e, &Context::new(&store));
            assert!(!mutations.is_empty(), "{event_type}");
        }
    }

    /// Added members are looked up, and there are no stored events.
    #[test]
    fn every_mutation_but_the_looked_up_members_passes_the_hosts_checks() {
        assert_every_subscription_scopes::<Projects>(&[None, Some("{}")], |e, error| {
            e.event_type.ends_with("member.added") && matches!(error, ProjectionError::NotFound(_))
        });
    }

    #[test]
    fn rejects_unknown_and_empty_events() {
        assert_rejects_unknown::<Projects>(&[("project", "project.application.added")]);
    }
}
