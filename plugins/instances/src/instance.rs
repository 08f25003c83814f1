//! `instances_projection`: one row per instance (reference §1.1).
//!
//! Zitadel keys the table by `id` alone; the canonical schema adds
//! `instance_id` (always equal to `id`) and keys by it. Rows are addressed by
//! `id`, as in the reference: `id = event.instance_id`, except that
//! `instance.removed` deletes `id = event.aggregate_id` (the same value for
//! real instance events). The host adds `instance_id = <tenant>` to every
//! condition.

use projection_sdk::{ColumnType, Context, Description, Event, Table, delete, insert, update};

use projection_sdk::Reduced;

/// The table name.
pub(crate) const TABLE: &str = "instances_projection";

/// The `instance` events this table reduces.
const EVENTS: &[&str] = &[
    "instance.added",
    "instance.changed",
    "instance.removed",
    "instance.default.org.set",
    "instance.iam.project.set",
    "instance.iam.console.set",
    "instance.default.language.set",
];

/// The table declaration.
pub(crate) fn table() -> Table {
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

/// Add the table's subscriptions.
pub(crate) fn subscribe(description: Description) -> Description {
    description.subscribe("instance", EVENTS)
}

/// Reduce one event.
pub(crate) fn reduce(event: &Event, _ctx: &Context<'_>) -> Reduced {
    let row = || update(TABLE).eq("id", &event.instance_id);
    let mutation = match event.event_type.as_str() {
        "instance.added" => {
            let name = event.payload()?.text_or_empty("name")?;
            insert(TABLE)
                .value("id", &event.instance_id)
                .value("name", name)
                .build()
        }
        "instance.changed" => {
            let name = event.payload()?.text_or_empty("name")?;
            row().set("name", name).build()
        }
        "instance.removed" => delete(TABLE).eq("id", &event.aggregate_id).build(),
        "instance.default.org.set" => {
            let org_id = event.payload()?.text_or_empty("orgId")?;
            row().set("default_org_id", org_id).build()
        }
        "instance.iam.project.set" => {
            let project_id = event.payload()?.text_or_empty("iamProjectId")?;
            row().set("iam_project_id", project_id).build()
        }
        "instance.iam.console.set" => {
            let payload = event.payload()?;
            row()
                .set("console_client_id", payload.text_or_empty("clientId")?)
                .set("console_app_id", payload.text_or_empty("appId")?)
                .build()
        }
        "instance.default.language.set" => {
            let language = event.payload()?.text_or_empty("language")?;
            row().set("default_language", language).build()
        }
        _ => return Ok(None),
    };
    Ok(Some(vec![mutation]))
}

#[cfg(test)]
mod tests {
    use projection_sdk::{Context, NoEvents, delete, insert, update};

    use super::{TABLE, reduce};
    use projection_sdk::testing::event;

    #[test]
    fn removed_deletes_by_id_the_aggregate_id() {
        let e = event("instance", "instance.removed", None);
        let expected = delete(TABLE).eq("id", "agg-id").build();
        assert_eq!(
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
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
            reduce(&e, &Context::new(&NoEvents)),
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
        assert_eq!(reduce(&e, &Context::new(&NoEvents)), Ok(None));
    }
}
