//! `instance_members_projection`: the members of an instance (reference §1.4).
//!
//! A member table of the SDK ([`member`]): the instance's own id is the
//! scope, so changes and removals match the user alone. `user_resource_owner`
//! comes from the member user's creation event.

use projection_sdk::member::{self, MemberTable, Scope};
use projection_sdk::{TableModule, aggregate_removed, instance_removed};

/// The table name.
pub(crate) const TABLE: &str = "instance_members_projection";

/// What distinguishes the instance members from other member tables.
pub(crate) struct Members;

impl MemberTable for Members {
    const NAME: &'static str = TABLE;
    const AGGREGATE_TYPE: &'static str = "instance";
    const SCOPE: &'static [Scope] = &[Scope::tenant("id")];
    const ADDED: &'static [&'static str] = &["instance.member.added"];
    const CHANGED: &'static [&'static str] = &["instance.member.changed"];
    const REMOVED: &'static [&'static str] =
        &["instance.member.cascade.removed", "instance.member.removed"];
    const TENANT_INDEX: &'static str = "im_instance";
}

/// The table and what each event does to it: `org.removed` takes the
/// members whose user belonged to the org.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    member::table::<Members>,
    &[
        member::added::<Members>(),
        member::changed::<Members>(),
        member::removed::<Members>(),
        instance_removed(),
        aggregate_removed("org", &["org.removed"], &["user_resource_owner"]),
        aggregate_removed("user", &["user.removed"], &["user_id"]),
    ],
);

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, EventList, NoEvents, ProjectionError, delete, insert, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    const ADDED: &str = r#"{"userId":"user-id","roles":["role"]}"#;

    fn user_added(owner: &str, sequence: i64) -> projection_sdk::Event {
        let mut user = event("user", "user.human.added", Some(r#"{"userName":"u"}"#));
        user.aggregate_id = "user-id".to_owned();
        user.owner = owner.to_owned();
        user.sequence = sequence;
        user
    }

    fn member_row(user_owner: &str) -> projection_sdk::Mutation {
        insert(TABLE)
            .value("id", "agg-id")
            .value("user_id", "user-id")
            .value("user_resource_owner", user_owner)
            .value("roles", vec!["role".to_owned()])
            .value("resource_owner", "ro-id")
            .build()
    }

    #[test]
    fn added_looks_up_the_user_owner() {
        let e = event("instance", "instance.member.added", Some(ADDED));
        let store = EventList(vec![user_added("org1", 1)]);
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&store)),
            Ok(Some(vec![member_row("org1")]))
        );
    }

    #[test]
    fn added_takes_the_latest_creation_event() {
        let e = event("instance", "instance.member.added", Some(ADDED));
        let store = EventList(vec![user_added("org2", 1), user_added("org1", 2)]);
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&store)),
            Ok(Some(vec![member_row("org1")]))
        );
    }

    #[test]
    fn added_without_user_is_not_found() {
        let e = event("instance", "instance.member.added", Some(ADDED));
        assert!(matches!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Err(ProjectionError::NotFound(_))
        ));
    }

    #[test]
    fn changed_replaces_the_roles() {
        let e = event(
            "instance",
            "instance.member.changed",
            Some(r#"{"userid":"user-id","Roles":["a","b"]}"#),
        );
        let expected = update(TABLE)
            .set("roles", vec!["a".to_owned(), "b".to_owned()])
            .eq("user_id", "user-id")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn org_removed_deletes_members_of_the_org() {
        let e = event("org", "org.removed", None);
        let expected = delete(TABLE).eq("user_resource_owner", "agg-id").build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }
}
