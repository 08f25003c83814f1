//! `instances_projection`: one row per instance (reference §1.1).
//!
//! Zitadel keys the table by `id` alone; the canonical schema adds
//! `instance_id` (always equal to `id`) and keys by it. Rows are addressed by
//! `id`, as in the reference: `id = event.instance_id`, except that
//! `instance.removed` deletes `id = event.aggregate_id` (the same value for
//! real instance events). The host adds `instance_id = <tenant>` to every
//! condition.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, UpdateBuilder,
    aggregate_removed, insert, on, update,
};

/// The table name.
pub(crate) const TABLE: &str = "instances_projection";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("instance", &["instance.added"], added),
        on("instance", &["instance.changed"], |event, _| {
            set(event, "name", event.payload()?.text_or_empty("name")?)
        }),
        aggregate_removed("instance", &["instance.removed"], &["id"]),
        on("instance", &["instance.default.org.set"], |event, _| {
            set(
                event,
                "default_org_id",
                event.payload()?.text_or_empty("orgId")?,
            )
        }),
        on("instance", &["instance.iam.project.set"], |event, _| {
            let project_id = event.payload()?.text_or_empty("iamProjectId")?;
            set(event, "iam_project_id", project_id)
        }),
        on("instance", &["instance.iam.console.set"], console_set),
        on(
            "instance",
            &["instance.default.language.set"],
            |event, _| {
                let language = event.payload()?.text_or_empty("language")?;
                set(event, "default_language", language)
            },
        ),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("instance_id", ColumnType::Text)
        .column("id", ColumnType::Text)
        .column_default("name", ColumnType::Text, "")
        .column("change_date", ColumnType::Timestamp)
        .column("creation_date", ColumnType::Timestamp)
        .column_default("default_org_id", ColumnType::Text, "")
        .column_default("iam_project_id", ColumnType::Text, "")
        .column_default("console_client_id", ColumnType::Text, "")
        .column_default("console_app_id", ColumnType::Text, "")
        .column("sequence", ColumnType::Int)
        .column_default("default_language", ColumnType::Text, "")
        .primary_key(&["instance_id"])
}

/// An update of the event's instance row.
fn row(event: &Event) -> UpdateBuilder {
    update(TABLE).eq("id", &event.instance_id)
}

/// Set one column of the event's instance row.
fn set(event: &Event, column: &str, text: String) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![row(event).set(column, text).build()])
}

/// `instance.added`: the instance row.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let name = event.payload()?.text_or_empty("name")?;
    Ok(vec![
        insert(TABLE)
            .value("id", &event.instance_id)
            .value("name", name)
            .build(),
    ])
}

/// `instance.iam.console.set`: the console's client and app.
fn console_set(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        row(event)
            .set("console_client_id", payload.text_or_empty("clientId")?)
            .set("console_app_id", payload.text_or_empty("appId")?)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, delete, insert, update};

    use super::{MODULE, TABLE};
    use projection_sdk::testing::event;

    #[test]
    fn removed_deletes_by_id_the_aggregate_id() {
        let e = event("instance", "instance.removed", None);
        let expected = delete(TABLE).eq("id", "agg-id").build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn added_inserts_the_instance_row() {
        let e = event("instance", "instance.added", Some(r#"{"name":"Name"}"#));
        let expected = insert(TABLE)
            .value("id", "instance-id")
            .value("name", "Name")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn default_org_set_updates_by_instance_id() {
        let e = event(
            "instance",
            "instance.default.org.set",
            Some(r#"{"orgId":"orgid"}"#),
        );
        let expected = update(TABLE)
            .eq("id", "instance-id")
            .set("default_org_id", "orgid")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn console_set_reads_keys_in_any_case() {
        let e = event(
            "instance",
            "instance.iam.console.set",
            Some(r#"{"clientid":"client","APPID":"app"}"#),
        );
        let expected = update(TABLE)
            .eq("id", "instance-id")
            .set("console_client_id", "client")
            .set("console_app_id", "app")
            .build();
        assert_eq!(
            MODULE.reduce(&e, &Context::new(&NoEvents)),
            Ok(Some(vec![expected]))
        );
    }

    #[test]
    fn ignores_other_events() {
        let e = event(
            "instance",
            "instance.domain.added",
            Some(r#"{"domain":"d"}"#),
        );
        assert_eq!(MODULE.reduce(&e, &Context::new(&NoEvents)), Ok(None));
    }
}
