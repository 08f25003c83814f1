//! `project_members_projection`: the members of a project (reference §3.4).
//!
//! A member table of the SDK ([`member`]) scoped by `project_id`;
//! `user_resource_owner` comes from the member user's creation event.

use projection_sdk::member::{self, MemberTable, Scope};
use projection_sdk::{TableModule, aggregate_removed, instance_removed};

/// The table name.
pub(crate) const TABLE: &str = "project_members_projection";

/// What distinguishes the project members from other member tables.
pub(crate) struct Members;

impl MemberTable for Members {
    const NAME: &'static str = TABLE;
    const AGGREGATE_TYPE: &'static str = "project";
    const SCOPE: &'static [Scope] = &[Scope::aggregate_id("project_id")];
    const ADDED: &'static [&'static str] = &["project.member.added"];
    const CHANGED: &'static [&'static str] = &["project.member.changed"];
    const REMOVED: &'static [&'static str] =
        &["project.member.cascade.removed", "project.member.removed"];
    const TENANT_INDEX: &'static str = "pm_instance";
}

/// The table and what each event does to it: `org.removed` takes the
/// members of the org's projects and the members whose user belonged to
/// the org.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    member::table::<Members>,
    &[
        member::added::<Members>(),
        member::changed::<Members>(),
        member::removed::<Members>(),
        aggregate_removed("project", &["project.removed"], &["project_id"]),
        aggregate_removed("user", &["user.removed"], &["user_id"]),
        aggregate_removed(
            "org",
            &["org.removed"],
            &["resource_owner", "user_resource_owner"],
        ),
        instance_removed(),
    ],
);

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, EventList, NoEvents, ProjectionError, insert};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    const ADDED: &str = r#"{"userId":"user-id","roles":["role"]}"#;

    #[test]
    fn declares_the_member_table_of_a_project() {
        let table = MODULE.table();
        assert_eq!(table.primary_key, ["instance_id", "project_id", "user_id"]);
        let indexes: Vec<&str> = table.indexes.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(indexes, ["user_id", "pm_instance"]);
    }

    #[test]
    fn added_takes_the_owner_of_the_users_creation_event() {
        let e = event("project", "project.member.added", Some(ADDED));
        let mut user = event("user", "user.machine.added", Some("{}"));
        user.aggregate_id = "user-id".to_owned();
        user.owner = "org1".to_owned();
        let expected = insert(TABLE)
            .value("project_id", "agg-id")
            .value("user_id", "user-id")
            .value("user_resource_owner", "org1")
            .value("roles", vec!["role".to_owned()])
            .value("resource_owner", "ro-id")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&EventList(vec![user]))),
            Ok(Some(vec![expected]))
        );
        assert!(matches!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Err(ProjectionError::NotFound(_))
        ));
    }
}
