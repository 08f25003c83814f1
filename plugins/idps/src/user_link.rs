//! `idp_user_links_projection`: which external IdP accounts a user is
//! linked to (reference §6.13).
//!
//! The link events are the user's (`user_id` is the aggregate id,
//! `resource_owner` the user's org). Their payload names the IdP by
//! `idpConfigId` and the external account by `userId` (reference §9.5).
//! A removed legacy IdP config removes the links owned by the event's
//! owner: for an instance's config that is the instance, which owns no
//! link, as in the reference. The new-style `*.idp.removed` events leave
//! links alone.

use projection_sdk::{
    ColumnType, Context, Event, Mutation, ProjectionError, Table, TableModule, UpdateBuilder,
    aggregate_removed, delete, insert, instance_removed, on, update,
};

use crate::config::LEGACY_ID;

/// The table name.
const TABLE: &str = "idp_user_links_projection";

/// The payload key of the external account.
const EXTERNAL_USER_ID: &str = "userId";

/// The table and what each event does to it.
pub(crate) const MODULE: TableModule = TableModule::new(
    TABLE,
    table,
    &[
        on("user", &["user.human.externalidp.added"], added),
        on(
            "user",
            &[
                "user.human.externalidp.removed",
                "user.human.externalidp.cascade.removed",
            ],
            removed,
        ),
        aggregate_removed("user", &["user.removed"], &["user_id"]),
        on("user", &["user.human.externalidp.id.migrated"], id_migrated),
        on(
            "user",
            &["user.human.externalidp.username.changed"],
            username_changed,
        ),
        on("org", &["org.idp.config.removed"], idp_config_removed),
        on("instance", &["iam.idp.config.removed"], idp_config_removed),
        aggregate_removed("org", &["org.removed"], &["resource_owner"]),
        instance_removed(),
    ],
);

/// The table declaration.
fn table() -> Table {
    Table::new(TABLE)
        .column("idp_id", ColumnType::Text)
        .column("user_id", ColumnType::Text)
        .column("external_user_id", ColumnType::Text)
        .column("creation_date", ColumnType::Timestamp)
        .column("change_date", ColumnType::Timestamp)
        .column("sequence", ColumnType::Int)
        .column("resource_owner", ColumnType::Text)
        .column("instance_id", ColumnType::Text)
        .column("display_name", ColumnType::Text)
        .column_default("owner_removed", ColumnType::Boolean, false)
        .primary_key(&["instance_id", "idp_id", "external_user_id"])
        .index("user_id", &["user_id"], &[])
        .index("owner_removed", &["owner_removed"], &[])
}

/// An update of the user's link to the payload's IdP and external account
/// `external_user_id`.
fn link(event: &Event, external_user_id: String) -> Result<UpdateBuilder, ProjectionError> {
    Ok(update(TABLE)
        .eq("idp_id", event.payload()?.text_or_empty(LEGACY_ID)?)
        .eq("user_id", &event.aggregate_id)
        .eq("external_user_id", external_user_id))
}

/// `user.human.externalidp.added`: the user is linked to the account.
fn added(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        insert(TABLE)
            .value("idp_id", payload.text_or_empty(LEGACY_ID)?)
            .value("user_id", &event.aggregate_id)
            .value("external_user_id", payload.text_or_empty(EXTERNAL_USER_ID)?)
            .value("resource_owner", &event.owner)
            .value("display_name", payload.text_or_empty("displayName")?)
            .build(),
    ])
}

/// `user.human.externalidp.(cascade.)removed`: the link goes.
fn removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    Ok(vec![
        delete(TABLE)
            .eq("idp_id", payload.text_or_empty(LEGACY_ID)?)
            .eq("user_id", &event.aggregate_id)
            .eq("external_user_id", payload.text_or_empty(EXTERNAL_USER_ID)?)
            .build(),
    ])
}

/// `user.human.externalidp.id.migrated`: the account's id `previousId`
/// becomes `newId`.
fn id_migrated(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let row = link(event, payload.text_or_empty("previousId")?)?;
    Ok(vec![
        row.set("external_user_id", payload.text_or_empty("newId")?)
            .build(),
    ])
}

/// `user.human.externalidp.username.changed`: the display name is the
/// account's new `username`.
fn username_changed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    let payload = event.payload()?;
    let row = link(event, payload.text_or_empty(EXTERNAL_USER_ID)?)?;
    Ok(vec![
        row.set("display_name", payload.text_or_empty("username")?)
            .build(),
    ])
}

/// `*.idp.config.removed`: the IdP's links owned by the event's owner.
fn idp_config_removed(event: &Event, _ctx: &Context<'_>) -> Result<Vec<Mutation>, ProjectionError> {
    Ok(vec![
        delete(TABLE)
            .eq("idp_id", event.payload()?.text_or_empty(LEGACY_ID)?)
            .eq("resource_owner", &event.owner)
            .build(),
    ])
}

#[cfg(test)]
mod tests {
    use projection_sdk::testing::event;
    use projection_sdk::{Context, Mutation, NoEvents, insert, update};

    use super::{MODULE, TABLE};

    fn reduce(event_type: &str, payload: &str) -> Option<Vec<Mutation>> {
        let e = event("user", event_type, Some(payload));
        MODULE.reduce(&e, &Context::new(&NoEvents)).unwrap()
    }

    #[test]
    fn added_without_fields_links_empty_ids() {
        let expected = insert(TABLE)
            .value("idp_id", "")
            .value("user_id", "agg-id")
            .value("external_user_id", "")
            .value("resource_owner", "ro-id")
            .value("display_name", "")
            .build();
        assert_eq!(
            reduce("user.human.externalidp.added", "{}"),
            Some(vec![expected])
        );
    }

    #[test]
    fn a_migrated_account_id_matches_the_previous_one() {
        let expected = update(TABLE)
            .eq("idp_id", "idp")
            .eq("user_id", "agg-id")
            .eq("external_user_id", "old")
            .set("external_user_id", "new")
            .build();
        assert_eq!(
            reduce(
                "user.human.externalidp.id.migrated",
                r#"{"idpConfigId":"idp","previousId":"old","newId":"new"}"#
            ),
            Some(vec![expected])
        );
    }

    #[test]
    fn the_new_style_idp_removal_is_not_taken() {
        let e = event("org", "org.idp.removed", Some(r#"{"id":"idp"}"#));
        assert_eq!(MODULE.reduce(&e, &Context::new(&NoEvents)), Ok(None));
    }
}
