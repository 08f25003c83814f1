//! `org_members_projection`: the members of an organization (reference §2.3).
//!
//! A member table of the SDK ([`member`]) scoped by `org_id`;
//! `user_resource_owner` comes from the member user's creation event.

use projection_sdk::member::{self, MemberTable, Scope};
use projection_sdk::{TableModule, aggregate_removed, instance_removed};

/// The table name.
pub(crate) const TABLE: &str = "org_members_projection";

/// What distinguishes the org members from other member tables.
pub(crate) struct Members;

impl MemberTable for Members {
    const NAME: &'static str = TABLE;
    const AGGREGATE_TYPE: &'static str = "org";
    const SCOPE: &'static [Scope] = &[Scope::aggregate_id("org_id")];
    const ADDED: &'static [&'static str] = &["org.member.added"];
    const CHANGED: &'static [&'static str] = &["org.member.changed"];
    const REMOVED: &'static [&'static str] = &["org.member.cascade.removed", "org.member.removed"];
    const TENANT_INDEX: &'static str = "om_instance";
}

/// The table and what each event does to it: `org.removed` takes the org's
/// members and the members whose user belonged to the org.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    member::table::<Members>,
    &[
        member::added::<Members>(),
        member::changed::<Members>(),
        member::removed::<Members>(),
        aggregate_removed(
            "org",
            &["org.removed"],
            &["resource_owner", "user_resource_owner"],
        ),
        instance_removed(),
        aggregate_removed("user", &["user.removed"], &["user_id"]),
    ],
);

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, EventList, NoEvents, ProjectionError, delete, insert, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    const ADDED: &str = r#"{"userId":"user-id","roles":["role"]}"#;

    fn user_created(event_type: &str, owner: &str) -> projection_sdk::Event {
        let mut user = event("user", event_type, Some(r#"{"userName":"u"}"#));
        user.aggregate_id = "user-id".to_owned();
        user.owner = owner.to_owned();
        user
    }

    fn member_row(user_owner: &str) -> projection_sdk::Mutation {
        insert(TABLE)
            .value("org_id", "agg-id")
            .value("user_id", "user-id")
            .value("user_resource_owner", user_owner)
            .value("roles", vec!["role".to_owned()])
            .value("resource_owner", "ro-id")
            .build()
    }

    #[test]
    fn added_takes_the_owner_of_the_latest_creation_event() {
        let e = event("org", "org.member.added", Some(ADDED));
        let store = EventList(vec![
            user_created("user.human.added", "org2"),
            user_created("user.username.changed", "org3"),
            user_created("user.machine.added", "org1"),
        ]);
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&store)),
            Ok(Some(vec![member_row("org1")]))
        );
    }

    #[test]
    fn added_without_user_is_not_found() {
        let e = event("org", "org.member.added", Some(ADDED));
        let store = EventList(vec![user_created("user.added", "org1")]);
        assert!(matches!(
            MODULE.reduce(&e, &Context::new(&store)),
            Err(ProjectionError::NotFound(_))
        ));
    }

    #[test]
    fn changed_replaces_the_roles() {
        let e = event(
            "org",
            "org.member.changed",
            Some(r#"{"userId":"user-id","roles":["role","changed"]}"#),
        );
        let expected = update(TABLE)
            .set("roles", vec!["role".to_owned(), "changed".to_owned()])
            .eq("user_id", "user-id")
            .eq("org_id", "agg-id")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn user_removed_deletes_the_users_memberships() {
        let e = event("user", "user.removed", None);
        let expected = delete(TABLE).eq("user_id", "agg-id").build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
