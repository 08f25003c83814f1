//! The facts a new user grant needs that its event does not carry
//! (reference §9.1): the orgs of the granted user and project, and the org
//! the project was granted to.
//!
//! Like the reference, they come from the event store, not from other
//! projections, so the order in which families catch up does not matter.

use projection_sdk::{Context, EventFilter, ProjectionError};

/// The user events that create a user; their owner is the user's org. The
/// legacy `user.added`/`user.selfregistered` are not searched, as in the
/// reference.
const USER_CREATED: &[&str] = &[
    "user.human.added",
    "user.human.selfregistered",
    "user.machine.added",
];

/// The project event whose owner is the project's org.
const PROJECT_ADDED: &str = "project.added";

/// The project event that grants the project to another org.
const PROJECT_GRANT_ADDED: &str = "project.grant.added";

/// The looked-up columns of a user grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owners {
    /// `resource_owner_user`.
    pub(crate) user: String,
    /// `resource_owner_project` ('' without a project).
    pub(crate) project: String,
    /// `granted_org` ('' without a project grant).
    pub(crate) granted_org: String,
}

/// Look up the owners of a grant of `project_id` (and project grant
/// `grant_id`, when not empty) to `user_id`; a fact that is missing is an
/// error, as in the reference.
pub(crate) fn owners(
    ctx: &Context<'_>,
    user_id: &str,
    project_id: &str,
    grant_id: &str,
) -> Result<Owners, ProjectionError> {
    let user = latest_owner(ctx, "user", user_id, USER_CREATED)
        .ok_or_else(|| not_found(format!("creation event of user {user_id:?}")))?;
    if project_id.is_empty() && grant_id.is_empty() {
        return Ok(Owners {
            user,
            project: String::new(),
            granted_org: String::new(),
        });
    }
    let events = ctx.find_events(&EventFilter {
        aggregate_type: "project".to_owned(),
        aggregate_ids: vec![project_id.to_owned()],
        event_types: vec![PROJECT_ADDED.to_owned(), PROJECT_GRANT_ADDED.to_owned()],
    });
    let mut project = String::new();
    if !project_id.is_empty() {
        project = events
            .iter()
            .rev()
            .find(|e| e.event_type == PROJECT_ADDED)
            .map(|e| e.owner.clone())
            .ok_or_else(|| not_found(format!("{PROJECT_ADDED} of project {project_id:?}")))?;
    }
    let mut granted_org = String::new();
    if !grant_id.is_empty() {
        granted_org = events
            .iter()
            .rev()
            .filter(|e| e.event_type == PROJECT_GRANT_ADDED)
            .filter_map(|e| e.payload().ok())
            .filter(|p| p.text("grantId").ok().flatten().as_deref() == Some(grant_id))
            .find_map(|p| p.text_or_empty("grantedOrgId").ok())
            .ok_or_else(|| not_found(format!("{PROJECT_GRANT_ADDED} of grant {grant_id:?}")))?;
    }
    Ok(Owners {
        user,
        project,
        granted_org,
    })
}

/// The owner of the latest event of `event_types` on the aggregate.
fn latest_owner(
    ctx: &Context<'_>,
    aggregate_type: &str,
    id: &str,
    event_types: &[&str],
) -> Option<String> {
    let filter = EventFilter {
        aggregate_type: aggregate_type.to_owned(),
        aggregate_ids: vec![id.to_owned()],
        event_types: event_types.iter().map(|t| (*t).to_owned()).collect(),
    };
    ctx.find_events(&filter).pop().map(|e| e.owner)
}

fn not_found(what: String) -> ProjectionError {
    ProjectionError::NotFound(what)
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, EventList, ProjectionError};

    use super::{Owners, owners};
    use projection_sdk::testing::event;

    fn stored(
        aggregate_type: &str,
        id: &str,
        event_type: &str,
        owner: &str,
        payload: &str,
    ) -> projection_sdk::Event {
        let mut e = event(aggregate_type, event_type, Some(payload));
        e.aggregate_id = id.to_owned();
        e.owner = owner.to_owned();
        e
    }

    #[test]
    fn finds_the_grant_by_its_id() {
        let store = EventList(vec![
            stored("user", "u", "user.machine.added", "org1", "{}"),
            stored("project", "p", "project.added", "org2", "{}"),
            stored(
                "project",
                "p",
                "project.grant.added",
                "org2",
                r#"{"grantId":"g1","grantedOrgId":"org3"}"#,
            ),
            stored(
                "project",
                "p",
                "project.grant.added",
                "org2",
                r#"{"grantId":"g2","grantedOrgId":"org4"}"#,
            ),
        ]);
        let ctx = Context::new(&store);
        let found = owners(&ctx, "u", "p", "g1");
        let expected = Owners {
            user: "org1".to_owned(),
            project: "org2".to_owned(),
            granted_org: "org3".to_owned(),
        };
        assert_eq!(found, Ok(expected));
        assert!(matches!(
            owners(&ctx, "u", "p", "g9"),
            Err(ProjectionError::NotFound(_))
        ));
        assert!(matches!(
            owners(&ctx, "x", "p", ""),
            Err(ProjectionError::NotFound(_))
        ));
    }

    #[test]
    fn legacy_user_events_are_not_searched() {
        let store = EventList(vec![stored("user", "u", "user.added", "org1", "{}")]);
        let ctx = Context::new(&store);
        assert!(matches!(
            owners(&ctx, "u", "", ""),
            Err(ProjectionError::NotFound(_))
        ));
    }
}
