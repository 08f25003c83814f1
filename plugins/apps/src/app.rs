//! `apps_projection`: one row per application of a project (reference §3.6).
//!
//! The config sub-tables hang off this table, so removing an app's row
//! (the app, its project, its org or the instance) removes its config row
//! too. Every config event also "touches" the app (change_date and sequence
//! only): after the config's own change, and only when that change writes
//! something.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, UpdateBuilder,
    aggregate_removed, delete, insert, instance_removed, on, update,
};

use crate::field::app_id;
use crate::{api_config, oidc_config, saml_config};

/// The table name.
pub(crate) const TABLE: &str = "apps_projection";

/// `state`: active.
const STATE_ACTIVE: i64 = 1;

/// `state`: inactive.
const STATE_INACTIVE: i64 = 2;

/// The config events that always write their config row, so always touch
/// the app.
const CONFIG_WRITTEN: &[&str] = &[
    api_config::ADDED,
    api_config::SECRET_CHANGED,
    api_config::SECRET_UPDATED,
    oidc_config::ADDED,
    oidc_config::SECRET_CHANGED,
    oidc_config::SECRET_UPDATED,
    saml_config::ADDED,
];

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("project", &["project.application.added"], added),
        on("project", &["project.application.changed"], changed),
        on(
            "project",
            &["project.application.deactivated"],
            |event, _| state(event, STATE_INACTIVE),
        ),
        on(
            "project",
            &["project.application.reactivated"],
            |event, _| state(event, STATE_ACTIVE),
        ),
        on("project", &["project.application.removed"], removed),
        aggregate_removed("project", &["project.removed"], &["project_id"]),
        on("project", CONFIG_WRITTEN, |event, _| touch_if(event, true)),
        on("project", &[api_config::CHANGED], |event, _| {
            touch_if(event, !api_config::changes(&event.payload()?)?.is_empty())
        }),
        on("project", &[oidc_config::CHANGED], |event, _| {
            touch_if(event, !oidc_config::changes(&event.payload()?)?.is_empty())
        }),
        on("project", &[saml_config::CHANGED], |event, _| {
            touch_if(event, !saml_config::changes(&event.payload()?)?.is_empty())
        }),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("id", ColumnType::Text)
        .column("name", ColumnType::Text)
        .column("project_id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("state", ColumnType::SmallInt)
        .column("sequence", ColumnType::Int)
        .primary_key(&["instance_id", "id"])
        .index("project_id", &["project_id"], &[])
}

/// An update of the event's app (`appId`).
fn row(event: &Event) -> Result<UpdateBuilder, ProjectionError> {
    Ok(update(TABLE).eq("id", app_id(&event.payload()?)?))
}

/// `project.application.added`: an active app of the event's project.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        insert(TABLE)
            .value("id", app_id(&payload)?)
            .value("name", payload.text_or_empty("name")?)
            .value("project_id", &event.aggregate_id)
            .value("resource_owner", &event.owner)
            .value("state", STATE_ACTIVE)
            .build(),
    ])
}

/// `project.application.changed`: a new name, when it has one.
fn changed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let name = event.payload()?.text_or_empty("name")?;
    if name.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![row(event)?.set("name", name).build()])
}

/// Set the app's state.
fn state(event: &Event, state: i64) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![row(event)?.set("state", state).build()])
}

/// `project.application.removed`: the app (its config row goes with it).
fn removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let app = app_id(&event.payload()?)?;
    Ok(vec![delete(TABLE).eq("id", app).build()])
}

/// "touch app" when `changed`: stamp the app's row with the event, change
/// nothing else.
fn touch_if(event: &Event, changed: bool) -> Result<Vec<Mutation>, ProjectionError> {
    if !changed {
        return Ok(Vec::new());
    }
    Ok(vec![
        row(event)?
            .set("change_date", event.created_at_value())
            .set("sequence", event.sequence)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::CREATED_AT;
    use projection_sdk::{Value, delete, insert, update};

    use super::{MODULE, TABLE};
    use crate::tests::reduce;

    #[test]
    fn added_inserts_an_active_app_of_the_project() {
        let expected = insert(TABLE)
            .value("id", "app-id")
            .value("name", "my-app")
            .value("project_id", "agg-id")
            .value("resource_owner", "ro-id")
            .value("state", 1)
            .build();
        assert_eq!(
            reduce(
                &MODULE,
                "project.application.added",
                r#"{"appId":"app-id","name":"my-app"}"#
            ),
            Some(vec![expected])
        );
    }

    #[test]
    fn added_without_fields_inserts_empty_texts() {
        let Some(mutations) = reduce(&MODULE, "project.application.added", "{}") else {
            panic!("not reduced");
        };
        let expected = insert(TABLE)
            .value("id", "")
            .value("name", "")
            .value("project_id", "agg-id")
            .value("resource_owner", "ro-id")
            .value("state", 1)
            .build();
        assert_eq!(mutations, vec![expected]);
    }

    #[test]
    fn changed_with_an_empty_name_does_nothing() {
        for payload in [r#"{"appId":"app-id"}"#, r#"{"appId":"app-id","name":""}"#] {
            assert_eq!(
                reduce(&MODULE, "project.application.changed", payload),
                Some(vec![])
            );
        }
    }

    #[test]
    fn removed_deletes_the_app_not_the_project() {
        let expected = delete(TABLE).eq("id", "app-id").build();
        assert_eq!(
            reduce(
                &MODULE,
                "project.application.removed",
                r#"{"appId":"app-id"}"#
            ),
            Some(vec![expected])
        );
    }

    #[test]
    fn project_removed_deletes_the_projects_apps() {
        let expected = delete(TABLE).eq("project_id", "agg-id").build();
        assert_eq!(
            reduce(&MODULE, "project.removed", "{}"),
            Some(vec![expected])
        );
    }

    #[test]
    fn a_config_change_without_changes_does_not_touch_the_app() {
        for event_type in [
            "project.application.config.api.changed",
            "project.application.config.oidc.changed",
            "project.application.config.saml.changed",
        ] {
            assert_eq!(
                reduce(&MODULE, event_type, r#"{"appId":"app-id"}"#),
                Some(vec![]),
                "{event_type}"
            );
        }
    }

    #[test]
    fn a_secret_update_touches_the_app() {
        let expected = update(TABLE)
            .eq("id", "app-id")
            .set("change_date", Value::Timestamp(CREATED_AT))
            .set("sequence", 15)
            .build();
        assert_eq!(
            reduce(
                &MODULE,
                "project.application.config.oidc.secret.updated",
                r#"{"appId":"app-id","hashedSecret":"h"}"#
            ),
            Some(vec![expected])
        );
    }
}
