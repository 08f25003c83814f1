//! `project_grant_members_projection`: the members of a project grant
//! (reference §3.5).
//!
//! A member table of the SDK ([`member`]) scoped by `project_id` and the
//! payload's `grantId`. Besides `user_resource_owner`, an added member's
//! `granted_org` comes from the event store: the org of the grant's
//! `project.grant.added` (reference §9.1).

use projection_sdk::member::{self, LookedUp, MemberTable, Scope};
use projection_sdk::{
    Context, Event, EventFilter, Mutation, Payload, ProjectionError, TableModule,
    aggregate_removed, delete, instance_removed, on,
};

/// The table name.
pub(crate) const TABLE: &str = "project_grant_members_projection";

/// The project event that grants the project to another org.
const GRANT_ADDED: &str = "project.grant.added";

/// What distinguishes the project grant members from other member tables.
pub(crate) struct Members;

impl MemberTable for Members {
    const NAME: &'static str = TABLE;
    const AGGREGATE_TYPE: &'static str = "project";
    const SCOPE: &'static [Scope] = &[
        Scope::aggregate_id("project_id"),
        Scope::payload("grant_id", "grantId"),
    ];
    const ADDED: &'static [&'static str] = &["project.grant.member.added"];
    const CHANGED: &'static [&'static str] = &["project.grant.member.changed"];
    const REMOVED: &'static [&'static str] = &[
        "project.grant.member.cascade.removed",
        "project.grant.member.removed",
    ];
    const TENANT_INDEX: &'static str = "pgm_instance";
    const LOOKED_UP: &'static [LookedUp] = &[LookedUp {
        column: "granted_org",
        find: granted_org,
    }];
}

/// The table and what each event does to it: `org.removed` takes the
/// members of the org's projects, the members whose user belonged to the
/// org and the members of grants to the org.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    member::table::<Members>,
    &[
        member::added::<Members>(),
        member::changed::<Members>(),
        member::removed::<Members>(),
        aggregate_removed("user", &["user.removed"], &["user_id"]),
        aggregate_removed("project", &["project.removed"], &["project_id"]),
        on("project", &["project.grant.removed"], grant_removed),
        aggregate_removed(
            "org",
            &["org.removed"],
            &["resource_owner", "user_resource_owner", "granted_org"],
        ),
        instance_removed(),
    ],
);

/// The org the member's grant was made to: `grantedOrgId` of the latest
/// `project.grant.added` of the event's project with the member's
/// `grantId`; NotFound when there is none or it names no org.
fn granted_org(
    event: &Event,
    payload: &Payload,
    ctx: &Context<'_>,
) -> Result<String, ProjectionError> {
    let grant_id = payload.text_or_empty("grantId")?;
    let filter = EventFilter {
        aggregate_type: "project".to_owned(),
        aggregate_ids: vec![event.aggregate_id.clone()],
        event_types: vec![GRANT_ADDED.to_owned()],
    };
    ctx.find_events(&filter)
        .iter()
        .rev()
        .filter_map(|added| added.payload().ok())
        .find(|added| added.text("grantId").ok().flatten().as_deref() == Some(&grant_id))
        .and_then(|added| added.text("grantedOrgId").ok().flatten())
        .filter(|org| !org.is_empty())
        .ok_or_else(|| ProjectionError::NotFound(format!("{GRANT_ADDED} of grant {grant_id:?}")))
}

/// `project.grant.removed`: the members of the grant.
fn grant_removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        delete(TABLE)
            .eq("grant_id", event.payload()?.text_or_empty("grantId")?)
            .eq("project_id", &event.aggregate_id)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{ColumnType, Context, Event, EventList, ProjectionError, Reduced, insert};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    const ADDED: &str = r#"{"userId":"user-id","grantId":"grant-id","roles":["role"]}"#;

    fn stored(aggregate_type: &str, id: &str, event_type: &str, payload: &str) -> Event {
        let mut e = event(aggregate_type, event_type, Some(payload));
        e.aggregate_id = id.to_owned();
        e.owner = "org1".to_owned();
        e
    }

    fn user() -> Event {
        stored("user", "user-id", "user.human.added", "{}")
    }

    fn grant(project_id: &str, grant_id: &str, org: &str) -> Event {
        let payload = format!(r#"{{"grantId":"{grant_id}","grantedOrgId":"{org}"}}"#);
        stored("project", project_id, "project.grant.added", &payload)
    }

    fn added(store: Vec<Event>) -> Reduced {
        let e = event("project", "project.grant.member.added", Some(ADDED));
        MODULE.reduce(&e, &Context::new(&EventList(store)))
    }

    #[test]
    fn declares_the_granted_org_after_the_scope() {
        let table = MODULE.table();
        let tail: Vec<&str> = table.columns[8..].iter().map(|c| c.name.as_str()).collect();
        assert_eq!(tail, ["project_id", "grant_id", "granted_org"]);
        assert_eq!(
            table
                .find_column("granted_org")
                .map(|c| (c.kind, c.nullable)),
            Some((ColumnType::Text, false))
        );
        assert_eq!(
            table.primary_key,
            ["instance_id", "project_id", "grant_id", "user_id"]
        );
    }

    #[test]
    fn added_looks_up_the_user_owner_and_the_granted_org() {
        let store = vec![
            user(),
            grant("agg-id", "other-grant", "org2"),
            grant("other-project", "grant-id", "org3"),
            grant("agg-id", "grant-id", "org4"),
            grant("agg-id", "grant-id", "org5"),
        ];
        let expected = insert(TABLE)
            .value("project_id", "agg-id")
            .value("grant_id", "grant-id")
            .value("user_id", "user-id")
            .value("user_resource_owner", "org1")
            .value("granted_org", "org5")
            .value("roles", vec!["role".to_owned()])
            .value("resource_owner", "ro-id")
            .build();
        assert_eq!(added(store), Ok(Some(vec![expected])));
    }

    #[test]
    fn added_without_user_or_grant_is_not_found() {
        for store in [
            vec![grant("agg-id", "grant-id", "org2")],
            vec![user()],
            vec![user(), grant("agg-id", "other-grant", "org2")],
            vec![user(), grant("agg-id", "grant-id", "")],
        ] {
            assert!(matches!(added(store), Err(ProjectionError::NotFound(_))));
        }
    }
}
